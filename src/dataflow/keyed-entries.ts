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
import { rowBytes, sameRow, type EvictionCandidate } from './state.js';
import { admissionTick, usage } from './usage.js';

/** Rough memory held: rows and bytes, added up entry by entry. */
export interface Usage {
  rows: number;
  bytes: number;
}

/** What every entry of a state carries: its key row, and its usage tick ([note: memory-budget]). */
export interface StateEntry {
  readonly keyRow: Row;
  used: number;
}

/**
 * Bytes a present key costs besides what {@link KeyedEntries.measure} counts: its slot in the map,
 * its key string and key row, the entry object, the row arrays (and a loose reader key's answer
 * rows and their encoding, src/proxy/protocol/result-set.ts). Measured, not derived: 50,000 reader
 * keys of a 300-character row kept as values held 1,424 bytes of V8 heap each (2,261 of RSS) where
 * `measure` counts 624; with evictions going on, kept keys measured ~1,850 each. It errs high for
 * small entries (an aggregate's count), which only makes the budget evict early. A compact reader
 * key ([note: compact-reader]) costs far less and says so (src/operators/reader.ts).
 */
const ENTRY_OVERHEAD = 1000;

export abstract class KeyedEntries<E extends StateEntry> extends OperatorBase {
  protected readonly entries = new Map<string, E>();
  /** Where the budget's sampling goes on (a live iterator: entries added or deleted since are fine). */
  #hand: Iterator<E> | null = null;
  /** Bytes per present key, a moving average over sampled entries (0: none sampled yet). */
  #perKey = 0;
  /** Tells this state's keys from other states' in the admission sketch. */
  readonly #seed = (Math.random() * 0x100000000) >>> 0;

  /** The rows a present key shows downstream. */
  protected abstract entryRows(e: E): ReadonlyArray<Row>;

  /** Adds the memory one entry holds to `into`. */
  protected abstract measure(e: E, into: Usage): void;

  /** Bytes an entry costs besides what {@link measure} counts. */
  protected entryOverhead(_e: E): number {
    return ENTRY_OVERHEAD;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  *keyRows(): IterableIterator<Row> {
    for (const e of this.entries.values()) yield e.keyRow;
  }

  /**
   * The key rows of at most `n` present keys, most recently used first ([note: memory-budget]'s
   * ticks: what the budget keeps longest); keys admitted but never used again (tick 0) come last.
   * One pass over the entries, keeping the best `n` in a small heap.
   */
  hottest(n: number): Row[] {
    if (n <= 0) return [];
    const heap: StateEntry[] = [];
    for (const e of this.entries.values()) {
      if (heap.length < n) {
        heap.push(e);
        siftUp(heap, heap.length - 1);
      } else if (e.used > heap[0].used) {
        heap[0] = e;
        siftDown(heap, 0);
      }
    }
    return heap.sort((a, b) => b.used - a.used).map((e) => e.keyRow);
  }

  rows(key: string): ReadonlyArray<Row> | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    e.used = usage.tick++;
    return this.entryRows(e);
  }

  /** Makes `e` the entry of `key`, with the tick admission gives it ([note: memory-budget]). */
  protected admit(key: string, e: E): void {
    e.used = admissionTick(key, this.#seed);
    this.entries.set(key, e);
  }

  /**
   * The state's bytes, estimated from `n` entries sampled where the last sample stopped (the
   * budget calls this instead of {@link usage}, which visits every entry), and those entries as
   * eviction candidates.
   */
  sample(n: number, out: EvictionCandidate[]): number {
    const size = this.entries.size;
    if (size === 0) return 0;
    const u: Usage = { rows: 0, bytes: 0 };
    let seen = 0;
    let overhead = 0;
    for (let i = 0; i < n && i < size; i++) {
      let next = this.#hand?.next();
      if (next === undefined || next.done === true) {
        this.#hand = this.entries.values();
        next = this.#hand.next();
        if (next.done === true) break;
      }
      const e = next.value;
      this.measure(e, u);
      overhead += this.entryOverhead(e);
      seen++;
      out.push({ keyRow: e.keyRow, used: usage.policy === 'random' ? Math.random() * usage.tick : e.used });
    }
    if (seen > 0) {
      const per = (u.bytes + overhead) / seen;
      this.#perKey = this.#perKey === 0 ? per : this.#perKey * 0.8 + per * 0.2;
    }
    return Math.round(size * this.#perKey);
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

// A min-heap of entries by tick: the root is the coldest of the hottest kept so far.
function siftUp(h: StateEntry[], i: number): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p].used <= h[i].used) return;
    [h[p], h[i]] = [h[i], h[p]];
    i = p;
  }
}

function siftDown(h: StateEntry[], i: number): void {
  for (;;) {
    const l = 2 * i + 1, r = l + 1;
    let m = i;
    if (l < h.length && h[l].used < h[m].used) m = l;
    if (r < h.length && h[r].used < h[m].used) m = r;
    if (m === i) return;
    [h[m], h[i]] = [h[i], h[m]];
    i = m;
  }
}
