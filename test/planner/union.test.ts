import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { planStatement } from '../../src/planner/index.js';
import type { UnionPlan } from '../../src/planner/query-plan.js';
import { buildUnion } from '../../src/planner/build-union.js';
import { fingerprint } from '../../src/planner/fingerprint.js';
import { Graph } from '../../src/dataflow/graph.js';
import { RotorError } from '../../src/errors.js';
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

function plan(sql: string): UnionPlan {
  const p = planStatement(parseStatement(sql), [story]);
  assert.ok(p.kind === 'union');
  return p;
}

function rejects(sql: string, pattern: RegExp): void {
  assert.throws(() => planStatement(parseStatement(sql), [story]), (e: unknown) => e instanceof RotorError && e.code === 'ERR_CACHE_UNSUPPORTED' && pattern.test(e.message), sql);
}

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

  it('names what it cannot cache', () => {
    rejects('SELECT id FROM story WHERE author_id = ? UNION SELECT id FROM other WHERE editor_id = ?', /different tables/);
    rejects('SELECT id FROM story UNION SELECT title FROM story', /different types at position 1/);
    rejects('SELECT id FROM story WHERE author_id = ? UNION ALL SELECT id FROM story WHERE editor_id = ? UNION SELECT id FROM story', /mixed/);
    rejects('(SELECT id FROM story ORDER BY id LIMIT 2) UNION (SELECT id FROM story WHERE author_id = ?)', /inside a branch/);
    rejects('SELECT COUNT(*) FROM story WHERE author_id = ? UNION SELECT COUNT(*) FROM story WHERE editor_id = ?', /aggregates/);
    rejects('SELECT id FROM story WHERE author_id IN (?, ?) UNION ALL SELECT id FROM story WHERE editor_id = ?', /IN \(\?, …\)/);
    rejects('SELECT id FROM story WHERE author_id = ? UNION SELECT id FROM story WHERE author_id = ?', /identical branches/);
    rejects('SELECT id FROM story UNION SELECT id FROM story WHERE author_id = ? LIMIT 3', /LIMIT without ORDER BY/);
    rejects('SELECT id FROM story UNION SELECT id FROM story WHERE author_id = ? ORDER BY id LIMIT ?', /placeholder/);
  });
});
