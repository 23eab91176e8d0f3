import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addInterval, coveredStart, describeInterval, holding, intersect, subtractInterval, type Interval } from '../../src/dataflow/intervals.js';
import { compareValues } from '../../src/values.js';
import { RangeReader } from '../../src/operators/range-reader.js';
import { binaryOrder } from '../../src/operators/extremum.js';
import type { EvictionCandidate } from '../../src/dataflow/state.js';
import { keyString } from '../../src/dataflow/state.js';
import type { Row } from '../../src/dataflow/delta.js';
import { source, ins, del } from '../operators/harness.js';

const cmp = compareValues;
const iv = (lo: number | null, loIncl: boolean, hi: number | null, hiIncl: boolean): Interval => ({
  lo: lo === null ? null : { v: lo, incl: loIncl }, hi: hi === null ? null : { v: hi, incl: hiIncl },
});
const show = (set: ReadonlyArray<Interval>) => set.map(describeInterval);

describe('intervals', () => {
  it('merges intervals that overlap or touch, and keeps apart those with a value between them', () => {
    let s = addInterval([], iv(1, true, 3, false), cmp);
    s = addInterval(s, iv(5, true, 7, true), cmp);
    assert.deepEqual(show(s), ['[1, 3)', '[5, 7]']);
    // [3, 5) touches both: one interval.
    assert.deepEqual(show(addInterval(s, iv(3, true, 5, false), cmp)), ['[1, 7]']);
    // (3, 5) leaves the value 3 out: still apart from [1, 3).
    assert.deepEqual(show(addInterval(s, iv(3, false, 5, false), cmp)), ['[1, 3)', '(3, 7]']);
    assert.deepEqual(show(addInterval(s, iv(null, false, 2, true), cmp)), ['(-∞, 3)', '[5, 7]']);
    assert.deepEqual(show(addInterval(s, iv(0, true, null, false), cmp)), ['[0, +∞)']);
    // An empty interval adds nothing.
    assert.deepEqual(show(addInterval(s, iv(4, false, 4, true), cmp)), ['[1, 3)', '[5, 7]']);
  });

  it('splits an interval a subtraction cuts in the middle, keeping each end exact', () => {
    const s = [iv(null, false, null, false)];
    assert.deepEqual(show(subtractInterval(s, iv(3, true, 5, false), cmp)), ['(-∞, 3)', '[5, +∞)']);
    assert.deepEqual(show(subtractInterval([iv(1, true, 9, true)], iv(1, true, 9, true), cmp)), []);
    assert.deepEqual(show(subtractInterval([iv(1, true, 9, true)], iv(1, false, 9, false), cmp)), ['[1, 1]', '[9, 9]']);
    assert.deepEqual(show(subtractInterval([iv(1, true, 3, true), iv(5, true, 9, true)], iv(2, true, 6, true), cmp)), ['[1, 2)', '(6, 9]']);
  });

  it('finds the interval holding a value, and the covered run from a read\'s start', () => {
    const s = [iv(1, true, 3, false), iv(5, false, 7, true)];
    assert.equal(holding(s, 3, cmp), undefined);
    assert.equal(holding(s, 5, cmp), undefined);
    assert.deepEqual(holding(s, 6, cmp), s[1]);
    assert.deepEqual(show([coveredStart(s, iv(2, true, 9, true), cmp) as Interval]), ['[2, 3)']);
    assert.equal(coveredStart(s, iv(3, true, 9, true), cmp), null);
    assert.deepEqual(intersect(iv(1, true, 5, true), iv(5, true, 8, true), cmp), iv(5, true, 5, true));
    assert.equal(intersect(iv(1, true, 5, false), iv(5, true, 8, true), cmp), null);
  });
});

// Rows [id, g, v]: keyed by g, the range on v, ties by id.
function reader(limit: number | null, desc = false): RangeReader {
  return new RangeReader(source(['id', 'g', 'v']), {
    key: [1], fold: ['exact'], visible: 3, column: 2, order: binaryOrder, ties: [{ column: 0, order: binaryOrder }], desc,
    limit: limit === null ? null : { offset: 0, count: limit },
  }, 'c');
}

const TABLE: Row[] = [[1, 1, 10], [2, 1, 20], [3, 1, 20], [4, 1, 30], [5, 1, 40], [6, 2, 10]];

/** Installs `gap` of partition g as the upquery of `rows` rows would answer it from TABLE. */
function fill(r: RangeReader, g: number, gap: Interval, rows: number | null): Interval | null {
  const q = r.rangeQuery([g], gap, rows);
  const desc = r.range.desc;
  let got = TABLE.filter((x) => x[1] === g && (gap.lo === null || cmp(x[2], gap.lo.v) > 0 || (gap.lo.incl && cmp(x[2], gap.lo.v) === 0))
    && (gap.hi === null || cmp(x[2], gap.hi.v) < 0 || (gap.hi.incl && cmp(x[2], gap.hi.v) === 0)));
  got.sort((a, b) => (desc ? -1 : 1) * cmp(a[2], b[2]));
  if (rows !== null) got = got.slice(0, rows);
  return q.install(got);
}

describe('range reader (ordered state)', () => {
  it('covers a LIMIT-bounded fill only up to the value of the last row it returned', () => {
    const r = reader(2);
    const read = r.read([1], iv(10, false, null, false));
    assert.ok('gap' in read);
    assert.deepEqual(read, { gap: iv(10, false, null, false), need: 2 });
    // 3 rows asked from (10, +∞): 20, 20, 30; the rows at 30 may go on, so (10, 30) is covered.
    assert.deepEqual(show([fill(r, 1, read.gap, 3) as Interval]), ['(10, 30)']);
    assert.deepEqual(r.coverage([1]), ['(10, 30)']);
    assert.deepEqual(r.read([1], iv(10, false, null, false)), { rows: [[2, 1, 20], [3, 1, 20]] });
    // The next page starts at 20: one row held, the hole from 30 on is what a fill must bring.
    assert.deepEqual(r.read([1], iv(20, false, null, false)), { gap: iv(30, true, null, false), need: 2 });
    // Fewer rows than asked: the whole hole is covered.
    fill(r, 1, iv(30, true, null, false), 3);
    assert.deepEqual(r.coverage([1]), ['(10, +∞)']);
    assert.deepEqual(r.read([1], iv(20, false, null, false)), { rows: [[4, 1, 30], [5, 1, 40]] });
    assert.deepEqual(r.read([1], iv(35, false, null, false)), { rows: [[5, 1, 40]] });
  });

  it('reads in descending order from the upper bound', () => {
    const r = reader(2, true);
    const read = r.read([1], iv(null, false, 40, false));
    assert.deepEqual(read, { gap: iv(null, false, 40, false), need: 2 });
    // DESC: 30, 20, 20 → covers (20, 40): rows at 20 may go on.
    assert.deepEqual(show([fill(r, 1, iv(null, false, 40, false), 3) as Interval]), ['(20, 40)']);
    assert.deepEqual(r.read([1], iv(null, false, 40, false)), { gap: iv(null, false, 20, true), need: 1 });
    fill(r, 1, iv(null, false, 20, true), 10);
    assert.deepEqual(r.read([1], iv(null, false, 40, false)), { rows: [[4, 1, 30], [3, 1, 20]] });
  });

  it('applies deltas inside covered intervals only, and evicts an interval a delete shows wrong', () => {
    const r = reader(null);
    fill(r, 1, iv(15, true, 35, true), null);
    r.onBatch(0, [ins(7, 1, 25), ins(8, 1, 50), ins(9, 2, 25), ins(10, 1, null)]);
    assert.deepEqual(r.read([1], iv(15, true, 35, true)), { rows: [[2, 1, 20], [3, 1, 20], [7, 1, 25], [4, 1, 30]] });
    assert.deepEqual(r.held([1])?.rows.length, 4);
    r.onBatch(0, [del(3, 1, 20)]);
    assert.deepEqual(r.read([1], iv(19, true, 21, true)), { rows: [[2, 1, 20]] });
    // A row the interval never held: it is not what MariaDB holds, so it goes.
    r.onBatch(0, [del(99, 1, 22)]);
    assert.deepEqual(r.coverage([1]), []);
  });

  it('lets the memory budget evict one interval, keeping the others exact', () => {
    const r = reader(null);
    fill(r, 1, iv(5, true, 15, true), null);
    fill(r, 1, iv(25, true, 45, true), null);
    assert.deepEqual(r.coverage([1]), ['[5, 15]', '[25, 45]']);
    const out: EvictionCandidate[] = [];
    assert.ok(r.sample(10, out) > 0);
    assert.equal(out.length, 2);
    assert.ok(r.has(keyString(out[1].keyRow, r.fold)));
    assert.equal(r.evict(keyString(out[1].keyRow, r.fold)), true);
    assert.deepEqual(r.coverage([1]), ['[5, 15]']);
    assert.deepEqual(r.held([1])?.rows, [[1, 1, 10]]);
    assert.ok('gap' in r.read([1], iv(25, true, 45, true)));
  });

  it('answers a read whose bounds cross with no rows, as MariaDB does', () => {
    assert.deepEqual(reader(null).read([1], iv(5, true, 3, true)), { rows: [] });
  });
});

describe('range reader under the memory budget', () => {
  it('evicts the coldest intervals until the state is under its limit, the rest kept exact', async () => {
    const { default: pino } = await import('pino');
    const { MemoryBudget } = await import('../../src/views/memory-budget.js');
    const { Graph } = await import('../../src/dataflow/graph.js');
    const { buildCache } = await import('../../src/planner/build.js');
    const { planSelect } = await import('../../src/planner/plan.js');
    const { parseStatement } = await import('../../src/planner/parse.js');
    const graph = new Graph();
    const schema = { database: 'd', table: 't', columns: [{ name: 'id', dataType: 'int', scale: 0, collation: null, primary: true }, { name: 'v', dataType: 'int', scale: 0, collation: null }] };
    const r = buildCache(graph, planSelect(parseStatement('SELECT id, v FROM t WHERE v BETWEEN ? AND ?'), schema, true), 'c').range!;
    const { rowsAt } = await import('../oracle/rows-at.js');
    // As the projection above the reader yields them: [id, v, v (the range), id (the tie)].
    const table: Row[] = rowsAt(r.parents[0], Array.from({ length: 2000 }, (_, i) => [i, i]));
    // 100 intervals of 10 rows, two values apart; the first 50 read again since.
    for (let k = 0; k < 100; k++) {
      const gap = iv(k * 20, true, k * 20 + 9, true);
      r.rangeQuery([], gap, null).install(table.filter((x) => (x[1] as number) >= k * 20 && (x[1] as number) <= k * 20 + 9));
    }
    for (let k = 0; k < 50; k++) assert.ok('rows' in r.read([], iv(k * 20, true, k * 20 + 9, true)));
    assert.equal(r.size, 100);
    const full = r.usage().bytes;
    const limited = new MemoryBudget(graph, Math.round(full / 2), pino({ level: 'silent' }));
    for (let i = 0; i < 5 && r.size > 60; i++) limited.check();
    assert.ok(r.size < 100 && r.size > 0, `${r.size} intervals left`);
    const held = r.held([])!;
    for (const c of held.covered) {
      const got = held.rows.filter((x) => contains(c, x[1]));
      assert.deepEqual(got, table.filter((x) => contains(c, x[1])));
    }
    // The intervals read again are kept before the others.
    const kept = held.covered.filter((c) => (c.lo!.v as number) < 1000).length;
    assert.ok(kept > (r.size - kept), `read again: ${kept} of ${r.size} kept`);
  });
});

function contains(c: Interval, v: unknown): boolean {
  return (c.lo === null || cmp(v as number, c.lo.v) > 0 || (c.lo.incl && v === c.lo.v)) && (c.hi === null || cmp(v as number, c.hi.v) < 0 || (c.hi.incl && v === c.hi.v));
}
