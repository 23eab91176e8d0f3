import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { planStatement } from '../../src/planner/index.js';
import { buildCache } from '../../src/planner/build.js';
import { coerceRangeParam } from '../../src/planner/coerce.js';
import { Graph } from '../../src/dataflow/graph.js';
import { RotorError } from '../../src/errors.js';
import type { TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const t: TableSchema = {
  database: 'd', table: 't',
  columns: [
    { name: 'id', dataType: 'int', scale: 0, collation: null, primary: true },
    { name: 'user_id', dataType: 'int', scale: 0, collation: null },
    { name: 'amount', dataType: 'decimal', scale: 2, collation: null },
    { name: 'name', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci' },
    { name: 'created_at', dataType: 'datetime', scale: 0, collation: null },
    { name: 'f', dataType: 'double', scale: 0, collation: null },
    { name: 'tm', dataType: 'time', scale: 0, collation: null },
  ],
};

const plan = (sql: string) => planSelect(parseStatement(sql), t, true);

function rejects(sql: string, pattern: RegExp): void {
  assert.throws(() => plan(sql), (e: unknown) => e instanceof RotorError && e.code === 'ERR_CACHE_UNSUPPORTED' && pattern.test(e.message), sql);
}

describe('planner: range parameters', () => {
  it('plans `col > ? ORDER BY col LIMIT k` as a range reader over the column', () => {
    const p = plan('SELECT id, name FROM t WHERE id > ? ORDER BY id LIMIT 20');
    assert.deepEqual(p.range, { column: 0, lower: { param: 0, incl: false }, upper: null, desc: false });
    assert.deepEqual(p.params, [{ column: 0, multi: false, listable: false, bound: 'lower' }]);
    const built = buildCache(new Graph(), p, 'c');
    assert.ok(built.range !== undefined);
    assert.deepEqual(built.nodes.map((n) => n.describe()), ['d.t', 'π[id, name, id, id]', 'range-reader[id in range] order by id limit 20']);
  });

  it('reads either side written first, and every comparison', () => {
    assert.deepEqual(plan('SELECT id FROM t WHERE ? < id').range?.lower, { param: 0, incl: false });
    assert.deepEqual(plan('SELECT id FROM t WHERE ? >= id').range?.upper, { param: 0, incl: true });
    assert.deepEqual(plan('SELECT id FROM t WHERE id <= ?').range?.upper, { param: 0, incl: true });
    assert.deepEqual(plan('SELECT id FROM t WHERE id >= ? AND id < ?').range, { column: 0, lower: { param: 0, incl: true }, upper: { param: 1, incl: false }, desc: false });
  });

  it('plans BETWEEN ? AND ? as both bounds included', () => {
    const p = plan('SELECT id FROM t WHERE amount BETWEEN ? AND ?');
    assert.deepEqual(p.range, { column: 2, lower: { param: 0, incl: true }, upper: { param: 1, incl: true }, desc: false });
    assert.deepEqual(p.slots.map((s) => s.kind), ['param', 'param']);
  });

  it('keys the range by the equality parameters before it, the range inside each key', () => {
    const p = plan("SELECT id, amount FROM t WHERE user_id = ? AND created_at >= ? AND created_at < ? AND name <> 'x' ORDER BY created_at DESC, id DESC LIMIT 10");
    assert.deepEqual(p.params.map((x) => x.bound ?? 'key'), ['key', 'lower', 'upper']);
    assert.deepEqual(p.range, { column: 4, lower: { param: 1, incl: true }, upper: { param: 2, incl: false }, desc: true });
    const built = buildCache(new Graph(), p, 'c');
    assert.deepEqual(built.nodes.map((n) => n.describe()), [
      'd.t', "σ[name <> 'x']", 'π[id, amount, user_id, created_at, id]', 'range-reader[user_id = ? AND created_at in range] order by created_at DESC limit 10',
    ]);
  });

  it('refuses what a range cache does not keep, naming it', () => {
    rejects('SELECT id FROM t WHERE f > ?', /DOUBLE column f/);
    rejects('SELECT id FROM t WHERE tm > ?', /TIME column tm/);
    rejects('SELECT id FROM t WHERE id > ? AND amount < ?', /two columns/);
    rejects('SELECT id FROM t WHERE id > ? AND id > ?', /two lower bounds/);
    rejects('SELECT id FROM t WHERE id = ? AND id < ?', /range and an equality/);
    rejects('SELECT COUNT(*) FROM t WHERE id > ?', /aggregates/);
    rejects('SELECT DISTINCT name FROM t WHERE id > ?', /DISTINCT/);
    rejects('SELECT id FROM t WHERE id > ? ORDER BY name LIMIT 5', /order other than the range column/);
    rejects('SELECT id FROM t WHERE id > ? LIMIT 5', /LIMIT without ORDER BY/);
    rejects('SELECT id FROM t WHERE id > ? ORDER BY id LIMIT ?', /LIMIT \?/);
    rejects('SELECT id FROM t WHERE user_id IN (?, ?) AND id > ?', /IN \(\?, …\)/);
    rejects('SELECT id FROM t WHERE id > ? OR user_id = 1', /parameter/);
    rejects('SELECT id FROM t WHERE id NOT BETWEEN ? AND ?', /parameter/);
  });

  it('refuses ranges over a join and in a UNION branch', () => {
    const s2: TableSchema = { database: 'd', table: 'u', columns: [{ name: 'id', dataType: 'int', scale: 0, collation: null, primary: true }] };
    assert.throws(() => planStatement(parseStatement('SELECT t.id FROM t JOIN u ON u.id = t.user_id WHERE t.id > ?'), [t, s2]), /range parameters over a join/);
    assert.throws(() => planStatement(parseStatement('SELECT id FROM t WHERE id > ? UNION SELECT id FROM t WHERE user_id = ?'), [t]), /range parameters in a branch/);
  });

  it('coerces a bound only where MariaDB compares it as a value of the column', () => {
    const [id, , amount, name, created] = t.columns;
    assert.equal(coerceRangeParam(5, id), 5);
    assert.equal(coerceRangeParam('5', id), 5);
    assert.equal(coerceRangeParam('5.5', id), undefined);
    assert.equal(coerceRangeParam(5.5, id), undefined);
    assert.equal(coerceRangeParam(null, id), undefined);
    assert.equal(coerceRangeParam('1.5', amount), '1.50');
    assert.equal(coerceRangeParam(3, name), undefined);
    assert.equal(coerceRangeParam('b', name), 'b');
    assert.equal(coerceRangeParam('2024-02-29', created), '2024-02-29');
    assert.equal(coerceRangeParam('2024-02-29 23:59:59.5', created), '2024-02-29 23:59:59.5');
    assert.equal(coerceRangeParam('2023-02-29', created), undefined);
    assert.equal(coerceRangeParam('0000-00-00', created), undefined);
    assert.equal(coerceRangeParam('2024-01-01 24:00:00', created), undefined);
    assert.equal(coerceRangeParam(20240101, created), undefined);
  });
});
