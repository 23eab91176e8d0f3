import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { planStatement, tablesRead } from '../../src/planner/index.js';
import type { UnionPlan } from '../../src/planner/query-plan.js';
import { buildUnion } from '../../src/planner/build-union.js';
import { fingerprint } from '../../src/planner/fingerprint.js';
import { Graph } from '../../src/dataflow/graph.js';
import { RotorError } from '../../src/errors.js';
import { parameterOf } from '../../src/views/statement-plan.js';
import type { TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const story: TableSchema = {
  database: 'd', table: 'story',
  columns: [
    { name: 'id', dataType: 'int', scale: 0, collation: null, primary: true },
    { name: 'author_id', dataType: 'int', scale: 0, collation: null },
    { name: 'editor_id', dataType: 'int', scale: 0, collation: null },
    { name: 'title', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci' },
  ],
};

const note: TableSchema = {
  database: 'd', table: 'note',
  columns: [
    { name: 'id', dataType: 'int', scale: 0, collation: null, primary: true },
    { name: 'story_id', dataType: 'int', scale: 0, collation: null },
    { name: 'body', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci' },
    { name: 'created', dataType: 'datetime', scale: 0, collation: null },
  ],
};
const TABLES: Record<string, TableSchema> = { story, note };

function planned(sql: string) {
  const ast = parseStatement(sql);
  return planStatement(ast, tablesRead(ast).map((t) => TABLES[t.table]));
}

function plan(sql: string): UnionPlan {
  const p = planned(sql);
  assert.ok(p.kind === 'union');
  return p;
}

function rejects(sql: string, pattern: RegExp): void {
  assert.throws(() => planned(sql), (e: unknown) => e instanceof RotorError && e.code === 'ERR_CACHE_UNSUPPORTED' && pattern.test(e.message), sql);
}

const describeNodes = (p: UnionPlan) => buildUnion(new Graph(), p, 'c').nodes.map((n) => n.describe());

describe('planner: UNION', () => {
  it('numbers the parameters of every branch in textual order and keys the cache by all of them', () => {
    const sql = 'SELECT id FROM story WHERE author_id = ? AND id > 3 UNION ALL SELECT id FROM story WHERE editor_id = ? ORDER BY id DESC LIMIT 5';
    const p = plan(sql);
    assert.deepEqual(p.params.map((x) => x.column), [1, 2]);
    assert.deepEqual(p.branchParams, [[0], [1]]);
    assert.deepEqual(p.slots.map((s) => s.kind), ['param', 'const', 'param', 'const']);
    assert.equal(fingerprint(sql)?.literals.length, p.slots.length);
    assert.deepEqual(p.limit, { count: 5, offset: 0 });
    const built = buildUnion(new Graph(), p, 'c');
    assert.deepEqual(built.nodes.map((n) => n.describe()), [
      'd.story', 'σ[id > 3]', 'π[id, author_id]', 'counted[author_id] id, author_id',
      'd.story', 'π[id, editor_id]', 'counted[editor_id] id, editor_id',
      '∪ ALL[author_id, editor_id] id', 'reader[author_id = ? AND editor_id = ?] order by id DESC limit 5',
    ]);
  });

  it('orders by the first branch\'s column names or positions, made total by every column', () => {
    const p = plan('(SELECT title AS t, id FROM story WHERE author_id = ?) UNION (SELECT title, id FROM story WHERE editor_id = ?) ORDER BY t LIMIT 2, 2');
    assert.deepEqual(p.orderBy, [{ column: 0, desc: false }, { column: 1, desc: false }]);
    assert.deepEqual(p.limit, { count: 2, offset: 2 });
    assert.equal(p.all, false);
    assert.deepEqual(plan('SELECT title, id FROM story WHERE author_id = ? UNION SELECT title, id FROM story ORDER BY 2 DESC').orderBy, [{ column: 1, desc: true }]);
  });

  it('keeps branches identical but for their parameters apart, one node each [note: union-branches]', () => {
    const p = plan('SELECT title FROM story WHERE id = ? UNION SELECT title FROM story WHERE id = ?');
    assert.deepEqual(p.branchParams, [[0], [1]]);
    assert.deepEqual(describeNodes(p), [
      'd.story', 'π[title, id]', 'δ[id] title, id', 'd.story', 'π[title, id]', 'δ[id] title, id', 'δ[id] title, id',
      '∪[id, id] title', 'reader[id = ? AND id = ?]',
    ]);
    const union = buildUnion(new Graph(), p, 'c').nodes.find((n) => n.kind === 'union');
    assert.ok(union !== undefined && union.parents[0] !== union.parents[1]);
  });

  it('unions branches over different tables, with aggregates, and over joins [note: union-branches]', () => {
    const across = plan('SELECT id, title FROM story WHERE author_id = ? UNION ALL SELECT id, body FROM note WHERE story_id = ?');
    assert.deepEqual(across.offsets, [0, 4]);
    assert.equal(across.schema.table, 'story ∪ note');
    assert.deepEqual(across.params.map((x) => across.schema.columns[x.column].name), ['author_id', 'story_id']);
    assert.deepEqual(across.params.map((x) => parameterOf(across, x.column)), [{ table: 'story', column: 'author_id' }, { table: 'note', column: 'story_id' }]);
    assert.deepEqual(describeNodes(across), [
      'd.story', 'π[id, title, author_id]', 'counted[author_id] id, title, author_id', 'd.note', 'π[id, body, story_id]', 'counted[story_id] id, body, story_id',
      '∪ ALL[author_id, story_id] id, title', 'reader[author_id = ? AND story_id = ?]',
    ]);
    const grouped = plan('SELECT author_id, COUNT(*) FROM story WHERE author_id = ? GROUP BY author_id UNION SELECT story_id, COUNT(*) FROM note WHERE story_id = ? GROUP BY story_id');
    assert.deepEqual(describeNodes(grouped).slice(0, 4), ['d.story', 'γ[author_id] COUNT(*)', 'π[author_id, COUNT(*), author_id]', 'δ[author_id] author_id, COUNT(*), author_id']);
    const joined = plan('SELECT s.title FROM story s JOIN note n ON n.story_id = s.id WHERE n.id = ? UNION SELECT title FROM story WHERE id = ?');
    assert.deepEqual(joined.offsets, [0, 8]);
    assert.deepEqual(joined.branches.map((b) => b.kind), ['join', 'select']);
    assert.ok(describeNodes(joined).some((d) => d.startsWith('⋈')));
  });

  it('names what it cannot cache', () => {
    rejects('SELECT id FROM story WHERE author_id = ? UNION SELECT body FROM note WHERE story_id = ?', /different types at position 1/);
    rejects('SELECT author_id, COUNT(*) FROM story WHERE author_id = ? GROUP BY author_id UNION SELECT story_id, id FROM note WHERE story_id = ?', /different types at position 2/);
    rejects('SELECT GROUP_CONCAT(title ORDER BY id) FROM story WHERE author_id = ? UNION SELECT body FROM note WHERE story_id = ?', /GROUP_CONCAT in a branch/);
    rejects('SELECT id FROM story UNION SELECT title FROM story', /different types at position 1/);
    rejects('SELECT id FROM story WHERE author_id = ? UNION ALL SELECT id FROM story WHERE editor_id = ? UNION SELECT id FROM story', /mixed/);
    rejects('(SELECT id FROM story ORDER BY id LIMIT 2) UNION (SELECT id FROM story WHERE author_id = ?)', /inside a branch/);
    rejects('SELECT id FROM story WHERE author_id IN (?, ?) UNION ALL SELECT id FROM story WHERE editor_id = ?', /IN \(\?, …\)/);
    rejects('SELECT id FROM story UNION SELECT id FROM story WHERE author_id = ? LIMIT 3', /LIMIT without ORDER BY/);
    rejects('SELECT id FROM story UNION SELECT id FROM story WHERE author_id = ? ORDER BY id LIMIT ?', /placeholder/);
  });
});
