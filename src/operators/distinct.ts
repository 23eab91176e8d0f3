/**
 * δ (SELECT DISTINCT): per partial key (the parameter columns), each distinct row once. It counts
 * how many input rows stand behind each distinct row (row-counts.ts), so a delete removes the row
 * only when its last occurrence goes: exact without keeping the input rows themselves.
 *
 * With `multiset` it keeps every occurrence instead (a UNION ALL branch): the same counted state,
 * filled by the same GROUP BY, passing each delta on.
 */
import type { StateEntry } from '../dataflow/keyed-entries.js';
import type { Delta, Row } from '../dataflow/delta.js';
import type { Usage } from '../dataflow/keyed-entries.js';
import { Materialized } from '../dataflow/materialized.js';
import { EMPTY_RESULT, type BatchResult, type Operator, type StatefulNode } from '../dataflow/operator.js';
import { keyOfRow, keyString, type FillQuery, type KeyFold } from '../dataflow/state.js';
import { renderSelect, keyRestriction } from '../dataflow/sql.js';
import { RowCounts, type Touched } from './row-counts.js';

export interface DistinctSpec {
  /** Input columns of the partial key (the parameters). */
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  /** How each input column compares when deciding whether two rows are the same. */
  readonly rowFold: ReadonlyArray<KeyFold>;
  /** Keep and emit every occurrence (UNION ALL branches) rather than each distinct row once. */
  readonly multiset: boolean;
  /**
   * The n-th copy of an equal node: UNION branches identical but for their parameters are one
   * node each ([note: union-branches]), as a union tells its parents apart by node.
   */
  readonly copy?: number;
}

interface Entry extends StateEntry {
  readonly counts: RowCounts;
}

export class Distinct extends Materialized<Entry> implements StatefulNode<'distinct'> {
  readonly kind = 'distinct' as const;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  readonly #spec: DistinctSpec;

  constructor(parent: Operator, spec: DistinctSpec) {
    super(parent, spec.key, spec.fold);
    this.#spec = spec;
    this.columns = parent.columns;
    this.signature = `distinct(${parent.signature}|${spec.key.join(',')}|${spec.rowFold.join(',')}|${spec.multiset}${spec.copy === undefined ? '' : `|copy${spec.copy}`})`;
  }

  describe(): string {
    return `${this.#spec.multiset ? 'counted' : 'δ'}[${this.#spec.key.map((i) => this.columns[i]).join(', ')}] ${this.columns.join(', ')}`;
  }

  protected newEntry(keyRow: Row): Entry {
    return { keyRow, used: 0, counts: new RowCounts(this.#spec.rowFold) };
  }

  protected addRow(e: Entry, row: Row): void {
    e.counts.add(row, 1, null);
  }

  protected entryRows(e: Entry): ReadonlyArray<Row> {
    return e.counts.rows(this.#spec.multiset);
  }

  protected measure(e: Entry, into: Usage): void {
    e.counts.measure(into);
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (this.entries.size === 0 || deltas.length === 0) return EMPTY_RESULT;
    const touched = new Map<Entry, Touched>();
    const output: Delta[] = [];
    const broken = this.changeEntries(deltas, (e, d) => {
      let t = touched.get(e);
      if (t === undefined) touched.set(e, (t = new Map()));
      // Retracting a row the key never counted: the key is not what MySQL holds.
      if (!e.counts.add(d.row, d.sign, t)) return false;
      if (this.#spec.multiset) output.push(d);
      return true;
    });
    const evicted = broken === null ? [] : this.evictKeys(broken);
    const result = broken === null ? output : output.filter((d) => !broken.has(keyOfRow(d.row, this.#spec.key, this.fold)));
    if (!this.#spec.multiset) for (const [e, t] of touched) if (this.entries.get(keyString(e.keyRow, this.fold)) === e) e.counts.settle(t, result);
    return result.length === 0 && evicted.length === 0 ? EMPTY_RESULT : { output: result, evicted };
  }

  /**
   * The distinct rows of the keys with their counts, grouped by exact value: text columns under a
   * collation group by their bytes (`CAST(… AS BINARY)`), so each spelling is counted apart.
   */
  override fillQuery(keys: ReadonlyArray<Row>): FillQuery {
    const p = this.parentSql();
    const ci = (i: number) => this.#spec.rowFold[i] !== 'exact';
    const select = p.select.map((x, i) => (ci(i) ? `MIN(${x})` : x));
    const group = p.select.map((x, i) => (ci(i) ? `CAST(${x} AS BINARY)` : x));
    const restrict = this.#spec.key.length === 0 ? [] : [keyRestriction(this.#spec.key.map((i) => p.select[i]), keys)];
    const sql = renderSelect(p, [...select, 'COUNT(*)'], restrict, group);
    const width = p.select.length;
    const add = (e: Entry, r: Row): void => {
      const n = Number(r[width]);
      if (n > 0) e.counts.add(r.slice(0, width), n, null);
    };
    return { sql, install: (rows) => this.fill(keys, rows, add) };
  }
}
