import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { lowerPlan, PASSES, planStatement, tablesRead } from '../../src/planner/index.js';
import { Graph } from '../../src/dataflow/graph.js';
import type { ColumnInfo, TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const int = (name: string): ColumnInfo => ({ name, dataType: 'int', scale: 0, collation: null });
const tables: Record<string, TableSchema> = {
  story: { database: 'd', table: 'story', columns: [int('id'), int('author_id')] },
  user: { database: 'd', table: 'user', columns: [int('id'), int('team_id'), int('active')] },
  team: { database: 'd', table: 'team', columns: [int('id'), int('active')] },
  vote: { database: 'd', table: 'vote', columns: [int('story_id'), int('user_id')] },
};

const plan = (sql: string) => {
  const statement = parseStatement(sql);
  return planStatement(statement, tablesRead(statement).map((t) => tables[t.table]));
};

describe('planner entry', () => {
  it('runs the CTE pass first, the views pass, the derived-merge pass, then the right-join pass before the semi-join pass, which adds a table to FROM', () => {
    assert.deepEqual(PASSES.map((p) => p.name), ['cte', 'views', 'derived-merge', 'right-join', 'semi-join', 'scalar-subquery']);
    const p = plan('SELECT u.id, s.id FROM story s RIGHT JOIN user u ON u.id = s.author_id WHERE u.id = ? AND u.team_id IN (SELECT id FROM team WHERE active = 1)');
    assert.ok(p.kind === 'join');
    assert.deepEqual(p.join.sources.map((s) => s.schema.table), ['user', 'story', 'team']);
    assert.deepEqual(p.join.steps.map((s) => s.kind), ['left', 'inner']);
  });

  it('tags each plan with its kind and lowers it through that kind\'s builder', () => {
    const kinds = ['SELECT id FROM story WHERE author_id = ?', 'SELECT s.id FROM story s JOIN user u ON u.id = s.author_id WHERE s.id = ?', 'SELECT id FROM story WHERE author_id = ? UNION SELECT id FROM story WHERE id = ?']
      .map((sql) => {
        const p = plan(sql);
        const built = lowerPlan(new Graph(), p, 'c');
        return [p.kind, built.nodes.some((n) => n.kind === 'join'), built.nodes.some((n) => n.kind === 'union')];
      });
    assert.deepEqual(kinds, [['select', false, false], ['join', true, false], ['union', false, true]]);
  });

  it('[note: cte-names] plans a WITH as the derived tables written out: same plan, same tables', () => {
    const written = 'SELECT s.id, vc.votes FROM story s LEFT JOIN (SELECT story_id, COUNT(user_id) AS votes FROM vote GROUP BY story_id) AS vc ON vc.story_id = s.id WHERE s.id = ?';
    const cte = 'WITH vc AS (SELECT story_id, COUNT(user_id) AS votes FROM vote GROUP BY story_id) SELECT s.id, vc.votes FROM story s LEFT JOIN vc ON vc.story_id = s.id WHERE s.id = ?';
    const named = 'WITH counted (sid, votes) AS (SELECT story_id, COUNT(user_id) FROM vote GROUP BY story_id), vc AS (SELECT sid AS story_id, votes FROM counted) SELECT s.id, vc.votes FROM story s LEFT JOIN vc ON vc.story_id = s.id WHERE s.id = ?';
    assert.deepEqual(tablesRead(parseStatement(cte)), tablesRead(parseStatement(written)));
    const describe = (sql: string) => lowerPlan(new Graph(), plan(sql), 'c').nodes.map((n) => n.describe());
    assert.deepEqual(describe(cte), describe(written));
    // A CTE over a CTE, renaming its columns: a derived table of a grouped derived table, merged
    // into it ([note: derived-merge]).
    assert.deepEqual(describe(named), describe(written));
    const renamed = plan('WITH counted (story_id, votes) AS (SELECT story_id, COUNT(user_id) FROM vote GROUP BY story_id) SELECT s.id, counted.votes FROM story s LEFT JOIN counted ON counted.story_id = s.id WHERE s.id = ?');
    assert.deepEqual(describe(written), lowerPlan(new Graph(), renamed, 'c').nodes.map((n) => n.describe()).map((d) => d.replace(/counted/g, 'vc')));
    const aliased = plan('WITH u AS (SELECT id, team_id FROM user) SELECT s.id, x.team_id FROM story s JOIN u AS x ON x.id = s.author_id WHERE s.id = ?');
    assert.ok(aliased.kind === 'join');
    assert.deepEqual(aliased.join.sources.map((src) => src.name), ['s', 'x']);
  });

  it('[note: cte-names] refuses WITH RECURSIVE, a name that is also a table, and a name defined twice', () => {
    assert.throws(() => tablesRead(parseStatement('WITH RECURSIVE r AS (SELECT id FROM story) SELECT id FROM r WHERE id = ?')), /WITH RECURSIVE/);
    assert.throws(() => tablesRead(parseStatement('WITH story AS (SELECT id, author_id FROM story WHERE author_id = 1) SELECT id FROM story WHERE id = ?')), /names both a common table expression and a table/);
    assert.throws(() => plan('WITH t AS (SELECT id FROM story) SELECT id FROM story WHERE id = ? AND id IN (SELECT id FROM user WHERE team_id IN (SELECT id FROM t))'), /subquer/);
    assert.throws(() => tablesRead(parseStatement('WITH a AS (SELECT id FROM story), a AS (SELECT id FROM user) SELECT id FROM a WHERE id = ?')), /defined twice/);
    assert.throws(() => tablesRead(parseStatement('WITH `İ` AS (SELECT id FROM story) SELECT s.id FROM story s JOIN `i̇` x ON x.id = s.id WHERE s.id = ?')), /not ASCII/);
    assert.throws(() => tablesRead(parseStatement('WITH a (x, y) AS (SELECT id FROM story) SELECT x FROM a WHERE x = ?')), /names 2 columns/);
  });

  it('[note: derived-merge] merges a derived table alone (or a CTE) that projects one table into one SELECT over it', () => {
    const describe = (sql: string) => lowerPlan(new Graph(), plan(sql), 'c').nodes.map((n) => n.describe());
    const plain = describe('SELECT team_id FROM user WHERE active = 1 AND id = ?');
    assert.deepEqual(describe('SELECT team_id FROM (SELECT id, team_id FROM user WHERE active = 1) AS d WHERE d.id = ?'), plain);
    assert.deepEqual(describe('WITH t AS (SELECT id, team_id FROM user WHERE active = 1) SELECT team_id FROM t WHERE id = ?'), plain);
    assert.deepEqual(describe('SELECT tid FROM (SELECT id AS uid, team_id AS tid FROM user WHERE active = 1) AS d WHERE uid = ?'), describe('SELECT team_id AS tid FROM user WHERE active = 1 AND id = ?'));
    // `*` of a derived table is its columns, not the table's.
    const names = (sql: string): string[] => {
      const p = plan(sql);
      assert.ok(p.kind === 'select');
      return p.select.map((c) => c.name);
    };
    assert.deepEqual(names('SELECT * FROM (SELECT id, team_id FROM user WHERE active = 1) d WHERE team_id = ?'), ['id', 'team_id']);
    assert.deepEqual(names('SELECT * FROM (SELECT * FROM user) d WHERE team_id = ?'), ['id', 'team_id', 'active']);
    // Aggregates, ORDER BY … LIMIT and an outer alias over the merged table.
    assert.ok(plan('SELECT tid, COUNT(*) AS n FROM (SELECT team_id AS tid, active FROM user) d WHERE active = ? GROUP BY tid ORDER BY n DESC, tid LIMIT 3').kind === 'select');
  });

  it('[note: derived-merge] leaves what changes the rows for the planner to refuse, and refuses columns the derived table lacks', () => {
    for (const inner of ['SELECT DISTINCT id FROM user', 'SELECT id FROM user GROUP BY id HAVING COUNT(*) > 1', 'SELECT id FROM user ORDER BY id LIMIT 5', 'SELECT id FROM user UNION SELECT id FROM story', 'SELECT team_id, COUNT(*) FROM user GROUP BY team_id']) {
      assert.throws(() => plan(`SELECT id FROM (${inner}) d WHERE id = ?`), /derived table alone|UNION|derived/, inner);
    }
    assert.throws(() => plan('SELECT active FROM (SELECT id, team_id FROM user) d WHERE id = ?'), /active is not a column of the derived table d/);
    assert.throws(() => plan('SELECT u.id FROM (SELECT id FROM user) d WHERE id = ?'), /the only table here is d/);
    assert.throws(() => plan('SELECT id FROM (SELECT id FROM user) d WHERE id = ? AND id IN (SELECT id FROM team)'), /subquery/);
  });

  it('[note: derived-merge] merges a grouped derived table alone: conditions on its GROUP BY columns below the grouping, on its aggregates into HAVING', () => {
    const describe = (sql: string) => lowerPlan(new Graph(), plan(sql), 'c').nodes.map((n) => n.describe());
    assert.deepEqual(describe('SELECT t, n FROM (SELECT team_id AS t, COUNT(*) AS n FROM user WHERE active = 1 GROUP BY team_id) AS d WHERE t = ?'),
      describe('SELECT team_id AS t, COUNT(*) AS n FROM user WHERE active = 1 AND team_id = ? GROUP BY team_id'));
    assert.deepEqual(describe('SELECT * FROM (SELECT team_id, COUNT(*) AS n FROM user GROUP BY team_id) AS d WHERE team_id = ? AND n > 2 ORDER BY n DESC LIMIT 3'),
      describe('SELECT team_id, COUNT(*) AS n FROM user WHERE team_id = ? GROUP BY team_id HAVING COUNT(*) > 2 ORDER BY COUNT(*) DESC LIMIT 3'));
    // What the outer query may not do over a grouped derived table: aggregate again, or filter one row of no GROUP BY.
    assert.throws(() => plan('SELECT COUNT(*) FROM (SELECT team_id, COUNT(*) AS n FROM user GROUP BY team_id) AS d WHERE team_id = ?'), /derived table alone/);
    assert.throws(() => plan('SELECT n FROM (SELECT COUNT(*) AS n FROM user) AS d WHERE n = ?'), /derived table alone/);
    assert.throws(() => plan('SELECT id FROM (SELECT team_id, COUNT(*) AS n FROM user GROUP BY team_id) AS d WHERE team_id = ?'), /id is not a column of the derived table d/);
  });
});
