import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { buildCache } from '../../src/planner/build.js';
import { Graph } from '../../src/dataflow/graph.js';
import { RotorError } from '../../src/errors.js';
import type { TableSchema } from '../../src/planner/schema.js';
import { lowerPlan, planStatement } from '../../src/planner/index.js';
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

  it('leaves ORs over two columns to the union planner, and refuses ORs with other conditions', () => {
    for (const sql of ['SELECT id FROM t WHERE id = ? OR g = ?', 'SELECT id FROM t WHERE id = ? OR id > 3', 'SELECT id FROM t WHERE g = ? AND (id = ? OR id = ?) AND id = ?']) {
      assert.throws(() => plan(sql), (e: unknown) => e instanceof RotorError && e.code === 'ERR_CACHE_UNSUPPORTED', sql);
    }
  });
});

describe('`a = ? OR b = ?` across columns [note: or-union]', () => {
  const planned = (sql: string, schema: TableSchema = t) => planStatement(parseStatement(sql), [schema]);
  const refused = (sql: string, pattern: RegExp, schema: TableSchema = t) => assert.throws(() => planned(sql, schema), (e: unknown) => e instanceof RotorError && e.code === 'ERR_CACHE_UNSUPPORTED' && pattern.test(e.message), sql);

  it('is a union of one branch per column, by primary key, keyed by every parameter in textual order', () => {
    const p = planned("SELECT s FROM t WHERE (g = ? OR ? = id) AND s <> 'x'");
    assert.equal(p.kind, 'union');
    assert.ok(p.kind === 'union');
    assert.equal(p.all, false);
    assert.deepEqual(p.identity, [0]);
    assert.deepEqual(p.params.map((x) => x.column), [1, 0]);
    assert.ok(p.params.every((x) => !x.listable), 'no IN-list respelling: the keys\' answers would repeat rows');
    assert.deepEqual(p.branchParams, [[0], [1]]);
    assert.deepEqual(p.slots.map((x) => x.kind), ['param', 'param', 'const']);
    assert.deepEqual(lowerPlan(new Graph(), p, 'c').nodes.map((n) => n.describe()), [
      'd.t', "σ[s <> 'x']", 'π[s, id, g]', 'δ[g] s, id, g', 'd.t', "σ[s <> 'x']", 'π[s, id, id]', 'δ[id] s, id, id', '∪[g, id] s, id', 'reader[g = ? AND id = ?]',
    ]);
  });

  it('carries every other parameter into each branch, and orders by columns it does not show', () => {
    const p = planned('SELECT s FROM t WHERE g = ? AND (id = ? OR s = ?) ORDER BY id DESC LIMIT 5');
    assert.ok(p.kind === 'union');
    assert.deepEqual(p.params.map((x) => x.column), [1, 0, 2]);
    assert.deepEqual(p.branchParams, [[0, 1], [0, 2]]);
    assert.deepEqual(p.orderBy, [{ column: 1, desc: true }]);
    assert.deepEqual(p.limit, { offset: 0, count: 5 });
  });

  it('refuses what it cannot keep exact, with the reason', () => {
    refused('SELECT id FROM t WHERE id = ? OR g = 3', /inside OR/);
    refused('SELECT id FROM t WHERE id = ? OR g IN (?, ?)', /inside OR/);
    // One column stays one parameter of several values.
    const one = planned('SELECT id FROM t WHERE id = ? OR id IN (?, ?)');
    assert.ok(one.kind === 'select' && one.params.length === 1 && one.params[0].multi);
    refused('SELECT id FROM t WHERE id = ? OR g = ? OR id = ?', /a column twice/);
    refused('SELECT COUNT(*) FROM t WHERE id = ? OR g = ?', /aggregates/);
    refused('SELECT DISTINCT s FROM t WHERE id = ? OR g = ?', /DISTINCT/);
    refused('SELECT id FROM t WHERE (id = ? OR g = ?) AND s IN (?, ?)', /IN \(\?, …\)/);
    refused('SELECT id FROM t WHERE (id = ? OR g = ?) AND (s = ? OR g = ?)', /two ORs/);
    refused('SELECT id FROM t WHERE id = ? OR g = ? ORDER BY id LIMIT ?', /LIMIT \?/);
    const keyless: TableSchema = { ...t, columns: t.columns.map((c) => ({ ...c, primary: false })) };
    refused('SELECT id FROM t WHERE id = ? OR g = ?', /no primary key/, keyless);
  });
});
