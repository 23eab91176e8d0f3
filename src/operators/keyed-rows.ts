/**
 * Keyed rows: the state a join looks up. It keeps its parent's rows unchanged, for present keys
 * only, indexed by its key columns, and optionally by a second set of columns (a join's columns
 * when the key is the query's parameter: story rows kept by `id`, looked up by `author_id`).
 *
 * The secondary index covers present keys only. That is enough for a join: anything below it was
 * derived from present keys ([note: missing-key], [note: evict-downstream]), so rows of missing
 * keys cannot matter there.
 */
import type { Delta, Row } from '../dataflow/delta.js';
import { KeyedEntries, rowListUsage } from '../dataflow/keyed-entries.js';
import { EMPTY_RESULT, type BatchResult, type ColumnSource, type Operator, type SqlShape } from '../dataflow/operator.js';
import { keyOfRow, keyString, sameRow, type FillQuery, type KeyFold, type KeyedState } from '../dataflow/state.js';
import { keyRestriction, renderSelect } from '../dataflow/sql.js';
import { invariant } from '../errors.js';

export interface KeyedRowsSpec {
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  /** Columns of the secondary index, or null. */
  readonly index: ReadonlyArray<number> | null;
  readonly indexFold: ReadonlyArray<KeyFold>;
}

interface Entry {
  readonly keyRow: Row;
  readonly rows: Row[];
}

const NO_ROWS: ReadonlyArray<Row> = Object.freeze([]);

export class KeyedRows extends KeyedEntries<Entry> implements Operator, KeyedState {
  readonly kind = 'keyed-rows' as const;
  readonly parents: ReadonlyArray<Operator>;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  readonly index: ReadonlyArray<number> | null;
  readonly indexFold: ReadonlyArray<KeyFold>;
  readonly #secondary = new Map<string, Row[]>();

  constructor(parent: Operator, spec: KeyedRowsSpec) {
    super();
    this.parents = [parent];
    this.columns = parent.columns;
    this.key = spec.key;
    this.fold = spec.fold;
    this.index = spec.index;
    this.indexFold = spec.indexFold;
    this.signature = `keyed-rows(${parent.signature}|${spec.key.join(',')}|${spec.fold.join(',')}|${spec.index?.join(',') ?? ''}|${spec.indexFold.join(',')})`;
  }

  get state(): KeyedState {
    return this;
  }

  describe(): string {
    const by = this.index === null ? '' : ` by ${this.index.map((i) => this.columns[i]).join(', ')}`;
    return `rows[${this.key.map((i) => this.columns[i]).join(', ')}]${by}`;
  }

  source(column: number): ColumnSource {
    return { parent: 0, column };
  }

  sql(): SqlShape | null {
    return null;
  }

  inputKey(): ReadonlyArray<number> {
    return this.key;
  }

  rows(key: string): ReadonlyArray<Row> | undefined {
    return this.entries.get(key)?.rows;
  }

  /** Rows of present keys whose index columns hold `values` (folded like the index). */
  lookup(values: Row): ReadonlyArray<Row> {
    invariant(this.index !== null, 'lookup without a secondary index');
    return this.#secondary.get(keyString(values, this.indexFold)) ?? NO_ROWS;
  }

  #indexAdd(row: Row): void {
    if (this.index === null) return;
    const k = keyOfRow(row, this.index, this.indexFold);
    const list = this.#secondary.get(k);
    if (list === undefined) this.#secondary.set(k, [row]);
    else list.push(row);
  }

  #indexRemove(row: Row): void {
    if (this.index === null) return;
    const k = keyOfRow(row, this.index, this.indexFold);
    const list = this.#secondary.get(k);
    if (list === undefined) return;
    const i = list.indexOf(row);
    if (i >= 0) { list[i] = list[list.length - 1]; list.pop(); }
    if (list.length === 0) this.#secondary.delete(k);
  }

  override evict(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    for (const r of e.rows) this.#indexRemove(r);
    this.entries.delete(key);
    return true;
  }

  override evictAll(): number {
    this.#secondary.clear();
    return super.evictAll();
  }

  usage(): { rows: number; bytes: number } {
    return rowListUsage(this.entries.values());
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (this.entries.size === 0) return EMPTY_RESULT;
    const output: Delta[] = [];
    let evicted: Row[] | null = null;
    for (const d of deltas) {
      const k = keyOfRow(d.row, this.key, this.fold);
      const e = this.entries.get(k);
      if (e === undefined) continue;
      if (d.sign === 1) {
        e.rows.push(d.row);
        this.#indexAdd(d.row);
      } else {
        const i = e.rows.findIndex((r) => sameRow(r, d.row));
        if (i < 0) {
          // Retracting a row this key never held: the key is not what MySQL holds ([note: evict-not-guess]).
          (evicted ??= []).push(e.keyRow);
          this.evict(k);
          continue;
        }
        this.#indexRemove(e.rows[i]);
        e.rows[i] = e.rows[e.rows.length - 1];
        e.rows.pop();
      }
      output.push(d);
    }
    if (output.length === 0 && evicted === null) return EMPTY_RESULT;
    return { output, evicted: evicted ?? [] };
  }

  fillFromInput(keys: ReadonlyArray<Row>, inputRows: ReadonlyArray<Row>): void {
    const filling = new Map<string, Entry>();
    for (const k of keys) filling.set(keyString(k, this.fold), { keyRow: k, rows: [] });
    for (const row of inputRows) filling.get(keyOfRow(row, this.key, this.fold))?.rows.push(row);
    for (const [k, e] of filling) {
      this.evict(k);
      this.entries.set(k, e);
      for (const r of e.rows) this.#indexAdd(r);
    }
  }

  fillQuery(keys: ReadonlyArray<Row>): FillQuery {
    const p = this.parents[0].sql();
    invariant(p !== null, 'keyed rows fill from MySQL only when their parents are stateless');
    const restrict = keyRestriction(this.key.map((i) => p.select[i]), keys);
    return { sql: renderSelect(p, p.select, [restrict]), install: (rows) => this.fillFromInput(keys, rows) };
  }
}
