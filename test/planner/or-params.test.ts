import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { buildCache } from '../../src/planner/build.js';
import { Graph } from '../../src/dataflow/graph.js';
import { RotorError } from '../../src/errors.js';
import type { TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const t: TableSchema = {
  database: 'd', table: 't',
  columns: [
    { name: 'id', dataType: 'int', scale: 0, collation: null, primary: true },
    { name: 'g', dataType: 'int', scale: 0, collation: null },
    { name: 's', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci' },
  ],
};
const plan = (sql: string) => planSelect(parseStatement(sql), t, true);

describe('`a = ? OR a = ?` on one column', () => {
  it('is one parameter of several values, as `a IN (?, ?)`, each placeholder a place it is bound from', () => {
    const p = plan("SELECT id, s FROM t WHERE (id = ? OR id = ? OR id IN (?, ?)) AND s <> 'x'");
    assert.deepEqual(p.params, [{ column: 0, multi: true, listable: true }]);
    assert.deepEqual(p.slots, [{ kind: 'param', param: 0 }, { kind: 'param', param: 0 }, { kind: 'list-param', param: 0 }, { kind: 'const' }]);
    const same = plan("SELECT id, s FROM t WHERE id IN (?, ?) AND s <> 'x'");
    assert.deepEqual(buildCache(new Graph(), p, 'c').nodes.map((n) => n.describe()), buildCache(new Graph(), same, 'c').nodes.map((n) => n.describe()));
  });

  it('keeps other parameters apart, and aggregates need GROUP BY the column as for IN', () => {
    const p = plan('SELECT g, COUNT(*) FROM t WHERE s = ? AND (g = ? OR ? = g) GROUP BY g');
    assert.deepEqual(p.params.map((x) => [x.column, x.multi]), [[2, false], [1, true]]);
    assert.deepEqual(p.slots.map((s) => s.kind === 'param' || s.kind === 'list-param' ? `${s.kind}:${s.param}` : s.kind), ['param:0', 'param:1', 'param:1']);
    assert.throws(() => plan('SELECT COUNT(*) FROM t WHERE g = ? OR g = ?'), (e: unknown) => e instanceof RotorError && /needs GROUP BY g/.test(e.message));
  });

  it('refuses ORs over two columns or with other conditions', () => {
    for (const sql of ['SELECT id FROM t WHERE id = ? OR g = ?', 'SELECT id FROM t WHERE id = ? OR id > 3', 'SELECT id FROM t WHERE g = ? AND (id = ? OR id = ?) AND id = ?']) {
      assert.throws(() => plan(sql), (e: unknown) => e instanceof RotorError && e.code === 'ERR_CACHE_UNSUPPORTED', sql);
    }
  });
});
