/**
 * The reader of a range cache (`WHERE [eq = ? AND …] col > ? [AND col <= ?] [ORDER BY col LIMIT k]`):
 * keyed by its equality parameters, and within each key (a "partition") an ordered state.
 *
 * [note: range-state] A partition holds the rows it knows sorted by the range column (ties by the
 * tie-break columns), and the intervals of the column's values those rows cover exactly
 * (src/dataflow/intervals.ts): inside a covered interval, the rows held are every row MariaDB has
 * there; outside, nothing is known (a hole), whatever rows happen to be held nowhere. So:
 *   - a read is answered only from covered values: a read whose wanted rows run into a hole is a
 *     miss, and the fill asks MariaDB for the hole from where the covered run stops
 *     (src/dataflow/range-fill.ts); a fill bounded by a LIMIT covers only up to (not including)
 *     the value of the last row it returned, or the whole hole when it returned fewer rows;
 *   - a delta inside a covered interval is applied (an insert placed in order, a delete removes
 *     its row; a delete of a row not held evicts the interval rather than guess), one outside is
 *     dropped ([note: missing-key]), and a row whose value is NULL is in no interval (no range
 *     comparison holds for NULL);
 *   - a fill installs its interval at its binlog position as a keyed fill does ([note: fill-position]):
 *     the rows held in the interval are replaced by the fill's, the batches past its position are
 *     replayed onto that interval only, and while the stream is behind the position a fence on
 *     that interval (not on the partition: the rest of it is at the stream's position) skips the
 *     batches the fill already holds;
 *   - the memory budget evicts one interval at a time ([note: memory-budget]): its rows and its
 *     coverage go, the rest of the partition stays exact.
 * Values compare as MariaDB compares them with the parameter (the planner refuses the column
 * types and the parameter values where that is not a plain order of values: planner/coerce.ts).
 * Pinned by test/dataflow/intervals.test.ts, test/oracle/range-oracle.test.ts and
 * test/logic/ranges.slt.
 */
import { usage } from '../dataflow/usage.js';
import type { Usage } from '../dataflow/keyed-entries.js';
import type { Delta, Row } from '../dataflow/delta.js';
import { EMPTY_RESULT, type BatchResult, type DerivedAnswer, type Operator, type ReaderAnswer } from '../dataflow/operator.js';
import { keyOfRow, keyString, rowBytes, sameRow, type EvictionCandidate, type FillQuery, type KeyFold } from '../dataflow/state.js';
import { comparePositions, type BinlogPosition } from '../dataflow/batch.js';
import {
  aboveLo, addInterval, after, belowHi, compareHi, contains, coveredStart, describeInterval, holding, intersect, isEmpty, mirror, mirrorSet,
  subtractInterval, type Compare, type Interval,
} from '../dataflow/intervals.js';
import type { RangeFillable, RangeQuery } from '../dataflow/range-fill.js';
import { renderSelect, sqlLiteral } from '../dataflow/sql.js';
import { invariant } from '../errors.js';
import type { Value } from '../values.js';
import { Reader } from './reader.js';
import type { ValueOrder } from './extremum.js';

export interface RangeSpec {
  /** Input columns of the equality parameters (the partition key), in parameter order. */
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  /** How many leading input columns the client sees. */
  readonly visible: number;
  /** The input column the range is on, and how its values order. */
  readonly column: number;
  readonly order: ValueOrder;
  /** Columns that order rows of equal range values (the primary key, or every column), with their orders. */
  readonly ties: ReadonlyArray<{ readonly column: number; readonly order: ValueOrder }>;
  /** ORDER BY the range column DESC. */
  readonly desc: boolean;
  /** The query's constant LIMIT, or null. */
  readonly limit: { readonly offset: number; readonly count: number } | null;
}

interface Partition {
  readonly keyRow: Row;
  used: number;
  /** Rows held, ascending by the range column then the ties. */
  rows: Row[];
  /** Intervals held exactly. */
  covered: Interval[];
  /** Intervals filled ahead of the stream, with the position their fill holds. */
  fences: Array<{ readonly iv: Interval; readonly at: BinlogPosition }>;
  bytes: number;
}

/** What a read of a range finds: its rows, or the hole a fill must cover first (with the rows it must bring, null for all). */
export type RangeRead = { readonly rows: ReadonlyArray<Row> } | { readonly gap: Interval; readonly need: number | null };

export class RangeReader extends Reader implements RangeFillable {
  readonly #spec: RangeSpec;
  readonly #parts = new Map<string, Partition>();
  readonly #cmp: Compare;
  readonly #rev: Compare;
  readonly #rowCmp: (a: Row, b: Row) => number;
  #bytes = 0;
  /** Covered intervals in all partitions: the state's size, as the memory budget counts its keys. */
  #intervals = 0;
  /** While a fill's batches are replayed: the partition and interval they apply to. */
  #replaying: { readonly part: string; readonly iv: Interval } | null = null;
  /** Eviction candidates handed to the budget, by their key string: partition and interval. */
  #candidates = new Map<string, { readonly part: string; readonly iv: Interval }>();
  #nextCandidate = 0;
  /** Where the next {@link sample} starts, so every interval is looked at in turn. */
  #hand = 0;
  /** Each covered interval's usage tick ([note: memory-budget]); an interval without one has its partition's. */
  readonly #ticks = new WeakMap<Interval, number>();

  constructor(parent: Operator, spec: RangeSpec, cacheId: string) {
    super(parent, { key: spec.key, fold: spec.fold, visible: spec.visible, orderBy: [], limit: null, distinct: false }, cacheId);
    this.#spec = spec;
    const order = spec.order;
    this.#cmp = (a, b) => order(a, b);
    this.#rev = (a, b) => order(b, a);
    const col = spec.column;
    this.#rowCmp = (a, b) => {
      const c = order(a[col], b[col]);
      if (c !== 0) return c;
      for (const t of spec.ties) {
        const d = t.order(a[t.column], b[t.column]);
        if (d !== 0) return d;
      }
      return 0;
    };
  }

  override describe(): string {
    const key = this.#spec.key.map((i) => `${this.columns[i]} = ?`);
    const range = `${this.columns[this.#spec.column]} in range`;
    const limit = this.#spec.limit === null ? '' : ` limit ${this.#spec.limit.count}`;
    return `range-reader[${[...key, range].join(' AND ')}] order by ${this.columns[this.#spec.column]}${this.#spec.desc ? ' DESC' : ''}${limit}`;
  }

  /** The spec the cache reads with (its LIMIT and direction). */
  get range(): RangeSpec {
    return this.#spec;
  }

  /**
   * The rows of `want` in partition `keyRow` as the query orders and cuts them, or the hole that
   * keeps it from answering. A use is counted when `count`.
   */
  read(keyRow: Row, want: Interval, count = true): RangeRead {
    const { limit, desc, column, visible } = this.#spec;
    const need = limit === null ? null : limit.offset + limit.count;
    // MariaDB finds nothing between bounds that cross (`BETWEEN 5 AND 3`).
    if (isEmpty(want, this.#cmp) || need === 0) return { rows: [] };
    const p = this.#parts.get(keyString(keyRow, this.#spec.fold));
    if (p === undefined) return { gap: want, need };
    if (count) {
      p.used = usage.tick++;
      for (const s of p.covered) if (intersect(s, want, this.#cmp) !== null) this.#ticks.set(s, p.used);
    }
    const cmp = desc ? this.#rev : this.#cmp;
    const w = desc ? mirror(want) : want;
    const run = coveredStart(desc ? mirrorSet(p.covered) : p.covered, w, cmp);
    const got: Row[] = [];
    if (run !== null) {
      const rows = p.rows;
      if (!desc) {
        for (let i = this.#first(rows, run.lo); i < rows.length && belowHi(rows[i][column], run.hi, cmp); i++) {
          got.push(rows[i]);
          if (need !== null && got.length >= need) break;
        }
      } else {
        // Mirrored: run.lo is the upper end in the column's own order.
        for (let i = this.#lastAtOrBelow(rows, run.lo); i >= 0 && belowHi(rows[i][column], run.hi, cmp); i--) {
          got.push(rows[i]);
          if (need !== null && got.length >= need) break;
        }
      }
      if ((need !== null && got.length >= need) || compareHi(run.hi, w.hi, cmp) >= 0) {
        const cut = limit === null ? got : got.slice(limit.offset, limit.offset + limit.count);
        return { rows: cut.map((r) => (r.length > visible ? r.slice(0, visible) : r)) };
      }
    }
    const gap: Interval = { lo: run === null ? w.lo : after(run.hi), hi: w.hi };
    return { gap: desc ? mirror(gap) : gap, need: need === null ? null : need - got.length };
  }

  /** First index whose value is at or above `lo` (ascending rows). */
  #first(rows: ReadonlyArray<Row>, lo: Interval['lo']): number {
    const col = this.#spec.column;
    let a = 0, b = rows.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (aboveLo(rows[m][col], lo, this.#cmp)) b = m; else a = m + 1;
    }
    return a;
  }

  /** Last index whose value is at or below `hi` (a bound in the column's own order), or -1. */
  #lastAtOrBelow(rows: ReadonlyArray<Row>, hi: Interval['hi']): number {
    const col = this.#spec.column;
    let a = 0, b = rows.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (belowHi(rows[m][col], hi, this.#cmp)) a = m + 1; else b = m;
    }
    return a - 1;
  }

  /**
   * The upquery for `gap` of partition `keyRow`: the rows there, in the read's direction, at most
   * `rows` of them (null: all), and how to install them at the fill's position.
   */
  rangeQuery(keyRow: Row, gap: Interval, rows: number | null): RangeQuery {
    const p = this.parents[0].sql();
    invariant(p !== null, 'a range reader fills from MySQL only when the nodes above it are stateless');
    const { key, column, desc } = this.#spec;
    const col = p.select[column];
    const where = key.map((k, i) => `${p.select[k]} = ${sqlLiteral(keyRow[i])}`);
    where.push(`${col} IS NOT NULL`);
    if (gap.lo !== null) where.push(`${col} ${gap.lo.incl ? '>=' : '>'} ${sqlLiteral(gap.lo.v)}`);
    if (gap.hi !== null) where.push(`${col} ${gap.hi.incl ? '<=' : '<'} ${sqlLiteral(gap.hi.v)}`);
    let sql = renderSelect(p, p.select, where);
    if (rows !== null) sql += ` ORDER BY ${col}${desc ? ' DESC' : ''} LIMIT ${rows}`;
    return {
      sql,
      install: (got) => this.#install(keyRow, gap, rows, got),
    };
  }

  /** Installs a fill's rows; returns the interval they cover (null: none, the rows all tie at the cut). */
  #install(keyRow: Row, gap: Interval, asked: number | null, got: ReadonlyArray<Row>): Interval | null {
    const { column, desc } = this.#spec;
    let iv = gap;
    let rows = got.filter((r) => r[column] !== null && contains(gap, r[column], this.#cmp));
    if (asked !== null && got.length >= asked) {
      // More rows may lie past the last one returned, some with its very value: cover up to it, not including it.
      const cut = got[got.length - 1][column];
      iv = desc ? { lo: { v: cut, incl: false }, hi: gap.hi } : { lo: gap.lo, hi: { v: cut, incl: false } };
      if (isEmpty(iv, this.#cmp)) return null;
      rows = rows.filter((r) => contains(iv, r[column], this.#cmp));
    }
    const ks = keyString(keyRow, this.#spec.fold);
    let p = this.#parts.get(ks);
    if (p === undefined) {
      p = { keyRow, used: usage.tick++, rows: [], covered: [], fences: [], bytes: 0 };
      usage.installs++;
      this.#parts.set(ks, p);
    }
    this.#dropRows(p, iv);
    rows.sort(this.#rowCmp);
    for (const r of rows) this.#insert(p, r);
    this.#cover(p, addInterval(p.covered, iv, this.#cmp));
    // The fences of earlier fills no longer speak for this interval: its rows are this fill's.
    if (p.fences.length > 0) p.fences = p.fences.flatMap((f) => subtractInterval([f.iv], iv, this.#cmp).map((x) => ({ iv: x, at: f.at })));
    return iv;
  }

  /** Runs `replay` with batches applying to `iv` of partition `keyRow` only ([note: fill-position]). */
  replaying(keyRow: Row, iv: Interval, replay: () => void): void {
    this.#replaying = { part: keyString(keyRow, this.#spec.fold), iv };
    try {
      replay();
    } finally {
      this.#replaying = null;
    }
  }

  /** The stream is behind `at`, which the fill of `iv` holds: its batches up to `at` skip `iv`. */
  fenceRange(keyRow: Row, iv: Interval, at: BinlogPosition): void {
    const p = this.#parts.get(keyString(keyRow, this.#spec.fold));
    if (p !== undefined) p.fences.push({ iv, at });
  }

  override onBatch(_from: number, deltas: ReadonlyArray<Delta>, ctx?: { readonly position: BinlogPosition | null }): BatchResult {
    if (this.#parts.size === 0) return EMPTY_RESULT;
    const { key, fold, column } = this.#spec;
    const replay = this.#replaying;
    const position = ctx?.position ?? null;
    for (const d of deltas) {
      const ks = keyOfRow(d.row, key, fold);
      if (replay !== null && ks !== replay.part) continue;
      const p = this.#parts.get(ks);
      const v = d.row[column];
      if (p === undefined || v === null) continue;
      if (replay !== null) {
        if (!contains(replay.iv, v, this.#cmp)) continue;
      } else {
        if (holding(p.covered, v, this.#cmp) === undefined) continue;
        if (p.fences.length > 0 && position !== null && this.#fenced(p, v, position)) continue;
      }
      if (d.sign === 1) this.#insert(p, d.row);
      else if (!this.#remove(p, d.row)) {
        // [note: evict-not-guess] A row this interval never held: it is not what MariaDB holds.
        const iv = holding(p.covered, v, this.#cmp);
        if (iv !== undefined) this.#evictInterval(ks, iv);
      }
    }
    return EMPTY_RESULT;
  }

  #fenced(p: Partition, v: Value, position: BinlogPosition): boolean {
    p.fences = p.fences.filter((f) => comparePositions(position, f.at) <= 0);
    return p.fences.some((f) => contains(f.iv, v, this.#cmp));
  }

  #insert(p: Partition, row: Row): void {
    const rows = p.rows;
    let a = 0, b = rows.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (this.#rowCmp(rows[m], row) <= 0) a = m + 1; else b = m;
    }
    rows.splice(a, 0, row);
    const n = rowBytes(row);
    p.bytes += n;
    this.#bytes += n;
  }

  #remove(p: Partition, row: Row): boolean {
    const rows = p.rows;
    const col = this.#spec.column;
    for (let i = this.#first(rows, { v: row[col], incl: true }); i < rows.length && this.#cmp(rows[i][col], row[col]) === 0; i++) {
      if (!sameRow(rows[i], row)) continue;
      rows.splice(i, 1);
      const n = rowBytes(row);
      p.bytes -= n;
      this.#bytes -= n;
      return true;
    }
    return false;
  }

  /** Drops the rows held in `iv` (the interval itself stays as covered as it was). */
  #dropRows(p: Partition, iv: Interval): void {
    const col = this.#spec.column;
    const from = this.#first(p.rows, iv.lo);
    let to = from;
    while (to < p.rows.length && belowHi(p.rows[to][col], iv.hi, this.#cmp)) to++;
    if (to === from) return;
    let n = 0;
    for (let i = from; i < to; i++) n += rowBytes(p.rows[i]);
    p.rows.splice(from, to - from);
    p.bytes -= n;
    this.#bytes -= n;
  }

  /** An interval leaves: its rows and its coverage; an empty partition leaves with it. */
  #evictInterval(ks: string, iv: Interval): boolean {
    const p = this.#parts.get(ks);
    if (p === undefined) return false;
    const before = p.covered.length;
    this.#cover(p, subtractInterval(p.covered, iv, this.#cmp));
    this.#dropRows(p, iv);
    if (p.covered.length === 0) {
      this.#bytes -= p.bytes;
      this.#parts.delete(ks);
    }
    return before > 0;
  }

  /** Makes `covered` the partition's intervals; a new one (merged, or what an eviction left) is used now. */
  #cover(p: Partition, covered: Interval[]): void {
    this.#intervals += covered.length - p.covered.length;
    for (const s of covered) if (!this.#ticks.has(s)) this.#ticks.set(s, usage.tick++);
    p.covered = covered;
  }

  /** The intervals a partition holds, as text, for tests and the admin view. */
  coverage(keyRow: Row): string[] {
    return (this.#parts.get(keyString(keyRow, this.#spec.fold))?.covered ?? []).map(describeInterval);
  }

  /** What a partition holds (its covered intervals and its rows in order), or undefined; for tests. */
  held(keyRow: Row): { readonly covered: ReadonlyArray<Interval>; readonly rows: ReadonlyArray<Row> } | undefined {
    const p = this.#parts.get(keyString(keyRow, this.#spec.fold));
    return p === undefined ? undefined : { covered: p.covered, rows: p.rows };
  }

  /** The order rows are held in (the range column, then the ties). */
  get rowOrder(): (a: Row, b: Row) => number {
    return this.#rowCmp;
  }

  // A range cache answers through read(): the keyed reads of a reader find nothing here.
  override answer(): ReaderAnswer | undefined {
    return undefined;
  }

  override peek(): ReaderAnswer | undefined {
    return undefined;
  }

  override answerAs<T extends DerivedAnswer>(): T | undefined {
    return undefined;
  }

  override rows(): ReadonlyArray<Row> | undefined {
    return undefined;
  }

  override fillFromInput(): void {
    invariant(false, 'a range reader is filled by intervals (src/dataflow/range-fill.ts)');
  }

  override fillQuery(): FillQuery {
    invariant(false, 'a range reader is filled by intervals (src/dataflow/range-fill.ts)');
  }

  override has(key: string): boolean {
    return this.#parts.has(key) || this.#candidates.has(key);
  }

  /** Covered intervals, each evicted on its own ({@link sample}): what the memory budget counts as keys. */
  override get size(): number {
    return this.#intervals;
  }

  override *keyRows(): IterableIterator<Row> {
    for (const p of this.#parts.values()) yield p.keyRow;
  }

  // Hot keys are recorded for a warm start as keys of parameters: a range's are not its partitions.
  override hottest(): Row[] {
    return [];
  }

  /** Each covered interval is a candidate of its own, named by a key only this state knows. */
  override sample(n: number, out: EvictionCandidate[]): number {
    if (this.#candidates.size > 4096) this.#candidates.clear();
    const total = this.#intervals;
    if (total === 0) return this.#bytes;
    const from = this.#hand % total;
    const take = Math.min(n, total);
    this.#hand = from + take;
    // Two passes at most: from the hand to the end, then from the start.
    for (let pass = 0; pass < 2; pass++) {
      let at = 0;
      for (const [ks, p] of this.#parts) {
        for (const iv of p.covered) {
          const i = at++;
          const inTurn = pass === 0 ? i >= from && i < from + take : i < from + take - total;
          if (!inTurn) continue;
          const keyRow: Row = [...p.keyRow, this.#nextCandidate++];
          this.#candidates.set(keyString(keyRow, this.#spec.fold), { part: ks, iv });
          out.push({ keyRow, used: this.#ticks.get(iv) ?? p.used });
        }
      }
      if (from + take <= total) break;
    }
    return this.#bytes;
  }

  override usage(): Usage {
    let rows = 0;
    for (const p of this.#parts.values()) rows += p.rows.length;
    return { rows, bytes: this.#bytes };
  }

  /** A partition's key evicts the partition; a candidate's key (from {@link sample}) evicts its interval. */
  override evict(key: string): boolean {
    const c = this.#candidates.get(key);
    if (c !== undefined) {
      this.#candidates.delete(key);
      return this.#evictInterval(c.part, c.iv);
    }
    const p = this.#parts.get(key);
    if (p === undefined) return false;
    this.#bytes -= p.bytes;
    this.#intervals -= p.covered.length;
    this.#parts.delete(key);
    return true;
  }

  override evictAll(): number {
    const n = this.#parts.size;
    this.#parts.clear();
    this.#candidates.clear();
    this.#bytes = 0;
    this.#intervals = 0;
    return n;
  }
}
