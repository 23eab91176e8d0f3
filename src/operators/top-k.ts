/**
 * Top-k (ORDER BY … LIMIT): per partial key (the parameter columns), the first rows of the query's
 * order. It emits only the first `need` rows of each key (offset + count: the reader cuts the
 * offset off), and keeps up to `keep` rows (need + slack) so that a row leaving the top can be
 * replaced from the slack instead of asking MySQL.
 *
 * [note: top-k-prefix] What a key holds is always an exact prefix of the key's rows in the order
 * (which the planner makes total), or all of them (`complete`). A new row sorting after the last
 * kept row of an incomplete key may come after rows Rotor never saw, so it is not kept; a deleted
 * row after the last kept one was never held. When an incomplete key holds fewer than `need` rows
 * it cannot say what the top is: it evicts the key downstream and reports it ([note: evict-not-guess]),
 * and the engine refills it. It never emits a short list.
 *
 * [note: limit-param] A cache whose LIMIT is a placeholder reads its numbers from each statement:
 * its top-k is `growable`, and a read asking for more rows than it emits (`offset + count` > K)
 * raises K ({@link TopK.grow}, up to `--max-limit-param`; a larger bound is relayed). Keys that
 * held and showed all their rows stay; the others are evicted here and below (the reader holds
 * the first K rows a key shows, and may now need more). A fill planned for a smaller K that
 * lands after the growth is not installed where it cannot show K rows, and is asked again. The
 * reader keeps the first K rows per key and each read slices its own `LIMIT` from them, which is
 * exact for any `offset + count` <= K. Pinned by test/operators/top-k-grow.test.ts and
 * test/logic/limit-param.slt.
 */
import { measureRows, type Usage, type StateEntry } from '../dataflow/keyed-entries.js';
import { Materialized } from '../dataflow/materialized.js';
import { rowKey, type Delta, type Row } from '../dataflow/delta.js';
import { EMPTY_RESULT, type BatchResult, type Operator, type StatefulNode } from '../dataflow/operator.js';
import { sameRow, type FillQuery, type KeyFold } from '../dataflow/state.js';
import { keyRestriction, renderSelect } from '../dataflow/sql.js';
import { invariant } from '../errors.js';
import { rowComparator, type SortKey } from './row-order.js';

export interface TopKSpec {
  /** Input columns of the partial key (the parameters). */
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  /** The order, over input columns; MUST be total (the planner appends tie-breakers). */
  readonly orderBy: ReadonlyArray<SortKey>;
  /** Rows emitted per key: offset + count. */
  readonly need: number;
  /** Rows kept per key: need + slack. */
  readonly keep: number;
  /**
   * The cache whose `LIMIT ?` this node serves ([note: limit-param]): `need` can grow, so the
   * node is the cache's own (never shared).
   */
  readonly growable?: string;
}

interface Entry extends StateEntry {
  /** Sorted; at most `keep` rows. */
  readonly rows: Row[];
  /** The key has no rows beyond those held. */
  complete: boolean;
}

export class TopK extends Materialized<Entry> implements StatefulNode<'top-k'> {
  readonly kind = 'top-k' as const;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  readonly #spec: TopKSpec;
  readonly #compare: (a: Row, b: Row) => number;
  /** Rows emitted and kept per key: the spec's, until {@link grow} raises them. */
  #need: number;
  #keep: number;

  constructor(parent: Operator, spec: TopKSpec) {
    invariant(spec.need > 0 && spec.keep >= spec.need, 'top-k keeps at least the rows it emits');
    super(parent, spec.key, spec.fold);
    this.#spec = spec;
    this.#need = spec.need;
    this.#keep = spec.keep;
    this.columns = parent.columns;
    this.#compare = rowComparator(spec.orderBy);
    const order = spec.orderBy.map((o) => `${o.column}${o.desc ? 'd' : 'a'}`).join(',');
    const size = spec.growable === undefined ? `${spec.need}|${spec.keep}` : `limit ?|${spec.growable}`;
    this.signature = `top-k(${parent.signature}|${spec.key.join(',')}|${order}|${size})`;
  }

  /** Rows emitted per key (offset + count; for `LIMIT ?`, the largest bound read so far). */
  get need(): number {
    return this.#need;
  }

  /**
   * [note: limit-param] Emits (and keeps, with slack) at least `need` rows per key from now on.
   * Returns the keys that no longer hold (here and below) what they must: all but those that held
   * every row of theirs, all shown. The caller evicts them here and below.
   */
  grow(need: number, keep: number): ReadonlyArray<Row> {
    invariant(this.#spec.growable !== undefined, 'only a LIMIT ? top-k grows');
    const before = this.#need;
    if (need <= before) return [];
    this.#need = need;
    this.#keep = Math.max(keep, need);
    // What stays shows all its rows below too: a complete key holding more than the old K
    // showed only K of them.
    const gone: Row[] = [];
    for (const e of this.entries.values()) if (!e.complete || e.rows.length > before) gone.push(e.keyRow);
    return gone;
  }

  // A fill planned before a growth holds fewer rows than a key now shows: not installed, so the
  // fill asks again ([note: limit-param]).
  protected override install(key: string, e: Entry): void {
    if (!e.complete && e.rows.length < this.#need) return;
    super.install(key, e);
  }

  describe(): string {
    const key = this.#spec.key.map((i) => this.columns[i]).join(', ');
    const order = this.#spec.orderBy.map((o) => `${this.columns[o.column]}${o.desc ? ' DESC' : ''}`).join(', ');
    const limit = this.#spec.growable === undefined ? `${this.#need}` : `? (${this.#need})`;
    return `top-k[${key}] order by ${order} limit ${limit} (+${this.#keep - this.#need})`;
  }

  protected newEntry(keyRow: Row): Entry {
    return { keyRow, used: 0, rows: [], complete: true };
  }

  protected addRow(e: Entry, row: Row): void {
    e.rows.push(row);
  }

  // Every row of the key was added, or (a fill from MySQL) its first `keep`, which may not be all.
  protected override seal(e: Entry): void {
    e.rows.sort(this.#compare);
    if (e.rows.length > this.#keep) {
      e.rows.length = this.#keep;
      e.complete = false;
    }
  }

  /** The rows the key shows downstream: the first `need`. */
  protected entryRows(e: Entry): ReadonlyArray<Row> {
    return e.rows.length <= this.#need ? e.rows : e.rows.slice(0, this.#need);
  }

  protected measure(e: Entry, into: Usage): void {
    measureRows(e.rows, into);
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (this.entries.size === 0 || deltas.length === 0) return EMPTY_RESULT;
    const need = this.#need;
    const before = new Map<string, Row[]>();
    const broken = this.changeEntries(deltas, (e, d, k) => {
      if (!before.has(k)) before.set(k, e.rows.slice(0, need));
      return d.sign === 1 ? this.#insert(e, d.row) : this.#remove(e, d.row);
    });
    const output: Delta[] = [];
    const evicted: Row[] = [];
    for (const [k, old] of before) {
      const e = this.entries.get(k);
      if (e === undefined) continue;
      if (broken?.has(k) || (!e.complete && e.rows.length < need)) {
        this.entries.delete(k);
        evicted.push(e.keyRow);
        continue;
      }
      diff(old, e.rows.slice(0, need), output);
    }
    return output.length === 0 && evicted.length === 0 ? EMPTY_RESULT : { output, evicted };
  }

  // [note: top-k-prefix]
  #insert(e: Entry, row: Row): boolean {
    const at = this.#upperBound(e.rows, row);
    if (at === e.rows.length && !e.complete) return true;
    e.rows.splice(at, 0, row);
    if (e.rows.length > this.#keep) {
      e.rows.pop();
      e.complete = false;
    }
    return true;
  }

  /** False when the row should have been held and is not: the key is not what MySQL holds. */
  #remove(e: Entry, row: Row): boolean {
    const rows = e.rows;
    let i = this.#lowerBound(rows, row);
    for (; i < rows.length && this.#compare(rows[i], row) === 0; i++) {
      if (sameRow(rows[i], row)) { rows.splice(i, 1); return true; }
    }
    // Not held: fine only when it sorts at or after the last held row of an incomplete key.
    return !e.complete && i === rows.length;
  }

  #lowerBound(rows: ReadonlyArray<Row>, row: Row): number {
    let lo = 0, hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#compare(rows[mid], row) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #upperBound(rows: ReadonlyArray<Row>, row: Row): number {
    let lo = 0, hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#compare(rows[mid], row) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Per key, the branch's SQL restricted to that key, in the query's order, limited to `keep`
   * rows: one statement, a UNION ALL of one such SELECT per key (each can use an index on
   * `(key…, order…)` and stops after `keep` rows).
   */
  override fillQuery(keys: ReadonlyArray<Row>): FillQuery {
    const p = this.parentSql();
    const keyExprs = this.#spec.key.map((i) => p.select[i]);
    // MySQL's first `keep` rows of a key may not be all of them.
    const keep = this.#keep;
    const tail = ` ORDER BY ${this.#spec.orderBy.map((o) => `${p.select[o.column]}${o.desc ? ' DESC' : ''}`).join(', ')} LIMIT ${keep}`;
    const one = (k: Row | null): string => renderSelect(p, p.select, k === null ? [] : [keyRestriction(keyExprs, [k])]) + tail;
    const sql = keyExprs.length === 0 ? one(null)
      : keys.length === 1 ? one(keys[0])
        : keys.map((k) => `(${one(k)})`).join(' UNION ALL ');
    const add = (e: Entry, row: Row): void => {
      e.rows.push(row);
      if (e.rows.length >= keep) e.complete = false;
    };
    return { sql, install: (rows) => this.fill(keys, rows, add) };
  }
}

/** Appends to `out` the deltas that turn the multiset `old` into `next`. */
function diff(old: ReadonlyArray<Row>, next: ReadonlyArray<Row>, out: Delta[]): void {
  const count = new Map<string, number>();
  for (const r of next) { const k = rowKey(r); count.set(k, (count.get(k) ?? 0) + 1); }
  for (const r of old) {
    const k = rowKey(r);
    const n = count.get(k) ?? 0;
    if (n > 0) count.set(k, n - 1);
    else out.push({ row: r, sign: -1 });
  }
  for (const r of next) {
    const k = rowKey(r);
    const n = count.get(k) ?? 0;
    if (n > 0) { count.set(k, n - 1); out.push({ row: r, sign: 1 }); }
  }
}
