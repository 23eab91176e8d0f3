/**
 * The map of present keys behind every stateful operator: one entry per key (by its key string,
 * state.ts), each remembering its key row. A key missing from the map is a hole ([note: missing-key]);
 * a key present with no rows is known to be empty. Operators extend it with their own per-entry
 * data, and override eviction when they keep indexes beside the map.
 */
import type { Row } from './delta.js';
import { rowBytes } from './state.js';

export abstract class KeyedEntries<E extends { readonly keyRow: Row }> {
  protected readonly entries = new Map<string, E>();

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  *keyRows(): IterableIterator<Row> {
    for (const e of this.entries.values()) yield e.keyRow;
  }

  evict(key: string): boolean {
    return this.entries.delete(key);
  }

  evictAll(): number {
    const n = this.entries.size;
    this.entries.clear();
    return n;
  }
}

/** Memory of entries that keep their rows as one list each (readers, top-k, side states). */
export function rowListUsage(entries: Iterable<{ readonly rows: ReadonlyArray<Row> }>): { rows: number; bytes: number } {
  let rows = 0, bytes = 0;
  for (const e of entries) {
    rows += e.rows.length;
    for (const r of e.rows) bytes += rowBytes(r);
  }
  return { rows, bytes };
}
