import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { isJoin, joinTables, planJoin } from '../../src/planner/join.js';
import { semiJoins } from '../../src/planner/passes/semi-join.js';
import { rightJoins } from '../../src/planner/passes/right-join.js';
import { planSelect } from '../../src/planner/plan.js';
import { buildCache } from '../../src/planner/build.js';
import { Graph } from '../../src/dataflow/graph.js';
import { RotorError } from '../../src/errors.js';
import type { ColumnInfo, TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const int = (name: string): ColumnInfo => ({ name, dataType: 'int', scale: 0, collation: null });
const text = (name: string, collation = 'utf8mb4_general_ci'): ColumnInfo => ({ name, dataType: 'varchar', scale: 0, collation });
const tables: Record<string, TableSchema> = {
  article: { database: 'd', table: 'article', columns: [int('id'), text('title')] },
  vote: { database: 'd', table: 'vote', columns: [int('article_id'), int('user_id')] },
  story: { database: 'd', table: 'story', columns: [int('id'), text('title'), int('author_id')] },
  user: { database: 'd', table: 'user', columns: [int('id'), text('name'), int('team_id'), text('code', 'utf8mb4_bin')] },
  team: { database: 'd', table: 'team', columns: [int('id'), text('label'), int('active')] },
};

const plan = (sql: string) => {
  const statement = parseStatement(sql);
  const ast = semiJoins(rightJoins(statement));
  if (!isJoin(ast)) return planSelect(ast, tables[String((ast.from as Array<{ table: string }>)[0].table)], true);
  return planJoin(ast, joinTables(ast).map((t) => tables[t.table]), true, statement);
};
const nodes = (sql: string) => buildCache(new Graph(), plan(sql), 'c').nodes.map((n) => n.describe());

function rejects(sql: string, pattern: RegExp, code = 'ERR_CACHE_UNSUPPORTED'): void {
  assert.throws(() => plan(sql), (e: unknown) => e instanceof RotorError && e.code === code && pattern.test(e.message), sql);
}

describe('join planner', () => {
  it('plans the vote query: articles keyed by id, a COUNT keyed by the join column, a left join', () => {
    assert.deepEqual(nodes('SELECT a.id, a.title, vc.votes FROM article a LEFT JOIN (SELECT article_id, COUNT(user_id) AS votes FROM vote GROUP BY article_id) AS vc ON a.id = vc.article_id WHERE a.id = ?'), [
      'd.article', 'rows[id]', 'd.vote', 'γ[article_id] COUNT(user_id)', '⟕[id = article_id]', 'π[id, title, COUNT(user_id), id]', 'reader[id = ?]',
    ]);
  });

  it('keys the parameter side by the parameter with an index by its join column when they differ', () => {
    assert.deepEqual(nodes('SELECT s.id, s.title, u.name FROM story s JOIN user u ON u.id = s.author_id WHERE s.id = ?'), [
      'd.story', 'rows[id] by author_id', 'd.user', 'rows[id]', '⋈[author_id = id]', 'π[id, title, name, id]', 'reader[id = ?]',
    ]);
    // The parameter on the right table: the right side drives.
    assert.deepEqual(nodes('SELECT s.id, u.name FROM story s JOIN user u ON u.id = s.author_id WHERE u.name = ?').slice(0, 4), [
      'd.story', 'rows[author_id]', 'd.user', 'rows[name] by id',
    ]);
  });

  it('reads USING and implicit joins as equi-joins, and pushes ON conditions on one table into it', () => {
    assert.deepEqual(plan('SELECT u.name FROM user u JOIN team USING (id) WHERE u.id = ?').join?.steps[0].on, [[0, 0]]);
    assert.deepEqual(plan('SELECT s.title FROM story s, user u WHERE s.author_id = u.id AND u.id = ?').join?.steps[0].on, [[2, 0]]);
    const p = plan("SELECT s.id, u.name FROM story s LEFT JOIN user u ON u.id = s.author_id AND u.team_id = 1 WHERE s.id = ?");
    assert.ok(p.join?.sources[1].where !== null);
    assert.deepEqual(p.slots.map((s) => s.kind), ['const', 'param']);
  });

  it('keeps the row of the first join keyed for the next one in a three-table join', () => {
    assert.deepEqual(nodes('SELECT s.id, u.name, t.label FROM story s JOIN user u ON u.id = s.author_id JOIN team t ON t.id = u.team_id WHERE s.id = ? AND t.active = 1'), [
      'd.story', 'rows[id] by author_id', 'd.user', 'rows[id]', '⋈[author_id = id]', 'rows[id] by team_id', 'd.team', 'rows[id]', '⋈[team_id = id]',
      'σ[active = 1]', 'π[id, name, label, id]', 'reader[id = ?]',
    ]);
  });

  it('reads IN (SELECT …) as a join with the subquery grouped by its column, numbering literals as written', () => {
    const p = plan("SELECT * FROM story WHERE id = ? AND author_id IN (SELECT id FROM user WHERE name = 'x')");
    assert.deepEqual(p.select.map((c) => c.name), ['id', 'title', 'author_id']);
    assert.deepEqual(p.slots.map((s) => s.kind), ['param', 'const']);
    assert.deepEqual(buildCache(new Graph(), p, 'c').nodes.map((n) => n.describe()).slice(0, 6), [
      'd.story', 'rows[id] by author_id', 'd.user', "σ[name = 'x']", 'γ[id] ', '⋈[author_id = id]',
    ]);
    rejects('SELECT id FROM story WHERE id = ? AND author_id NOT IN (SELECT id FROM user)', /may be NULL/);
    rejects('SELECT id FROM story s WHERE id = ? AND author_id IN (SELECT id FROM user u WHERE u.team_id = s.id)', /correlated/);
    rejects('SELECT id FROM story WHERE id = ? AND author_id IN (SELECT id FROM user GROUP BY id)', /one column of one table/);
    rejects('SELECT id FROM story WHERE id = ? AND (author_id IN (SELECT id FROM user) OR id = 1)', /subquery/);
  });

  it('aggregates over a join keyed by the parameters, filled through the join', () => {
    assert.deepEqual(nodes('SELECT a.id, COUNT(v.user_id) FROM article a LEFT JOIN vote v ON v.article_id = a.id WHERE a.id = ? GROUP BY a.id').slice(4), [
      '⟕[id = article_id]', 'γ[id] COUNT(user_id)', 'π[id, COUNT(user_id), id]', 'reader[id = ?]',
    ]);
  });

  it('reads a two-table RIGHT JOIN as the LEFT JOIN of the tables swapped', () => {
    const p = plan('SELECT a.id, v.user_id FROM article a RIGHT JOIN vote v ON v.article_id = a.id WHERE v.user_id = ?');
    assert.deepEqual(p.join?.sources.map((s) => s.name), ['v', 'a']);
    assert.equal(p.join?.steps[0].kind, 'left');
    assert.deepEqual(p.select.map((c) => c.name), ['id', 'user_id']);
  });

  it('plans a self-join as two sides over one base node [note: self-join]', () => {
    assert.deepEqual(nodes('SELECT c.title, p.title FROM story c JOIN story p ON c.author_id = p.id WHERE c.id = ?'), [
      'd.story', 'rows[id] by author_id', 'd.story', 'rows[id]', '⋈[author_id = id]', 'π[title, title, id]', 'reader[id = ?]',
    ]);
    // Equal sides would be one shared node: the right one is a copy of its own.
    const g = new Graph();
    const built = buildCache(g, plan('SELECT a.id, b.title FROM story a JOIN story b ON a.author_id = b.author_id WHERE a.author_id = ?'), 'c');
    const join = built.nodes.find((n) => n.kind === 'join');
    assert.ok(join !== undefined);
    assert.notEqual(join.parents[0], join.parents[1]);
    assert.deepEqual(join.parents.map((p) => p.describe()), ['rows[author_id]', 'rows[author_id]']);
    assert.equal(join.parents[0].parents[0], join.parents[1].parents[0], 'one base node');
    // Three times, and a semi-join over the table itself.
    assert.equal(plan('SELECT a.id, b.id, c.id FROM story a JOIN story b ON b.id = a.author_id JOIN story c ON c.id = b.author_id WHERE a.id = ?').join?.sources.length, 3);
    assert.equal(plan('SELECT id FROM story WHERE author_id = ? AND id IN (SELECT author_id FROM story)').kind, 'join');
  });

  it('filters the joined rows by comparisons across the tables beside the equality [note: join-residual]', () => {
    assert.deepEqual(nodes("SELECT s.id, u.name FROM story s JOIN user u ON u.id = s.author_id AND u.team_id <> s.id AND u.name <> 'x' WHERE s.id = ?"), [
      'd.story', 'rows[id] by author_id', 'd.user', "σ[name <> 'x']", 'rows[id]', '⋈[author_id = id]', 'σ[team_id <> id]', 'π[id, name, id]', 'reader[id = ?]',
    ]);
    const p = plan('SELECT s.id FROM story s JOIN story t ON t.id = s.author_id AND t.title >= s.title WHERE s.id = ? AND t.id > 1');
    assert.equal(p.where?.k, 'and');
  });

  it('refuses what it cannot keep exact, with the reason', () => {
    rejects('SELECT a.id FROM article a RIGHT JOIN vote v ON v.article_id = a.id WHERE a.title = ?', /right side of a LEFT JOIN/);
    rejects('SELECT * FROM article a RIGHT JOIN vote v ON v.article_id = a.id WHERE v.user_id = ?', /\* over a RIGHT JOIN/);
    rejects('SELECT a.id FROM article a RIGHT JOIN vote v ON v.article_id = a.id JOIN story s ON s.id = a.id WHERE v.user_id = ?', /more than two tables/);
    rejects('SELECT a.id FROM article a FULL JOIN vote v ON v.article_id = a.id WHERE a.id = ?', /FULL JOIN/);
    rejects('SELECT a.id FROM article a CROSS JOIN vote v WHERE a.id = ?', /CROSS JOIN/);
    rejects('SELECT a.id FROM article a, vote v WHERE a.id = ?', /cross joins/);
    rejects('SELECT a.id FROM article a JOIN vote v ON v.article_id < a.id WHERE a.id = ?', /cross joins/);
    rejects('SELECT a.id FROM article a JOIN vote v ON v.article_id = a.id + 1 WHERE a.id = ?', /comparison of two columns/);
    rejects('SELECT a.id FROM article a LEFT JOIN vote v ON v.article_id = a.id AND v.user_id > a.id WHERE a.id = ?', /across the tables of a LEFT JOIN/);
    rejects('SELECT s.id FROM story s JOIN user u ON u.id = s.author_id AND u.code <> s.title WHERE s.id = ?', /code \(varchar utf8mb4_bin\) with title \(varchar utf8mb4_general_ci\)/);
    rejects('SELECT s.id FROM story s JOIN user u ON u.id = s.author_id AND u.name <> s.id WHERE s.id = ?', /name \(varchar utf8mb4_general_ci\) with id \(int\)/);
    rejects('SELECT a.id FROM article a JOIN vote v ON v.article_id = a.id WHERE a.title = ? AND v.user_id = ?', /both sides/);
    rejects('SELECT a.id FROM article a LEFT JOIN vote v ON v.article_id = a.id WHERE v.user_id = ?', /right side of a LEFT JOIN/);
    rejects('SELECT s.id FROM story s JOIN story s ON s.id = s.author_id WHERE s.id = ?', /name s used twice/);
    rejects('SELECT a.id FROM article a JOIN (SELECT article_id, COUNT(*) AS n FROM vote GROUP BY article_id) c ON c.article_id = a.id JOIN (SELECT article_id, COUNT(*) AS n FROM vote GROUP BY article_id) d ON d.article_id = a.id WHERE a.id = ?', /the same grouped table twice/);
    rejects('SELECT s.id FROM story s JOIN user u ON u.name = s.id WHERE s.id = ?', /only columns of one type and collation/);
    rejects('SELECT s.id FROM story s JOIN user u ON u.code = s.title WHERE s.id = ?', /collation/);
    rejects('SELECT a.id FROM article a JOIN (SELECT article_id, COUNT(*) AS n FROM vote GROUP BY article_id) c ON c.n = a.id WHERE a.id = ?', /aggregate n/);
    rejects('SELECT a.id FROM article a JOIN vote v ON v.article_id = a.id AND v.user_id = ? WHERE a.id = ?', /parameters in ON/);
    rejects('SELECT title FROM article a JOIN story s ON s.id = a.id WHERE a.id = ?', /ambiguous column title/);
    rejects('SELECT a.nope FROM article a JOIN vote v ON v.article_id = a.id WHERE a.id = ?', /a\.nope/, 'ERR_CACHE_UNKNOWN_COLUMN');
  });
});
