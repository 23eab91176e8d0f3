/**
 * The map of present keys behind every stateful operator: one entry per key (by its key string,
 * state.ts), each remembering its key row. A key missing from the map is a hole ([note: missing-key]);
 * a key present with no rows is known to be empty. It answers the graph's questions about the state
 * (presence, rows, memory, eviction); an operator supplies only what an entry holds: the rows it
 * shows ({@link KeyedEntries.entryRows}) and the memory it takes ({@link KeyedEntries.measure}),
 * and overrides eviction when it keeps indexes beside the map.
 */
import type { Row } from './delta.js';
import { OperatorBase } from './operator.js';
import { rowBytes, sameRow } from './state.js';

/** Rough memory held: rows and bytes, added up entry by entry. */
export interface Usage {
  rows: number;
  bytes: number;
}

export abstract class KeyedEntries<E extends { readonly keyRow: Row }> extends OperatorBase {
  protected readonly entries = new Map<string, E>();

  /** The rows a present key shows downstream. */
  protected abstract entryRows(e: E): ReadonlyArray<Row>;

  /** Adds the memory one entry holds to `into`. */
  protected abstract measure(e: E, into: Usage): void;

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  *keyRows(): IterableIterator<Row> {
    for (const e of this.entries.values()) yield e.keyRow;
  }

  rows(key: string): ReadonlyArray<Row> | undefined {
    const e = this.entries.get(key);
    return e === undefined ? undefined : this.entryRows(e);
  }

  usage(): Usage {
    const u: Usage = { rows: 0, bytes: 0 };
    for (const e of this.entries.values()) this.measure(e, u);
    return u;
  }

  evict(key: string): boolean {
    return this.entries.delete(key);
  }

  evictAll(): number {
    const n = this.entries.size;
    this.entries.clear();
    return n;
  }

  /** Evicts `keys` (of present keys) and returns their key rows, as a batch reports them. */
  protected evictKeys(keys: Iterable<string>): Row[] {
    const out: Row[] = [];
    for (const k of keys) {
      const e = this.entries.get(k);
      if (e === undefined) continue;
      out.push(e.keyRow);
      this.evict(k);
    }
    return out;
  }
}

/** Memory of an entry that keeps its rows as one list (readers, top-k, side states). */
export function measureRows(rows: ReadonlyArray<Row>, into: Usage): void {
  into.rows += rows.length;
  for (const r of rows) into.bytes += rowBytes(r);
}

/**
 * Removes one row equal to `row` from `rows` (the order is not kept) and returns it; undefined
 * when `rows` holds none, which for a key's rows means the key is not what MySQL holds.
 */
export function takeRow(rows: Row[], row: Row): Row | undefined {
  const i = rows.findIndex((r) => sameRow(r, row));
  if (i < 0) return undefined;
  const taken = rows[i];
  rows[i] = rows[rows.length - 1];
  rows.pop();
  return taken;
}
