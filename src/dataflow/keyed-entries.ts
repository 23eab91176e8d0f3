/**
 * The map of present keys behind every stateful operator: one entry per key (by its key string,
 * state.ts), each remembering its key row. A key missing from the map is a hole (DESIGN.md rule 1);
 * a key present with no rows is known to be empty. Operators extend it with their own per-entry
 * data, and override eviction when they keep indexes beside the map.
 */
import type { Row } from './delta.js';

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
