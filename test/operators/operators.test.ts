import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, del, ins, source } from './harness.js';
import { Filter } from '../../src/operators/filter.js';
import { Project } from '../../src/operators/project.js';
import { Aggregate } from '../../src/operators/grouped.js';
import { avg, countColumn, countDistinct, countStar, sum } from '../../src/operators/aggregate.js';
import { max, min } from '../../src/operators/extremum.js';
import { Reader } from '../../src/operators/reader.js';
import { BaseTable } from '../../src/operators/base-table.js';
import { keyString } from '../../src/dataflow/state.js';
import type { AggregateRule } from '../../src/operators/grouped.js';
import type { Expr } from '../../src/dataflow/expr.js';
import { lookAlikeCi } from '../support/collations.js';

const g = { k: 'col', i: 1, name: 'g', numeric: true, collation: null } as const;
const x = { k: 'col', i: 2, name: 'x', numeric: true, collation: null } as const;
const lit = (v: number): Expr => ({ k: 'lit', v, sql: String(v), numeric: true });

function agg(rules: AggregateRule[], scalar = false, groupBy = [1], keyCount = 1): Aggregate {
  return new Aggregate(source(['id', 'g', 'x']), { groupBy, keyCount, rules, scalar, fold: groupBy.map(() => 'exact' as const) });
}

describe('filter', () => {
  it('passes rows whose predicate is true and drops NULL and false', () => {
    const h = new Harness(new Filter(source(['id', 'g', 'x']), { k: 'cmp', op: '>', a: x, b: lit(5) }));
    h.expect([ins(1, 1, 6), ins(2, 1, 5), ins(3, 1, null), del(4, 2, 9)], [ins(1, 1, 6), del(4, 2, 9)]);
  });

  it('evaluates BETWEEN, IN, IS NULL and NOT with three-valued logic', () => {
    const p: Expr = { k: 'or', args: [{ k: 'between', a: x, lo: lit(1), hi: lit(2), neg: false }, { k: 'not', a: { k: 'in', a: g, list: [lit(1), lit(2)], neg: false } }] };
    const h = new Harness(new Filter(source(['id', 'g', 'x']), p));
    h.expect([ins(1, 1, 2), ins(2, 1, 3), ins(3, 3, 3), ins(4, null, 9), ins(5, 2, null)], [ins(1, 1, 2), ins(3, 3, 3)]);
    const n = new Harness(new Filter(source(['id', 'g', 'x']), { k: 'isnull', a: x, neg: false }));
    n.expect([ins(1, 1, null), ins(2, 1, 0)], [ins(1, 1, null)]);
  });

  it('renders its predicate into the upquery SQL and describes itself', () => {
    const f = new Filter(source(['id', 'g', 'x']), { k: 'cmp', op: '=', a: g, b: lit(3) });
    assert.equal(f.describe(), 'σ[g = 3]');
    assert.deepEqual(f.sql().where, ['`g` = 3']);
  });
});

describe('project', () => {
  it('reorders columns and keeps provenance for key paths', () => {
    const p = new Project(source(['id', 'g', 'x']), [2, 0]);
    new Harness(p).expect([ins(1, 2, 3), del(4, 5, 6)], [ins(3, 1), del(6, 4)]);
    assert.deepEqual(p.source(0), { parent: 0, column: 2 });
    assert.equal(p.describe(), 'π[x, id]');
  });
});

describe('base table', () => {
  it('maps a change to its own column order by name and fills missing columns with NULL', () => {
    const b = new BaseTable('d', 't', ['id', 'g', 'x']);
    const out = b.deltasOf({ database: 'd', table: 't', columns: ['x', 'id', 'g'], deltas: [ins(9, 1, 2)] });
    assert.deepEqual(out, [ins(1, 2, 9)]);
    const partial = b.deltasOf({ database: 'd', table: 't', columns: ['id', 'x'], deltas: [ins(1, 9)] });
    assert.deepEqual(partial, [ins(1, null, 9)]);
  });
});

describe('grouped aggregate', () => {
  it('retracts the old count and emits the new one', () => {
    const h = new Harness(agg([countStar() as AggregateRule])).seed([[7]], [[1, 7, 0], [2, 7, 0]]);
    h.expect([ins(3, 7, 0)], [del(7, 2), ins(7, 3)]);
  });

  it('drops deltas for missing keys and emits nothing when a group is unchanged [note: missing-key]', () => {
    const h = new Harness(agg([countStar() as AggregateRule])).seed([[7]]);
    h.expect([ins(1, 8, 0)], []);
    h.expect([ins(1, 7, 0), del(1, 7, 0)], []);
  });

  it('knows an empty key: no group row, but a scalar aggregate answers COUNT 0 and SUM NULL', () => {
    const grouped = new Harness(agg([countStar() as AggregateRule])).seed([[7]]);
    assert.deepEqual(grouped.op.state?.rows(keyString([7])), []);
    const scalar = new Harness(agg([countStar() as AggregateRule, sum(2, 'x', { exact: true, scale: 0 }) as AggregateRule], true)).seed([[7]]);
    assert.deepEqual(scalar.op.state?.rows(keyString([7])), [[7, 0, null]]);
    scalar.expect([ins(1, 7, 5)], [del(7, 0, null), ins(7, 1, '5')]);
    scalar.expect([del(1, 7, 5)], [del(7, 1, '5'), ins(7, 0, null)]);
  });

  it('sums exactly and averages with four more decimals, rounding half away from zero', () => {
    const h = new Harness(agg([sum(2, 'x', { exact: true, scale: 2 }) as AggregateRule, avg(2, 'x', { exact: true, scale: 2 }) as AggregateRule])).seed([[1]]);
    h.expect([ins(1, 1, '0.10'), ins(2, 1, '0.20'), ins(3, 1, '0.01')], [ins(1, '0.31', '0.103333')]);
    h.expect([del(3, 1, '0.01'), ins(4, 1, '-1.00')], [del(1, '0.31', '0.103333'), ins(1, '-0.70', '-0.233333')]);
  });

  it('counts non-NULL values and distinct values, ignoring NULLs', () => {
    const h = new Harness(agg([countColumn(2, 'x') as AggregateRule, countDistinct(2, 'x') as AggregateRule])).seed([[1]]);
    h.expect([ins(1, 1, 5), ins(2, 1, 5), ins(3, 1, null)], [ins(1, 2, 1)]);
    h.expect([del(1, 1, 5)], [del(1, 2, 1), ins(1, 1, 1)]);
  });

  it('moves a row between keys on an UPDATE (−before, +after)', () => {
    const h = new Harness(agg([countStar() as AggregateRule])).seed([[1], [2]], [[1, 1, 0]]);
    h.expect([del(1, 1, 0), ins(1, 2, 0)], [del(1, 1), ins(2, 1)]);
  });

  it('shows a _ci group in a spelling its rows still have, and evicts when the counts cannot tell', () => {
    // Key g (exact), group x (case-insensitive): 'bob' and 'BOB' are one group.
    const ci = (): Aggregate => new Aggregate(source(['id', 'g', 'x']), { groupBy: [1, 2], keyCount: 1, rules: [countStar() as AggregateRule], scalar: false, fold: ['exact', lookAlikeCi()] });
    const h = new Harness(ci()).seed([[1]], [[1, 1, 'bob'], [2, 1, 'bob']]);
    h.expect([del(1, 1, 'bob'), ins(1, 1, 'BOB')], []);
    h.expect([del(2, 1, 'bob'), ins(2, 1, 'BOB')], [del(1, 'bob', 2), ins(1, 'BOB', 2)]);
    // Filled from an aggregate upquery: one row has the spelling MariaDB showed, the others' are
    // not known. Another spelling going out leaves that one; that one going out cannot tell.
    const a = ci();
    a.fillFromAggregates([[1]], [[1, 'Ann', 3, 3]]);
    const r = new Harness(a);
    r.expect([del(5, 1, 'ANN')], [del(1, 'Ann', 3), ins(1, 'Ann', 2)]);
    r.expect([del(6, 1, 'Ann')], [], { evicted: [[1]] });
  });

  it('installs a fill from aggregate rows and builds the aggregate upquery, never the rows', () => {
    const a = agg([countStar() as AggregateRule, min(2, 'x') as AggregateRule]);
    const q = a.fillQuery([[1], [2]]);
    // The first COUNT(*) is the group's own row count, the second the rule's state.
    assert.equal(q.sql, 'SELECT `g`, COUNT(*), COUNT(*), MIN(`x`), COUNT(`x`) FROM `t` WHERE (`g` IN (1, 2)) GROUP BY `g`');
    q.install([[1, 3, 3, 4, 3]]);
    assert.deepEqual(a.rows(keyString([1])), [[1, 3, 4]]);
    assert.deepEqual(a.rows(keyString([2])), []);
    assert.equal(a.describe(), 'γ[g] COUNT(*), MIN(x)');
  });
});

describe('extremum', () => {
  it('moves MIN/MAX outward on insert and keeps them when another row is deleted', () => {
    const h = new Harness(agg([min(2, 'x') as AggregateRule, max(2, 'x') as AggregateRule])).seed([[1]], [[1, 1, 5], [2, 1, 7]]);
    h.expect([ins(3, 1, 3)], [del(1, 5, 7), ins(1, 3, 7)]);
    h.expect([del(1, 1, 5)], []);
  });

  it('evicts the key instead of guessing when the current extreme is deleted [note: evict-not-guess]', () => {
    const h = new Harness(agg([min(2, 'x') as AggregateRule])).seed([[1], [2]], [[1, 1, 5], [2, 1, 7], [3, 2, 1]]);
    h.expect([del(1, 1, 5)], [], { evicted: [[1]] });
    assert.equal(h.op.state?.has(keyString([1])), false);
    assert.equal(h.op.state?.has(keyString([2])), true);
  });

  it('goes to NULL when the last non-NULL value leaves', () => {
    const h = new Harness(agg([max(2, 'x') as AggregateRule, countStar() as AggregateRule])).seed([[1]], [[1, 1, 5], [2, 1, null]]);
    h.expect([del(1, 1, 5)], [del(1, 5, 2), ins(1, null, 1)]);
  });
});

describe('reader', () => {
  const reader = () => new Reader(source(['id', 'g', 'x']), { key: [1], fold: ['exact'], visible: 1, orderBy: [{ column: 2, desc: true, order: (a, b) => Number(a) - Number(b) }], limit: null, distinct: false }, 'c1');

  it('holds present keys, drops deltas for missing ones, and answers sorted visible columns', () => {
    const r = reader();
    const h = new Harness(r).seed([[1]], [[1, 1, 5]]);
    h.expect([ins(2, 1, 9), ins(3, 2, 1)], []);
    assert.deepEqual(r.answer(keyString([1])), [[2], [1]]);
    assert.equal(r.answer(keyString([2])), undefined);
    h.expect([del(2, 1, 9)], []);
    assert.deepEqual(r.answer(keyString([1])), [[1]]);
  });

  it('evicts a key asked to retract a row it never held rather than serve it', () => {
    const r = reader();
    const h = new Harness(r).seed([[1]]);
    h.expect([del(5, 1, 5)], [], { evicted: [[1]] });
    assert.equal(r.has(keyString([1])), false);
  });

  it('fills from SQL restricted to its keys', () => {
    const r = reader();
    assert.equal(r.fillQuery([[1], [2]]).sql, 'SELECT `id`, `g`, `x` FROM `t` WHERE (`g` IN (1, 2))');
    assert.equal(r.describe(), 'reader[g = ?] order by x DESC');
  });
});
