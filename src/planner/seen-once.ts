/**
 * [note: seen-once] A doorkeeper for memos keyed by statement text: a text is worth remembering
 * the second time it is seen. Statements whose literals differ every time (`WHERE id=8131`, a key
 * read once) would otherwise each be inserted into a memo and pushed out again, costing a map
 * insertion and garbage that outlives a young collection — measured at 2-3x the cost of
 * tokenizing such a statement. One hash per slot; a collision only admits a text early or late,
 * never changes what a memo answers. Used by the fingerprint memo (fingerprint.ts) and the route
 * memo (views/route-memo.ts); pinned by test/planner/fingerprint.test.ts and
 * test/views/route-memo.test.ts.
 */
export class SeenOnce {
  readonly #slots: Int32Array;

  constructor(slots = 1 << 14) {
    // A power of two: the hash's low bits pick the slot.
    this.#slots = new Int32Array(1 << Math.ceil(Math.log2(Math.max(2, slots))));
  }

  /** True when `text` (under `mode`) was seen before; otherwise remembers it and returns false. */
  again(text: string, mode = 0): boolean {
    return this.againHashed(textHash(text, mode));
  }

  /** {@link again} for a text whose {@link textHash} (under its mode) is `h`, taken by the caller for its own use too. */
  againHashed(h: number): boolean {
    const slot = h & (this.#slots.length - 1);
    if (this.#slots[slot] === h) return true;
    this.#slots[slot] = h;
    return false;
  }
}

/** FNV-1a over the text's UTF-16 code units, seeded with `mode`. */
export function textHash(text: string, mode: number): number {
  let h = 0x811c9dc5 ^ mode;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}
