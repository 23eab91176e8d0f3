/**
 * The root of every path: one node per upstream table, shared by every cache that reads it. It
 * holds no state (Rotor keeps no copy of base tables); it turns a batch's row changes for its table
 * into deltas in its own column order, matching columns by name.
 */
import type { Delta } from '../dataflow/delta.js';
import { EMPTY_RESULT, type BatchResult, type ColumnSource, type Operator, type SqlShape, type TableSource } from '../dataflow/operator.js';
import { quoteId } from '../dataflow/sql.js';
import type { TableChange } from '../dataflow/batch.js';
import type { Value } from '../values.js';

export class BaseTable implements TableSource {
  readonly kind = 'base' as const;
  readonly parents: ReadonlyArray<Operator> = [];
  readonly state = null;
  readonly signature: string;
  readonly #floats: ReadonlyArray<boolean>;
  #mappings = new Map<string, ReadonlyArray<number> | null>();

  /** `floats[i]`: column i is a FLOAT, which upqueries read as `CAST(… AS DOUBLE)` ([note: float-exact]). */
  constructor(readonly database: string, readonly table: string, readonly columns: ReadonlyArray<string>, floats: ReadonlyArray<boolean> = []) {
    this.#floats = columns.map((_, i) => floats[i] === true);
    // Columns are part of the definition: after ALTER TABLE, rebuilt caches get a new base node.
    this.signature = `base(${database}.${table}|${columns.map((c, i) => (this.#floats[i] ? `${c}~f` : c)).join(',')})`;
  }

  describe(): string {
    return `${this.database}.${this.table}`;
  }

  source(): ColumnSource | null {
    return null;
  }

  /** The deltas of a change to this table, in this node's column order. */
  deltasOf(change: TableChange): ReadonlyArray<Delta> {
    const names = change.columns.join('\u0001');
    let map = this.#mappings.get(names);
    if (map === undefined) {
      const lower = change.columns.map((c) => c.toLowerCase());
      const idx = this.columns.map((c) => lower.indexOf(c.toLowerCase()));
      map = idx.every((v, i) => v === i) && idx.length === change.columns.length ? null : idx;
      if (this.#mappings.size > 16) this.#mappings.clear();
      this.#mappings.set(names, map);
    }
    if (map === null) return change.deltas;
    const m = map;
    return change.deltas.map((d) => ({ sign: d.sign, row: m.map((j): Value => (j < 0 ? null : d.row[j])) }));
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    return deltas.length === 0 ? EMPTY_RESULT : { output: deltas, evicted: [] };
  }

  sql(): SqlShape {
    // [note: float-exact] MariaDB prints a FLOAT with 6 digits, too few to name the float32 stored;
    // the same value as a DOUBLE prints every digit it needs.
    const select = this.columns.map((c, i) => (this.#floats[i] ? `CAST(${quoteId(c)} AS DOUBLE)` : quoteId(c)));
    return { select, from: `${quoteId(this.database)}.${quoteId(this.table)}`, where: [] };
  }
}
