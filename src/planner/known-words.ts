/**
 * The words the fingerprint tokenizer knows (keywords, and the few more its table scan reads),
 * found by a hash the tokenizer computes as it scans a word: no upper-cased copy of the word is
 * made to look it up. [note: hot-path] `toUpperCase` is a call into the runtime for every word of
 * every statement, and the copy is garbage.
 *
 * Exact for ASCII words only: a word with other characters is looked up by its `toUpperCase()`
 * (`ſelect` upper-cases to `SELECT`), as it always was.
 */

/** The hash of a word, one character at a time: start from {@link WORD_HASH}, then `h = wordHash(h, c)`. */
export const WORD_HASH = 0x811c9dc5 | 0;

/** Folds character `c` into `h`, ignoring ASCII case (FNV-1a over `c | 0x20`). */
export function wordHash(h: number, c: number): number {
  return Math.imul(h ^ (c | 0x20), 0x01000193);
}

/** A known word: how it is spelled upper-case, and whether it is a keyword (upper-cased in keys). */
export interface KnownWord {
  readonly upper: string;
  readonly keyword: boolean;
}

export class KnownWords {
  readonly #byUpper: ReadonlyMap<string, KnownWord>;
  // Open addressing: per slot, the word's hash and its index + 1 (0: an empty slot).
  readonly #hashes: Int32Array;
  readonly #index: Int32Array;
  readonly #words: KnownWord[] = [];

  /** `keywords` are upper-cased in keys; `others` are only recognised. Upper case, [A-Z_] only. */
  constructor(keywords: Iterable<string>, others: Iterable<string>) {
    const byUpper = new Map<string, KnownWord>();
    for (const upper of keywords) byUpper.set(upper, { upper, keyword: true });
    for (const upper of others) if (!byUpper.has(upper)) byUpper.set(upper, { upper, keyword: false });
    this.#byUpper = byUpper;
    const size = 1 << Math.ceil(Math.log2(byUpper.size * 4));
    this.#hashes = new Int32Array(size);
    this.#index = new Int32Array(size);
    for (const w of byUpper.values()) {
      if (!/^[A-Z_]+$/.test(w.upper)) throw new Error(`known word ${w.upper}: only [A-Z_]`);
      let h = WORD_HASH;
      for (let k = 0; k < w.upper.length; k++) h = wordHash(h, w.upper.charCodeAt(k));
      let slot = h & (size - 1);
      while (this.#index[slot] !== 0) slot = (slot + 1) & (size - 1);
      this.#words.push(w);
      this.#hashes[slot] = h;
      this.#index[slot] = this.#words.length;
    }
  }

  /**
   * The known word `text.slice(start, end)` is, ignoring ASCII case, or undefined. `h` is its
   * hash; every character of it MUST be an ASCII letter, digit, `_` or `$`.
   */
  find(text: string, start: number, end: number, h: number): KnownWord | undefined {
    const mask = this.#index.length - 1;
    for (let slot = h & mask; this.#index[slot] !== 0; slot = (slot + 1) & mask) {
      if (this.#hashes[slot] !== h) continue;
      const w = this.#words[this.#index[slot] - 1];
      if (w.upper.length === end - start && sameWord(text, start, w.upper)) return w;
    }
    return undefined;
  }

  /** The known word whose upper-case spelling is `upper`, or undefined (any characters). */
  get(upper: string): KnownWord | undefined {
    return this.#byUpper.get(upper);
  }
}

/** Whether `text` at `start` spells `upper` (letters and `_`) in any ASCII case. */
function sameWord(text: string, start: number, upper: string): boolean {
  for (let k = 0; k < upper.length; k++) {
    const u = upper.charCodeAt(k);
    const c = text.charCodeAt(start + k);
    // `u + 32` is the lower-case letter; for `_` it is 127, which no word holds.
    if (c !== u && c !== u + 32) return false;
  }
  return true;
}
