/**
 * How often each key was asked for, approximately, in little memory: a count-min sketch of 4-bit
 * counters (four rows, each key counted in one counter per row, the estimate is the smallest of
 * the four), halved every `sampleSize` increments so old popularity fades (TinyLFU's aging).
 *
 * The memory budget uses it for admission: a key read once is installed
 * as the first to go, so a scan of cold keys cannot push out the keys that are read again and
 * again. It never decides whether an answer is right, only which keys are kept.
 */

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const ROWS = 4;
const MAX = 15;
const SEEDS = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f];

export class FrequencySketch {
  /** Counters, two per byte: row r's counters are bytes [r * width/2, (r + 1) * width/2). */
  readonly #table: Uint8Array;
  readonly #mask: number;
  readonly #sampleSize: number;
  #additions = 0;

  /** @param width counters per row, rounded up to a power of two (at least 64). */
  constructor(width = 1 << 16, sampleSize = width * 10) {
    let w = 64;
    while (w < width) w <<= 1;
    this.#mask = w - 1;
    this.#table = new Uint8Array((ROWS * w) / 2);
    this.#sampleSize = sampleSize;
  }

  /** The estimated count of `hash` (0–15). */
  estimate(hash: number): number {
    let min = MAX;
    for (let r = 0; r < ROWS; r++) min = Math.min(min, this.#get(this.#slot(hash, r)));
    return min;
  }

  /** Counts one more occurrence of `hash` (conservative update: only the smallest counters grow). */
  add(hash: number): void {
    const e = this.estimate(hash);
    if (e < MAX) {
      for (let r = 0; r < ROWS; r++) {
        const s = this.#slot(hash, r);
        if (this.#get(s) === e) this.#set(s, e + 1);
      }
    }
    if (++this.#additions >= this.#sampleSize) this.#age();
  }

  #slot(hash: number, row: number): number {
    const h = Math.imul(hash ^ SEEDS[row], 0x5bd1e995) >>> 0;
    return row * (this.#mask + 1) + ((h ^ (h >>> 15)) & this.#mask);
  }

  #get(slot: number): number {
    const b = this.#table[slot >> 1];
    return slot & 1 ? b >> 4 : b & 0x0f;
  }

  #set(slot: number, v: number): void {
    const i = slot >> 1;
    const b = this.#table[i];
    this.#table[i] = slot & 1 ? (b & 0x0f) | (v << 4) : (b & 0xf0) | v;
  }

  /** Halves every counter. */
  #age(): void {
    const t = this.#table;
    for (let i = 0; i < t.length; i++) t[i] = (t[i] >> 1) & 0x77;
    this.#additions = Math.floor(this.#additions / 2);
  }
}
