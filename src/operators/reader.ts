/**
 * The reader: the leaf of a cache, a map from parameter values to the cache's result rows. Its
 * input rows carry the visible columns first, then hidden ones (parameter columns not selected,
 * ORDER BY columns not selected). Per key it keeps those rows and, lazily, the answer: the visible
 * columns in the query's ORDER BY order, built once per change so a hit allocates nothing.
 */
import { usage } from '../dataflow/usage.js';
import { measureRows, takeRow, type Usage, type StateEntry } from '../dataflow/keyed-entries.js';
import { Materialized } from '../dataflow/materialized.js';
import { rowKey, type Delta, type Row } from '../dataflow/delta.js';
import { EMPTY_RESULT, type BatchResult, type Operator, type ReaderNode } from '../dataflow/operator.js';
import { keyString, type KeyFold } from '../dataflow/state.js';
import type { Value } from '../values.js';
import { rowComparator, type SortKey } from './row-order.js';

export type { SortKey } from './row-order.js';

interface Entry extends StateEntry {
  rows: Row[];
  answer: ReadonlyArray<Row> | null;
}

export interface ReaderSpec {
  /** Input columns the reader is keyed by (the parameters, in parameter order). */
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  /** How many leading input columns the client sees. */
  readonly visible: number;
  readonly orderBy: ReadonlyArray<SortKey>;
  /** LIMIT of the query: applied to the sorted answer (the rows come from a top-k node). */
  readonly limit: { readonly count: number; readonly offset: number } | null;
  /** SELECT DISTINCT: the answer of several keys drops repeated rows. */
  readonly distinct: boolean;
}

export class Reader extends Materialized<Entry> implements ReaderNode {
  readonly kind = 'reader' as const;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  readonly #spec: ReaderSpec;
  readonly #compare: (a: Row, b: Row) => number;

  constructor(parent: Operator, spec: ReaderSpec, cacheId: string) {
    super(parent, spec.key, spec.fold);
    this.#spec = spec;
    this.#compare = rowComparator(spec.orderBy);
    this.columns = parent.columns;
    // Readers are never shared: each belongs to one cache.
    this.signature = `reader(${cacheId})`;
  }

  describe(): string {
    const key = this.#spec.key.map((i) => `${this.columns[i]} = ?`).join(' AND ');
    const order = this.#spec.orderBy.map((o) => `${this.columns[o.column]}${o.desc ? ' DESC' : ''}`).join(', ');
    const limit = this.#spec.limit === null ? '' : ` limit ${this.#spec.limit.offset > 0 ? `${this.#spec.limit.offset}, ` : ''}${this.#spec.limit.count}`;
    return `reader[${key}]${order ? ` order by ${order}` : ''}${limit}`;
  }

  protected newEntry(keyRow: Row): Entry {
    return { keyRow, used: 0, rows: [], answer: null };
  }

  protected addRow(e: Entry, row: Row): void {
    e.rows.push(row);
  }

  protected entryRows(e: Entry): ReadonlyArray<Row> {
    return e.rows;
  }

  protected measure(e: Entry, into: Usage): void {
    measureRows(e.rows, into);
  }

  /**
   * [note: hot-path] The answer rows for a present key, or undefined for a missing one. The array
   * is never changed once built (a change builds a new one): the proxy reuses its encoding by its
   * identity (protocol/result-set.ts, encodeResultSetOnce).
   */
  answer(key: string): ReadonlyArray<Row> | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    e.used = usage.tick++;
    return e.answer ??= this.#build(e.rows);
  }

  /** {@link answer} without counting a use (the fill path: the miss itself is the one read). */
  peek(key: string): ReadonlyArray<Row> | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    return e.answer ??= this.#build(e.rows);
  }

  /** Visible columns, sorted: also used to merge the rows of several keys. */
  sortVisible(rows: ReadonlyArray<Row>): ReadonlyArray<Row> {
    return this.#build(rows);
  }

  #build(rows: ReadonlyArray<Row>): ReadonlyArray<Row> {
    const { visible, orderBy, limit, distinct } = this.#spec;
    let out: Row[] = rows.slice();
    if (orderBy.length > 0) out.sort(this.#compare);
    if (rows.length > 0 && rows[0].length > visible) out = out.map((r) => r.slice(0, visible));
    // Several keys (an IN list) can each hold the same distinct row; one key never does.
    if (distinct) {
      const seen = new Set<string>();
      out = out.filter((r) => { const k = rowKey(r); if (seen.has(k)) return false; seen.add(k); return true; });
    }
    // Each key holds its first offset + count rows (top-k): so do all keys together, once sorted.
    if (limit !== null) out = out.slice(limit.offset, limit.offset + limit.count);
    return out;
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (this.entries.size === 0) return EMPTY_RESULT;
    const broken = this.changeEntries(deltas, (e, d) => {
      // Retracting a row this key never held means the key is not what MySQL holds: drop it
      // rather than serve it (it refills on the next read).
      if (d.sign === 1) e.rows.push(d.row);
      else if (takeRow(e.rows, d.row) === undefined) return false;
      e.answer = null;
      return true;
    });
    return broken === null ? EMPTY_RESULT : { output: [], evicted: this.evictKeys(broken) };
  }
}

/** The key of a parameter tuple as the reader indexes it. */
export function readerKey(reader: Reader, params: ReadonlyArray<Value>): string {
  return keyString(params, reader.fold);
}
