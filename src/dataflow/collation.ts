/**
 * [note: collations] How Rotor compares text: exactly as the upstream's collation does, from
 * MariaDB's own weights. For every collation a cache depends on, src/upstream/collations.ts asks
 * the upstream for `WEIGHT_STRING()` of every character the collation's character set has
 * (one query), checks that a string weighs as its characters do (no contractions) and builds a
 * {@link Collation} here. Keys (lookups, GROUP BY, DISTINCT, joins, fills installing rows),
 * comparisons with constants (WHERE, HAVING) and orders (ORDER BY, top-k, MIN/MAX) all go through
 * it, so `'ß' = 's'` under utf8mb4_general_ci, `'ä' <> 'a'` under latin1_swedish_ci and `'abc ' =
 * 'abc'` under a PAD SPACE `_bin` hold in Rotor exactly when they hold in MariaDB.
 *
 * The registry is per process: the engine loads a collation before it plans a cache over a column
 * that uses it (src/views/schema-refresh.ts), so planning can stay synchronous; a collation Rotor cannot
 * reproduce is remembered with the reason, and a cache that compares, groups or orders by such a
 * column is refused with it. Pinned by test/views/collations.test.ts against the server.
 */

/**
 * A weight as a string that orders, as JS strings order (by UTF-16 unit), exactly as MariaDB's
 * weight bytes order: units of one or two bytes become one character, units of three two.
 */
function unitsOf(bytes: Buffer, width: number): string {
  let s = '';
  for (let i = 0; i + width <= bytes.length; i += width) {
    if (width === 1) s += String.fromCharCode(bytes[i]);
    else if (width === 2) s += String.fromCharCode((bytes[i] << 8) | bytes[i + 1]);
    else s += String.fromCharCode(bytes[i]) + String.fromCharCode((bytes[i + 1] << 8) | bytes[i + 2]);
  }
  return s;
}

/** How characters above U+FFFF weigh under a collation. */
export type Supplementary =
  /** The character set has none (a literal with one is compared by MariaDB only after an error). */
  | { readonly kind: 'none' }
  /** Every one weighs the same (utf8mb4_general_ci, utf8mb4_unicode_ci: U+FFFD's weight). */
  | { readonly kind: 'same'; readonly weight: Buffer }
  /** Each weighs its code point, as three bytes (the `_bin` collations of Unicode sets). */
  | { readonly kind: 'codepoint' }
  /**
   * UCA's implicit weight (two units: 0xFBC0 + cp >> 15, then cp & 0x7FFF | 0x8000) but for the
   * characters listed with their own weights (`_unicode_520_ci`).
   */
  | { readonly kind: 'implicit'; readonly listed: ReadonlyMap<number, Buffer> };

export interface CollationTable {
  readonly name: string;
  /** PAD SPACE (trailing spaces do not count) rather than NO PAD. */
  readonly pad: boolean;
  /** The bytes of one weight unit (1 for 8-bit sets, 2 for general and UCA, 3 for Unicode `_bin`). */
  readonly width: number;
  /** Weight bytes of each character of the set below U+10000, by code point. */
  readonly bmp: ReadonlyMap<number, Buffer>;
  readonly supplementary: Supplementary;
}

export class Collation {
  readonly name: string;
  readonly #pad: boolean;
  readonly #bmp: Array<string | undefined>;
  readonly #supplementary: Supplementary;
  readonly #sameSupplementary: string;
  readonly #listed = new Map<number, string>();
  /** The weight of a space: what PAD SPACE pads the shorter string with. */
  readonly #space: string;

  constructor(t: CollationTable) {
    this.name = t.name;
    this.#pad = t.pad;
    this.#bmp = new Array<string | undefined>(0x10000);
    for (const [cp, w] of t.bmp) {
      if (w.length % t.width !== 0) throw new Error(`collation ${t.name}: a weight of ${w.length} bytes is not whole units of ${t.width}`);
      this.#bmp[cp] = unitsOf(w, t.width);
    }
    this.#supplementary = t.supplementary;
    this.#sameSupplementary = t.supplementary.kind === 'same' ? unitsOf(t.supplementary.weight, t.width) : '';
    if (t.supplementary.kind === 'implicit') for (const [cp, w] of t.supplementary.listed) this.#listed.set(cp, unitsOf(w, t.width));
    const space = this.#bmp[0x20];
    if (space === undefined || space.length === 0) throw new Error(`collation ${t.name}: no weight for a space`);
    this.#space = space;
  }

  /** The collation's weights of `s`, one after another; null when `s` has a character the set lacks. */
  weigh(s: string): string | null {
    let out = '';
    for (let i = 0; i < s.length; i++) {
      const u = s.charCodeAt(i);
      if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length) {
        const cp = s.codePointAt(i) as number;
        i++;
        const w = this.#supplementaryWeight(cp);
        if (w === null) return null;
        out += w;
        continue;
      }
      const w = this.#bmp[u];
      if (w === undefined) return null;
      out += w;
    }
    return out;
  }

  #supplementaryWeight(cp: number): string | null {
    switch (this.#supplementary.kind) {
      case 'none': return null;
      case 'same': return this.#sameSupplementary;
      case 'codepoint': return String.fromCharCode(cp >> 16) + String.fromCharCode(cp & 0xffff);
      case 'implicit': return this.#listed.get(cp) ?? String.fromCharCode(0xfbc0 + (cp >> 15)) + String.fromCharCode((cp & 0x7fff) | 0x8000);
    }
  }

  /** True when every character of `s` is in the collation's character set. */
  covers(s: string): boolean {
    return this.weigh(s) !== null;
  }

  /**
   * A string equal for two values exactly when the collation calls them equal: their weights,
   * without the trailing spaces PAD SPACE ignores. A character outside the set (impossible for a
   * stored value; a literal with one goes upstream, see {@link covers}) keys as itself.
   */
  key(s: string): string {
    const w = this.weigh(s);
    if (w === null) return '\uffff' + s;
    return this.#pad ? this.#trimSpaces(w) : w;
  }

  #trimSpaces(w: string): string {
    const sp = this.#space;
    let end = w.length;
    while (end >= sp.length && w.startsWith(sp, end - sp.length)) end -= sp.length;
    return end === w.length ? w : w.slice(0, end);
  }

  /** Orders two strings as the collation does: by weights, PAD SPACE padding the shorter with spaces. */
  compare(a: string, b: string): number {
    if (a === b) return 0;
    const wa = this.weigh(a) ?? '\uffff' + a, wb = this.weigh(b) ?? '\uffff' + b;
    const n = Math.min(wa.length, wb.length);
    for (let i = 0; i < n; i++) {
      const d = wa.charCodeAt(i) - wb.charCodeAt(i);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    if (wa.length === wb.length) return 0;
    if (!this.#pad) return wa.length < wb.length ? -1 : 1;
    // The longer string's rest against the spaces the shorter is padded with.
    const [rest, sign] = wa.length > wb.length ? [wa.slice(n), 1] : [wb.slice(n), -1];
    const sp = this.#space;
    for (let i = 0; i < rest.length; i++) {
      const d = rest.charCodeAt(i) - sp.charCodeAt(i % sp.length);
      if (d !== 0) return d < 0 ? -sign : sign;
    }
    return 0;
  }

  /** Its name: what node signatures and descriptions show. */
  toString(): string {
    return this.name;
  }
}

/** A loaded collation, or why Rotor cannot reproduce it. */
export type CollationEntry = Collation | { readonly refused: string };

const registry = new Map<string, CollationEntry>();

/** Records what the upstream's collation `name` is (its weights, or why it is not reproduced). */
export function registerCollation(name: string, entry: CollationEntry): void {
  registry.set(name, entry);
}

/** What is known of collation `name`: undefined until it has been loaded. */
export function collationNamed(name: string): CollationEntry | undefined {
  return registry.get(name);
}
