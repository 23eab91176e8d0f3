/**
 * Oracle of range caches ([note: range-state]) under the races of [note: fill-position]: seeded
 * random transactions committed upstream and applied by the stream some steps later, interval
 * fills answered at random binlog positions (behind the stream, [note: snapshot-behind-stream],
 * or ahead of it) while batches keep coming, LIMIT-bounded fills whose ties at the cut come back
 * in any order, and memory evictions of single intervals. Whenever no fill is ahead of the stream,
 * every covered interval of every key MUST hold exactly the rows the table has there (and no row
 * is held outside one), and every read a reader answers MUST equal the query evaluated from
 * scratch. A failure prints its seed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/dataflow/graph.js';
import { Upqueries, type SnapshotReader, type SnapshotResult } from '../../src/dataflow/upquery.js';
import { fillRange } from '../../src/dataflow/range-fill.js';
import { contains, type Interval } from '../../src/dataflow/intervals.js';
import { keyString, type EvictionCandidate } from '../../src/dataflow/state.js';
import { rowKey, type Delta, type Row } from '../../src/dataflow/delta.js';
import type { Batch, BinlogPosition } from '../../src/dataflow/batch.js';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { buildCache } from '../../src/planner/build.js';
import type { TableSchema } from '../../src/planner/schema.js';
import type { RangeReader } from '../../src/operators/range-reader.js';
import { seededRandom as prng } from '../support/seeded-random.js';
import '../support/collations.js';
import { rowsAt } from './rows-at.js';

const schema: TableSchema = {
  database: 'd', table: 't',
  columns: [
    { name: 'id', dataType: 'int', scale: 0, collation: null, primary: true },
    { name: 'g', dataType: 'int', scale: 0, collation: null },
    { name: 'v', dataType: 'int', scale: 0, collation: null },
    { name: 's', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci' },
  ],
};
const COLUMNS = schema.columns.map((c) => c.name);
const WORDS = ['a', 'A', 'b', 'B ', 'bb', 'c', 'Cc', 'd', 'é', 'E'];

/** Each query, and how a read's key is drawn: its parameters in order. */
const QUERIES: Array<{ sql: string; key: (rnd: () => number) => Row }> = [
  { sql: 'SELECT id, v FROM t WHERE g = ? AND v > ? ORDER BY v LIMIT 3', key: (r) => [Math.floor(r() * 3), Math.floor(r() * 12) - 1] },
  { sql: 'SELECT id, v FROM t WHERE v BETWEEN ? AND ?', key: (r) => { const a = Math.floor(r() * 10); return [a, a + Math.floor(r() * 5) - 1]; } },
  { sql: 'SELECT id, v FROM t WHERE g = ? AND v <= ? ORDER BY v DESC, id DESC LIMIT 2', key: (r) => [Math.floor(r() * 3), Math.floor(r() * 11)] },
  { sql: 'SELECT id, s FROM t WHERE s >= ? AND s < ? AND v <> 3 ORDER BY s', key: (r) => [WORDS[Math.floor(r() * WORDS.length)], WORDS[Math.floor(r() * WORDS.length)]] },
  { sql: 'SELECT id FROM t WHERE g = ? AND v >= ? AND v < ? ORDER BY v LIMIT 1', key: (r) => [Math.floor(r() * 3), Math.floor(r() * 6), 3 + Math.floor(r() * 8)] },
];

const at = (n: number): BinlogPosition => ({ file: 'bin.000001', position: n });

/** A key's partition and interval, as views/range-reads.ts splits it. */
const plans = new Map<string, ReturnType<typeof planSelect>>();
function split(sql: string, key: Row): { part: Row; want: Interval } {
  let plan = plans.get(sql);
  if (plan === undefined) plans.set(sql, (plan = planSelect(parseStatement(sql), schema, true)));
  const range = plan.range!;
  const part = key.filter((_, i) => plan.params[i].bound === undefined);
  const lo = range.lower, hi = range.upper;
  return { part, want: { lo: lo === null ? null : { v: key[lo.param], incl: lo.incl }, hi: hi === null ? null : { v: key[hi.param], incl: hi.incl } } };
}

/** The rows of partition `part` of `reader` in `iv`, from the table `rows`, in the reader's row order. */
function truth(reader: RangeReader, rows: ReadonlyArray<Row>, part: Row, iv: Interval): Row[] {
  const { key, fold, column, order } = reader.range;
  const ks = keyString(part, fold);
  return rowsAt(reader.parents[0], rows)
    .filter((r) => keyString(key.map((k) => r[k]), fold) === ks && r[column] !== null && contains(iv, r[column], order))
    .sort(reader.rowOrder);
}

async function run(seed: number, steps: number): Promise<void> {
  const rnd = prng(seed);
  const graph = new Graph();
  const readers = QUERIES.map((q, i) => {
    const built = buildCache(graph, planSelect(parseStatement(q.sql), schema, true), `c${i}`);
    return built.range!;
  });
  // The table as committed after each transaction (states[n] at position n), and what the stream applied.
  const table = new Map<number, Row>();
  const states: Row[][] = [[]];
  const batches: Batch[] = [];
  let applied = 0, nextId = 1;
  // Upqueries out: their SQL, the node and request that made it, and how to answer.
  const asked = new Map<string, { reader: RangeReader; part: Row; gap: Interval; rows: number | null }>();
  for (const r of readers) {
    const own = r.rangeQuery.bind(r);
    r.rangeQuery = (part, gap, rows) => { const q = own(part, gap, rows); asked.set(q.sql, { reader: r, part, gap, rows }); return q; };
  }
  const pending: Array<{ sql: string; locking: boolean; resolve: (r: SnapshotResult) => void }> = [];
  const upstream: SnapshotReader = { snapshotQuery: (sql, locking = false) => new Promise((resolve) => pending.push({ sql, locking, resolve })) };
  const upq = new Upqueries(graph, upstream);
  const fills: Array<Promise<boolean>> = [];
  const where = (step: number, what: string) => `seed ${seed}, step ${step}: ${what}`;

  const commit = (): void => {
    const deltas: Delta[] = [];
    for (let i = 0; i < 1 + Math.floor(rnd() * 3); i++) {
      const ids = [...table.keys()];
      const fresh = (id: number): Row => [id, Math.floor(rnd() * 3), rnd() < 0.1 ? null : Math.floor(rnd() * 10), WORDS[Math.floor(rnd() * WORDS.length)]];
      const u = rnd();
      if (u < 0.5 || ids.length === 0) {
        const row = fresh(nextId++);
        table.set(row[0] as number, row);
        deltas.push({ row, sign: 1 });
      } else {
        const id = ids[Math.floor(rnd() * ids.length)];
        const old = table.get(id)!;
        deltas.push({ row: old, sign: -1 });
        if (u < 0.75) table.delete(id);
        else {
          const row = fresh(id);
          table.set(id, row);
          deltas.push({ row, sign: 1 });
        }
      }
    }
    states.push([...table.values()]);
    batches.push({ gtid: null, position: at(states.length - 1), timestamp: 0, changes: [{ database: 'd', table: 't', columns: COLUMNS, deltas }] });
  };
  const apply = (): void => {
    if (applied >= batches.length) return;
    const b = batches[applied++];
    graph.applyBatch(b);
    upq.observe(b);
  };
  const read = (): void => {
    const qi = Math.floor(rnd() * QUERIES.length);
    const { part, want } = split(QUERIES[qi].sql, QUERIES[qi].key(rnd));
    const r = readers[qi].read(part, want, false);
    if ('gap' in r) fills.push(fillRange(upq, readers[qi], part, r.gap, r.need).catch(() => false));
  };
  const answer = (): void => {
    if (pending.length === 0) return;
    const [p] = pending.splice(Math.floor(rnd() * pending.length), 1);
    const req = asked.get(p.sql)!;
    // A snapshot may end before batches the stream applied; a locking read holds all of them.
    const from = p.locking ? applied : Math.max(0, applied - 3);
    const n = from + Math.floor(rnd() * (states.length - from));
    const { reader } = req;
    const { column, order, desc } = reader.range;
    let rows = truth(reader, states[n], req.part, req.gap)
      // MariaDB returns ties in any order: a LIMIT may cut among them anywhere.
      .map((r) => ({ r, k: rnd() }))
      .sort((a, b) => (desc ? -1 : 1) * order(a.r[column], b.r[column]) || a.k - b.k)
      .map((x) => x.r);
    if (req.rows !== null) rows = rows.slice(0, req.rows);
    p.resolve({ rows, position: at(n), ...(p.locking ? { locked: true } : {}) });
  };
  const evict = (): void => {
    const r = readers[Math.floor(rnd() * readers.length)];
    if (rnd() < 0.1) { graph.evictAll(r); return; }
    const out: EvictionCandidate[] = [];
    r.sample(8, out);
    if (out.length > 0) graph.evict(r, [out[Math.floor(rnd() * out.length)].keyRow]);
  };
  const check = (step: number): void => {
    if (upq.aheadOfStream()) return;
    const rows = states[applied];
    readers.forEach((r, qi) => {
      for (const part of [...r.keyRows()]) {
        const held = r.held(part)!;
        let inside = 0;
        for (const iv of held.covered) {
          const want = truth(r, rows, part, iv);
          const got = held.rows.filter((x) => contains(iv, x[r.range.column], r.range.order));
          inside += got.length;
          assert.deepEqual(got.map(rowKey), want.map(rowKey), where(step, `${QUERIES[qi].sql}: key ${JSON.stringify(part)} interval ${r.coverage(part).join(' ')}`));
        }
        assert.equal(inside, held.rows.length, where(step, `${QUERIES[qi].sql}: rows held outside every covered interval`));
      }
      // Reads the reader answers equal the query from scratch.
      for (let i = 0; i < 4; i++) {
        const { part, want } = split(QUERIES[qi].sql, QUERIES[qi].key(rnd));
        const got = r.read(part, want, false);
        if (!('rows' in got)) continue;
        const { limit, desc, visible } = r.range;
        let all = truth(r, rows, part, want);
        if (desc) all = all.reverse();
        if (limit !== null) all = all.slice(limit.offset, limit.offset + limit.count);
        assert.deepEqual(got.rows.map(rowKey), all.map((x) => rowKey(x.slice(0, visible))), where(step, `${QUERIES[qi].sql}: read ${JSON.stringify(part)} ${JSON.stringify(want)}`));
      }
    });
  };

  for (let step = 0; step < steps; step++) {
    const u = rnd();
    if (u < 0.25) commit();
    else if (u < 0.5) apply();
    else if (u < 0.75) read();
    else if (u < 0.95) answer();
    else evict();
    // Let the fills answered run to their end (they install synchronously once resumed).
    await new Promise((r) => setImmediate(r));
    check(step);
  }
  // Drain: every fill answered, every batch applied.
  while (pending.length > 0 || applied < batches.length) {
    answer();
    apply();
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(fills);
  check(steps);
  if (process.env.RANGE_ORACLE_STATS) console.log(seed, upq.stats, readers.map((r) => r.size));
}

describe('range oracle: covered intervals stay exact under racing fills, writes and evictions', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`holds for seed ${seed}`, async () => {
      await run(seed, 1500);
    });
  }
});
