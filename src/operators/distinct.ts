/**
 * δ (SELECT DISTINCT): per partial key (the parameter columns), each distinct row once. It counts
 * how many input rows stand behind each distinct row (row-counts.ts), so a delete removes the row
 * only when its last occurrence goes: exact without keeping the input rows themselves.
 *
 * With `multiset` it keeps every occurrence instead (a UNION ALL branch): the same counted state,
 * filled by the same GROUP BY, passing each delta on.
 */
import type { Delta, Row } from '../dataflow/delta.js';
import { KeyedEntries } from '../dataflow/keyed-entries.js';
import { EMPTY_RESULT, type BatchResult, type ColumnSource, type Operator, type SqlShape } from '../dataflow/operator.js';
import { keyOfRow, keyString, rowBytes, type FillQuery, type KeyFold, type KeyedState } from '../dataflow/state.js';
import { keyRestriction, renderSelect } from '../dataflow/sql.js';
import { invariant } from '../errors.js';
import { RowCounts, type Touched } from './row-counts.js';

export interface DistinctSpec {
  /** Input columns of the partial key (the parameters). */
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  /** How each input column compares when deciding whether two rows are the same. */
  readonly rowFold: ReadonlyArray<KeyFold>;
  /** Keep and emit every occurrence (UNION ALL branches) rather than each distinct row once. */
  readonly multiset: boolean;
}

interface Entry {
  readonly keyRow: Row;
  readonly counts: RowCounts;
}

export class Distinct extends KeyedEntries<Entry> implements Operator, KeyedState {
  readonly kind = 'distinct' as const;
  readonly parents: ReadonlyArray<Operator>;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  readonly #spec: DistinctSpec;

  constructor(parent: Operator, spec: DistinctSpec) {
    super();
    this.parents = [parent];
    this.#spec = spec;
    this.columns = parent.columns;
    this.key = spec.key;
    this.fold = spec.fold;
    this.signature = `distinct(${parent.signature}|${spec.key.join(',')}|${spec.rowFold.join(',')}|${spec.multiset})`;
  }

  get state(): KeyedState {
    return this;
  }

  describe(): string {
    return `${this.#spec.multiset ? 'counted' : 'δ'}[${this.#spec.key.map((i) => this.columns[i]).join(', ')}] ${this.columns.join(', ')}`;
  }

  source(column: number): ColumnSource {
    return { parent: 0, column };
  }

  sql(): SqlShape | null {
    return null;
  }

  inputKey(): ReadonlyArray<number> {
    return this.#spec.key;
  }

  rows(key: string): ReadonlyArray<Row> | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    return this.#spec.multiset ? e.counts.allRows() : e.counts.distinctRows();
  }

  usage(): { rows: number; bytes: number } {
    let rows = 0, bytes = 0;
    for (const e of this.entries.values()) for (const r of e.counts.spellings()) { rows++; bytes += rowBytes(r) + 16; }
    return { rows, bytes };
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (this.entries.size === 0 || deltas.length === 0) return EMPTY_RESULT;
    const touched = new Map<Entry, Touched>();
    const output: Delta[] = [];
    let broken: Set<string> | null = null;
    for (const d of deltas) {
      const k = keyOfRow(d.row, this.#spec.key, this.fold);
      const e = this.entries.get(k);
      if (e === undefined || broken?.has(k)) continue;
      let t = touched.get(e);
      if (t === undefined) touched.set(e, (t = new Map()));
      // Retracting a row the key never counted: the key is not what MySQL holds.
      if (!e.counts.add(d.row, d.sign, t)) (broken ??= new Set()).add(k);
      else if (this.#spec.multiset) output.push(d);
    }
    const evicted: Row[] = [];
    if (broken !== null) {
      for (const k of broken) {
        const e = this.entries.get(k);
        if (e !== undefined) evicted.push(e.keyRow);
        this.entries.delete(k);
      }
    }
    const result = broken === null ? output : output.filter((d) => !broken.has(keyOfRow(d.row, this.#spec.key, this.fold)));
    if (!this.#spec.multiset) for (const [e, t] of touched) if (this.entries.get(keyString(e.keyRow, this.fold)) === e) e.counts.settle(t, result);
    return result.length === 0 && evicted.length === 0 ? EMPTY_RESULT : { output: result, evicted };
  }

  fillFromInput(keys: ReadonlyArray<Row>, inputRows: ReadonlyArray<Row>): void {
    this.#install(keys, inputRows.map((row) => ({ row, n: 1 })));
  }

  #install(keys: ReadonlyArray<Row>, counted: ReadonlyArray<{ row: Row; n: number }>): void {
    const filling = new Map<string, Entry>();
    for (const k of keys) filling.set(keyString(k, this.fold), { keyRow: k, counts: new RowCounts(this.#spec.rowFold) });
    for (const { row, n } of counted) if (n > 0) filling.get(keyOfRow(row, this.#spec.key, this.fold))?.counts.add(row, n, null);
    for (const [k, e] of filling) this.entries.set(k, e);
  }

  /**
   * The distinct rows of the keys with their counts, grouped by exact value: text columns under a
   * collation group by their bytes (`CAST(… AS BINARY)`), so each spelling is counted apart.
   */
  fillQuery(keys: ReadonlyArray<Row>): FillQuery {
    const p = this.parents[0].sql();
    invariant(p !== null, 'a distinct node fills from MySQL only when its parents are stateless');
    const ci = (i: number) => this.#spec.rowFold[i] !== 'exact';
    const select = p.select.map((x, i) => (ci(i) ? `MIN(${x})` : x));
    const group = p.select.map((x, i) => (ci(i) ? `CAST(${x} AS BINARY)` : x));
    const restrict = this.#spec.key.length === 0 ? [] : [keyRestriction(this.#spec.key.map((i) => p.select[i]), keys)];
    const sql = renderSelect(p, [...select, 'COUNT(*)'], restrict, group);
    const width = p.select.length;
    return { sql, install: (rows) => this.#install(keys, rows.map((r) => ({ row: r.slice(0, width), n: Number(r[width]) }))) };
  }
}
