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

  constructor(parent: Operator, spec: TopKSpec) {
    invariant(spec.need > 0 && spec.keep >= spec.need, 'top-k keeps at least the rows it emits');
    super(parent, spec.key, spec.fold);
    this.#spec = spec;
    this.columns = parent.columns;
    this.#compare = rowComparator(spec.orderBy);
    const order = spec.orderBy.map((o) => `${o.column}${o.desc ? 'd' : 'a'}`).join(',');
    this.signature = `top-k(${parent.signature}|${spec.key.join(',')}|${order}|${spec.need}|${spec.keep})`;
  }

  describe(): string {
    const key = this.#spec.key.map((i) => this.columns[i]).join(', ');
    const order = this.#spec.orderBy.map((o) => `${this.columns[o.column]}${o.desc ? ' DESC' : ''}`).join(', ');
    return `top-k[${key}] order by ${order} limit ${this.#spec.need} (+${this.#spec.keep - this.#spec.need})`;
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
    if (e.rows.length > this.#spec.keep) {
      e.rows.length = this.#spec.keep;
      e.complete = false;
    }
  }

  /** The rows the key shows downstream: the first `need`. */
  protected entryRows(e: Entry): ReadonlyArray<Row> {
    return e.rows.length <= this.#spec.need ? e.rows : e.rows.slice(0, this.#spec.need);
  }

  protected measure(e: Entry, into: Usage): void {
    measureRows(e.rows, into);
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (this.entries.size === 0 || deltas.length === 0) return EMPTY_RESULT;
    const need = this.#spec.need;
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
    if (e.rows.length > this.#spec.keep) {
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
    const tail = ` ORDER BY ${this.#spec.orderBy.map((o) => `${p.select[o.column]}${o.desc ? ' DESC' : ''}`).join(', ')} LIMIT ${this.#spec.keep}`;
    const one = (k: Row | null): string => renderSelect(p, p.select, k === null ? [] : [keyRestriction(keyExprs, [k])]) + tail;
    const sql = keyExprs.length === 0 ? one(null)
      : keys.length === 1 ? one(keys[0])
        : keys.map((k) => `(${one(k)})`).join(' UNION ALL ');
    // MySQL's first `keep` rows of a key may not be all of them.
    const keep = this.#spec.keep;
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
