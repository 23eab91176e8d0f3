/**
 * Keyed rows: the state a join looks up. It keeps its parent's rows unchanged, for present keys
 * only, indexed by its key columns, and optionally by a second set of columns (a join's columns
 * when the key is the query's parameter: story rows kept by `id`, looked up by `author_id`).
 *
 * The secondary index covers present keys only. That is enough for a join: anything below it was
 * derived from present keys ([note: missing-key], [note: evict-downstream]), so rows of missing
 * keys cannot matter there; in a complete state ([note: complete-state]) every row is under a
 * present key, so the index holds them all.
 */
import type { Delta, Row } from '../dataflow/delta.js';
import { measureRows, takeRow, type Usage, type StateEntry } from '../dataflow/keyed-entries.js';
import { Materialized } from '../dataflow/materialized.js';
import { EMPTY_RESULT, type BatchResult, type KeyedRowsNode, type Operator } from '../dataflow/operator.js';
import { keyOfRow, keyString, type KeyFold } from '../dataflow/state.js';
import { invariant } from '../errors.js';

export interface KeyedRowsSpec {
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  /** Columns of the secondary index, or null. */
  readonly index: ReadonlyArray<number> | null;
  readonly indexFold: ReadonlyArray<KeyFold>;
  /**
   * A second copy of an equal node ([note: self-join]): both sides of one join would otherwise be
   * one shared node, and the join must tell its sides' deltas apart.
   */
  readonly copy?: boolean;
}

interface Entry extends StateEntry {
  readonly rows: Row[];
}

const NO_ROWS: ReadonlyArray<Row> = Object.freeze([]);

export class KeyedRows extends Materialized<Entry> implements KeyedRowsNode {
  readonly kind = 'keyed-rows' as const;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  readonly index: ReadonlyArray<number> | null;
  readonly indexFold: ReadonlyArray<KeyFold>;
  readonly #secondary = new Map<string, Row[]>();

  constructor(parent: Operator, spec: KeyedRowsSpec) {
    super(parent, spec.key, spec.fold);
    this.columns = parent.columns;
    this.index = spec.index;
    this.indexFold = spec.indexFold;
    this.signature = `keyed-rows(${parent.signature}|${spec.key.join(',')}|${spec.fold.join(',')}|${spec.index?.join(',') ?? ''}|${spec.indexFold.join(',')}${spec.copy === true ? '|copy' : ''})`;
  }

  describe(): string {
    const by = this.index === null ? '' : ` by ${this.index.map((i) => this.columns[i]).join(', ')}`;
    return `rows[${this.key.map((i) => this.columns[i]).join(', ')}]${by}`;
  }

  protected newEntry(keyRow: Row): Entry {
    return { keyRow, used: 0, rows: [] };
  }

  protected addRow(e: Entry, row: Row): void {
    e.rows.push(row);
  }

  protected override install(key: string, e: Entry): void {
    this.#unindex(key);
    this.admit(key, e);
    for (const r of e.rows) this.#indexAdd(r);
  }

  protected entryRows(e: Entry): ReadonlyArray<Row> {
    return e.rows;
  }

  protected measure(e: Entry, into: Usage): void {
    measureRows(e.rows, into);
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

  /** Takes the rows of `key`'s entry, if any, out of the secondary index. */
  #unindex(key: string): void {
    const e = this.entries.get(key);
    if (e !== undefined) for (const r of e.rows) this.#indexRemove(r);
  }

  override evict(key: string): boolean {
    this.#unindex(key);
    return super.evict(key);
  }

  override evictAll(): number {
    this.#secondary.clear();
    return super.evictAll();
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (this.entries.size === 0 && !this.complete) return EMPTY_RESULT;
    const output: Delta[] = [];
    const broken = this.changeEntries(deltas, (e, d) => {
      if (d.sign === 1) {
        e.rows.push(d.row);
        this.#indexAdd(d.row);
      } else {
        // Retracting a row this key never held: the key is not what MySQL holds ([note: evict-not-guess]).
        const taken = takeRow(e.rows, d.row);
        if (taken === undefined) return false;
        this.#indexRemove(taken);
      }
      output.push(d);
      return true;
    });
    if (output.length === 0 && broken === null) return EMPTY_RESULT;
    return { output, evicted: broken === null ? [] : this.evictKeys(broken) };
  }
}
