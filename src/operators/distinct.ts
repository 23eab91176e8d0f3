/**
 * δ (SELECT DISTINCT): per partial key (the parameter columns), each distinct row once. It counts
 * how many input rows stand behind each distinct row, so a delete removes the row only when its
 * last occurrence goes: exact without keeping the input rows themselves.
 *
 * Rows equal under a `_ci` collation are one distinct row (as in MariaDB) shown with one of their
 * spellings; the node counts each spelling, so the one it shows always still exists upstream.
 */
import { rowKey, type Delta, type Row } from '../dataflow/delta.js';
import { EMPTY_RESULT, type BatchResult, type ColumnSource, type Operator, type SqlShape } from '../dataflow/operator.js';
import { keyOfRow, keyString, rowBytes, sameRow, type FillQuery, type KeyFold, type KeyedState } from '../dataflow/state.js';
import { keyRestriction, renderSelect } from '../dataflow/sql.js';
import { invariant } from '../errors.js';

export interface DistinctSpec {
  /** Input columns of the partial key (the parameters). */
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  /** How each input column compares when deciding whether two rows are the same. */
  readonly rowFold: ReadonlyArray<KeyFold>;
}

interface Group {
  /** Count per exact spelling of the row. */
  readonly spellings: Map<string, { readonly row: Row; n: number }>;
  shown: Row | null;
}

interface Entry {
  readonly keyRow: Row;
  readonly groups: Map<string, Group>;
}

export class Distinct implements Operator, KeyedState {
  readonly kind = 'distinct' as const;
  readonly parents: ReadonlyArray<Operator>;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  readonly #spec: DistinctSpec;
  readonly #entries = new Map<string, Entry>();

  constructor(parent: Operator, spec: DistinctSpec) {
    this.parents = [parent];
    this.#spec = spec;
    this.columns = parent.columns;
    this.key = spec.key;
    this.fold = spec.fold;
    this.signature = `distinct(${parent.signature}|${spec.key.join(',')}|${spec.rowFold.join(',')})`;
  }

  get state(): KeyedState {
    return this;
  }

  describe(): string {
    return `δ[${this.#spec.key.map((i) => this.columns[i]).join(', ')}] ${this.columns.join(', ')}`;
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

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  rows(key: string): ReadonlyArray<Row> | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    const out: Row[] = [];
    for (const g of e.groups.values()) if (g.shown !== null) out.push(g.shown);
    return out;
  }

  *keyRows(): IterableIterator<Row> {
    for (const e of this.#entries.values()) yield e.keyRow;
  }

  evict(key: string): boolean {
    return this.#entries.delete(key);
  }

  evictAll(): number {
    const n = this.#entries.size;
    this.#entries.clear();
    return n;
  }

  usage(): { rows: number; bytes: number } {
    let rows = 0, bytes = 0;
    for (const e of this.#entries.values()) {
      for (const g of e.groups.values()) {
        for (const s of g.spellings.values()) { rows++; bytes += rowBytes(s.row) + 16; }
      }
    }
    return { rows, bytes };
  }

  #group(e: Entry, row: Row): { gk: string; g: Group } {
    const gk = keyString(row, this.#spec.rowFold);
    let g = e.groups.get(gk);
    if (g === undefined) e.groups.set(gk, (g = { spellings: new Map(), shown: null }));
    return { gk, g };
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (this.#entries.size === 0 || deltas.length === 0) return EMPTY_RESULT;
    const touched = new Map<Group, { k: string; gk: string; before: Row | null }>();
    let broken: Set<string> | null = null;
    for (const d of deltas) {
      const k = keyOfRow(d.row, this.#spec.key, this.fold);
      const e = this.#entries.get(k);
      if (e === undefined || broken?.has(k)) continue;
      const { gk, g } = this.#group(e, d.row);
      if (!touched.has(g)) touched.set(g, { k, gk, before: g.shown });
      const exact = rowKey(d.row);
      const s = g.spellings.get(exact);
      if (d.sign === 1) {
        if (s === undefined) g.spellings.set(exact, { row: d.row, n: 1 });
        else s.n++;
      } else if (s === undefined) {
        // Retracting a row the key never counted: the key is not what MySQL holds.
        (broken ??= new Set()).add(k);
      } else if (--s.n === 0) g.spellings.delete(exact);
    }
    const output: Delta[] = [];
    const evicted: Row[] = [];
    if (broken !== null) {
      for (const k of broken) {
        const e = this.#entries.get(k);
        if (e !== undefined) evicted.push(e.keyRow);
        this.#entries.delete(k);
      }
    }
    for (const [g, t] of touched) {
      if (broken?.has(t.k)) continue;
      const next = g.shown !== null && g.spellings.has(rowKey(g.shown)) ? g.shown : firstSpelling(g);
      g.shown = next;
      if (next === null) this.#entries.get(t.k)?.groups.delete(t.gk);
      if (t.before !== null && next !== null && sameRow(t.before, next)) continue;
      if (t.before !== null) output.push({ row: t.before, sign: -1 });
      if (next !== null) output.push({ row: next, sign: 1 });
    }
    return output.length === 0 && evicted.length === 0 ? EMPTY_RESULT : { output, misses: [], evicted };
  }

  fillFromInput(keys: ReadonlyArray<Row>, inputRows: ReadonlyArray<Row>): void {
    this.#install(keys, inputRows.map((row) => ({ row, n: 1 })));
  }

  #install(keys: ReadonlyArray<Row>, counted: ReadonlyArray<{ row: Row; n: number }>): void {
    const filling = new Map<string, Entry>();
    for (const k of keys) filling.set(keyString(k, this.fold), { keyRow: k, groups: new Map() });
    for (const { row, n } of counted) {
      const e = filling.get(keyOfRow(row, this.#spec.key, this.fold));
      if (e === undefined || n <= 0) continue;
      const { g } = this.#group(e, row);
      const exact = rowKey(row);
      const s = g.spellings.get(exact);
      if (s === undefined) g.spellings.set(exact, { row, n });
      else s.n += n;
      g.shown ??= row;
    }
    for (const [k, e] of filling) this.#entries.set(k, e);
  }

  /**
   * The distinct rows of the keys with their counts, grouped by exact value: `_ci` text columns
   * group by their bytes (`CAST(… AS BINARY)`), so each spelling is counted apart.
   */
  fillQuery(keys: ReadonlyArray<Row>): FillQuery {
    const p = this.parents[0].sql();
    invariant(p !== null, 'a distinct node fills from MySQL only when its parents are stateless');
    const ci = (i: number) => this.#spec.rowFold[i] === 'ci';
    const select = p.select.map((x, i) => (ci(i) ? `MIN(${x})` : x));
    const group = p.select.map((x, i) => (ci(i) ? `CAST(${x} AS BINARY)` : x));
    const restrict = this.#spec.key.length === 0 ? [] : [keyRestriction(this.#spec.key.map((i) => p.select[i]), keys)];
    const sql = renderSelect(p, [...select, 'COUNT(*)'], restrict, group);
    const width = p.select.length;
    return { sql, install: (rows) => this.#install(keys, rows.map((r) => ({ row: r.slice(0, width), n: Number(r[width]) }))) };
  }
}

function firstSpelling(g: Group): Row | null {
  for (const s of g.spellings.values()) return s.row;
  return null;
}
