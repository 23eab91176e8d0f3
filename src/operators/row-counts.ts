/**
 * The rows of one key, counted: how many input rows stand behind each distinct row, so a delete
 * removes a row only with its last occurrence. Shared by DISTINCT (distinct.ts) and UNION
 * (union.ts), which keep such counts instead of the input rows themselves.
 *
 * Rows equal under a `_ci` collation are one distinct row (as in MariaDB), shown with one of their
 * spellings; each spelling is counted apart, so the one shown always still exists upstream.
 */
import { rowKey, type Delta, type Row } from '../dataflow/delta.js';
import type { Usage } from '../dataflow/keyed-entries.js';
import { keyString, rowBytes, sameRow, type KeyFold } from '../dataflow/state.js';

interface Group {
  /** Count per exact spelling of the row. */
  readonly spellings: Map<string, { readonly row: Row; n: number }>;
  shown: Row | null;
}

/** The groups a batch touched, with the row each showed before it. */
export type Touched = Map<Group, { readonly gk: string; readonly before: Row | null }>;

export class RowCounts {
  readonly #groups = new Map<string, Group>();

  constructor(readonly fold: ReadonlyArray<KeyFold>) {}

  /**
   * Adds `n` (negative: removes) occurrences of `row`. Returns false when removing more than it
   * holds: the state is not what MySQL holds, and its owner MUST evict the key.
   */
  add(row: Row, n: number, touched: Touched | null): boolean {
    const gk = keyString(row, this.fold);
    let g = this.#groups.get(gk);
    if (g === undefined) this.#groups.set(gk, (g = { spellings: new Map(), shown: null }));
    if (touched !== null && !touched.has(g)) touched.set(g, { gk, before: g.shown });
    const exact = rowKey(row);
    const s = g.spellings.get(exact);
    const next = (s?.n ?? 0) + n;
    if (next < 0) return false;
    if (next === 0) g.spellings.delete(exact);
    else if (s === undefined) g.spellings.set(exact, { row, n: next });
    else s.n = next;
    if (touched === null) this.#settle(gk, g);
    return true;
  }

  /** After a batch: appends the changes of the distinct rows (one per group) to `out`. */
  settle(touched: Touched, out: Delta[]): void {
    for (const [g, t] of touched) {
      const next = this.#settle(t.gk, g);
      if (t.before !== null && next !== null && sameRow(t.before, next)) continue;
      if (t.before !== null) out.push({ row: t.before, sign: -1 });
      if (next !== null) out.push({ row: next, sign: 1 });
    }
  }

  #settle(gk: string, g: Group): Row | null {
    let next = g.shown !== null && g.spellings.has(rowKey(g.shown)) ? g.shown : null;
    if (next === null) for (const s of g.spellings.values()) { next = s.row; break; }
    g.shown = next;
    if (next === null) this.#groups.delete(gk);
    return next;
  }

  /** One row per distinct row. */
  distinctRows(): Row[] {
    const out: Row[] = [];
    for (const g of this.#groups.values()) if (g.shown !== null) out.push(g.shown);
    return out;
  }

  /** Every occurrence. */
  allRows(): Row[] {
    const out: Row[] = [];
    for (const g of this.#groups.values()) for (const s of g.spellings.values()) for (let i = 0; i < s.n; i++) out.push(s.row);
    return out;
  }

  /** Every occurrence (`all`), or one row per distinct row. */
  rows(all: boolean): Row[] {
    return all ? this.allRows() : this.distinctRows();
  }

  /** Adds the memory held to `into`: each spelling, and its count. */
  measure(into: Usage): void {
    for (const g of this.#groups.values()) {
      for (const s of g.spellings.values()) {
        into.rows++;
        into.bytes += rowBytes(s.row) + 16;
      }
    }
  }
}
