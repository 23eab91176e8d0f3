import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { lowerPlan, planStatement, tablesRead } from '../../src/planner/index.js';
import { fingerprint } from '../../src/planner/fingerprint.js';
import { checkSlots } from '../../src/views/statement-plan.js';
import { Graph } from '../../src/dataflow/graph.js';
import { RotorError } from '../../src/errors.js';
import type { ColumnInfo, TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const int = (name: string, notNull = false): ColumnInfo => ({ name, dataType: 'int', scale: 0, collation: null, ...(notNull ? { notNull: true } : {}) });
const tables: Record<string, TableSchema> = {
  story: { database: 'd', table: 'story', columns: [{ ...int('id', true), primary: true }, int('author_id', true), int('editor_id'), int('score')] },
  user: { database: 'd', table: 'user', columns: [{ ...int('id', true), primary: true }, int('team_id'), int('active', true)] },
  banned: { database: 'd', table: 'banned', columns: [int('user_id', true), int('reason'), int('maybe')] },
};

const plan = (sql: string) => {
  const statement = parseStatement(sql);
  const p = planStatement(statement, tablesRead(statement).map((t) => tables[t.table]));
  const fp = fingerprint(sql);
  assert.ok(fp !== null);
  checkSlots(p, fp);
  return p;
};
const nodes = (sql: string) => lowerPlan(new Graph(), plan(sql), 'c').nodes.map((n) => n.describe());
const rejects = (sql: string, pattern: RegExp): void => {
  assert.throws(() => plan(sql), (e: unknown) => e instanceof RotorError && pattern.test(e.message), sql);
};

describe('semi-join and anti-join pass [note: anti-join]', () => {
  it('reads EXISTS correlated by equality as the IN (SELECT …) it is', () => {
    assert.deepEqual(
      nodes('SELECT id FROM story s WHERE s.author_id = ? AND EXISTS (SELECT 1 FROM user u WHERE u.id = s.editor_id AND u.active = 1)'),
      nodes('SELECT id FROM story s WHERE s.author_id = ? AND s.editor_id IN (SELECT u.id FROM user u WHERE u.active = 1)'),
    );
    // The literal of `SELECT 1` is a slot of the statement as written.
    assert.deepEqual(plan('SELECT id FROM story s WHERE s.author_id = ? AND EXISTS (SELECT 1 FROM user u WHERE u.id = s.editor_id)').slots.map((x) => x.kind), ['param', 'const']);
  });

  it('reads NOT EXISTS as a left join kept where the subquery has no row, over every correlated column', () => {
    const p = plan('SELECT id, score FROM story s WHERE s.author_id = ? AND NOT EXISTS (SELECT * FROM banned b WHERE b.user_id = s.author_id AND b.reason = s.score AND b.maybe > 2)');
    assert.ok(p.kind === 'join');
    assert.deepEqual(p.join.steps.map((x) => x.kind), ['left']);
    assert.deepEqual(p.join.sources[1].aggregate?.groupBy.length, 2);
    assert.deepEqual(p.select.map((c) => c.name), ['id', 'score']);
    assert.ok(nodes('SELECT id FROM story s WHERE s.author_id = ? AND NOT EXISTS (SELECT 1 FROM banned b WHERE b.user_id = s.author_id)').some((d) => /IS NULL/.test(d)));
    // NOT (EXISTS …) is NOT EXISTS.
    assert.deepEqual(nodes('SELECT id FROM story s WHERE s.author_id = ? AND NOT (EXISTS (SELECT 1 FROM banned b WHERE b.user_id = s.author_id))'),
      nodes('SELECT id FROM story s WHERE s.author_id = ? AND NOT EXISTS (SELECT 1 FROM banned b WHERE b.user_id = s.author_id)'));
  });

  it('reads NOT IN over NOT NULL columns as NOT EXISTS, and refuses it where either side may be NULL', () => {
    assert.deepEqual(
      nodes('SELECT id FROM story WHERE author_id = ? AND author_id NOT IN (SELECT user_id FROM banned WHERE reason = 1)').map((d) => d.replace(/__in_not\d+/g, 'x')),
      nodes('SELECT id FROM story s WHERE author_id = ? AND NOT EXISTS (SELECT 1 FROM banned b WHERE b.user_id = s.author_id AND reason = 1)').map((d) => d.replace(/__in\d+/g, 'x').replace(/\bb\.|\bs\./g, '')),
    );
    rejects('SELECT id FROM story WHERE author_id = ? AND editor_id NOT IN (SELECT user_id FROM banned)', /may be NULL/);
    rejects('SELECT id FROM story WHERE author_id = ? AND author_id NOT IN (SELECT maybe FROM banned)', /may be NULL/);
    // The outer column NULL-extended by a LEFT JOIN may be NULL too.
    rejects('SELECT s.id FROM story s LEFT JOIN user u ON u.id = s.editor_id WHERE s.author_id = ? AND u.id NOT IN (SELECT user_id FROM banned)', /may be NULL/);
  });

  it('refuses subqueries it cannot keep as a join: other correlations, aggregates, no correlation, under OR', () => {
    rejects('SELECT id FROM story s WHERE s.author_id = ? AND EXISTS (SELECT 1 FROM user u WHERE u.id > s.editor_id)', /correlated otherwise/);
    rejects('SELECT id FROM story s WHERE s.author_id = ? AND EXISTS (SELECT COUNT(*) FROM user u WHERE u.id = s.editor_id)', /aggregate/);
    rejects('SELECT id FROM story s WHERE s.author_id = ? AND EXISTS (SELECT 1 FROM user u WHERE u.active = 1)', /not correlated/);
    rejects('SELECT id FROM story s WHERE s.author_id = ? AND (NOT EXISTS (SELECT 1 FROM user u WHERE u.id = s.editor_id) OR s.score = 1)', /subquery|EXISTS/);
    rejects('SELECT id FROM story s WHERE s.author_id = ? AND EXISTS (SELECT 1 FROM user u WHERE u.id = s.editor_id LIMIT 1)', /one column of one table/);
    rejects('SELECT id FROM story s WHERE s.author_id = ? AND EXISTS (SELECT 1 FROM user u WHERE u.id = s.editor_id AND u.team_id = ?)', /parameter/);
  });
});

describe('scalar-subquery pass [note: scalar-subquery]', () => {
  it('reads an aggregate scalar subquery as a left join with the grouped subquery', () => {
    assert.deepEqual(
      nodes('SELECT s.id, (SELECT MAX(b.reason) FROM banned b WHERE b.user_id = s.author_id) AS worst FROM story s WHERE s.id = ?').map((d) => d.replace(/__in_scalar\d+_?/g, '')),
      nodes('SELECT s.id, x.v AS worst FROM story s LEFT JOIN (SELECT b.user_id AS k0, MAX(b.reason) AS v FROM banned b GROUP BY b.user_id) AS x ON s.author_id = x.k0 WHERE s.id = ?').map((d) => d.replace(/\bx\./g, '')),
    );
  });

  it('reads a scalar subquery on the whole primary key as a left join with that table', () => {
    const p = plan('SELECT id, (SELECT u.team_id FROM user u WHERE u.id = s.editor_id AND u.active = 1) FROM story s WHERE s.author_id = ?');
    assert.ok(p.kind === 'join');
    assert.deepEqual(p.join.steps.map((x) => x.kind), ['left']);
    assert.equal(p.select.length, 2);
    // `SELECT *` does not show the subquery's table.
    const star = plan('SELECT *, (SELECT u.team_id FROM user u WHERE u.id = s.editor_id) FROM story s WHERE s.author_id = ?');
    assert.ok(star.kind === 'join');
    assert.equal(star.select.length, 5);
  });

  it('refuses what a left join would not answer as MariaDB does', () => {
    rejects('SELECT id, (SELECT COUNT(*) FROM banned b WHERE b.user_id = s.author_id) FROM story s WHERE s.id = ?', /COUNT is 0/);
    rejects('SELECT id, (SELECT b.reason FROM banned b WHERE b.user_id = s.author_id) FROM story s WHERE s.id = ?', /more than one row/);
    rejects('SELECT id, (SELECT u.team_id FROM user u WHERE u.active = s.author_id) FROM story s WHERE s.id = ?', /more than one row/);
    rejects('SELECT id, (SELECT MAX(u.id) FROM user u) FROM story s WHERE s.id = ?', /not correlated/);
    rejects('SELECT id, (SELECT u.team_id FROM user u WHERE u.id = s.editor_id LIMIT 1) FROM story s WHERE s.id = ?', /one column of one table/);
  });
});
