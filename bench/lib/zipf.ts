/**
 * Key choice for the vote benchmark: Zipf-distributed ranks 1..n (rank 1 the most popular), by
 * inverse transform over a precomputed cumulative table, and the tests' seeded generator
 * (test/support/seeded-random.ts) so a run is reproducible. Skew 0 is the uniform distribution.
 */

export { seededRandom } from '../../test/support/seeded-random.js';

/** Draws ranks in 1..n with P(k) proportional to 1 / k^skew. */
export class Zipf {
  readonly n: number;
  readonly skew: number;
  readonly #cdf: Float64Array;
  readonly #random: () => number;

  /** MUST be given n >= 1 and skew >= 0; `random` defaults to Math.random. */
  constructor(n: number, skew: number, random: () => number = Math.random) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf: n must be a positive integer, got ${n}`);
    if (!(skew >= 0)) throw new RangeError(`zipf: skew must be >= 0, got ${skew}`);
    this.n = n;
    this.skew = skew;
    this.#random = random;
    this.#cdf = new Float64Array(n);
    let total = 0;
    for (let k = 1; k <= n; k++) {
      total += skew === 0 ? 1 : 1 / k ** skew;
      this.#cdf[k - 1] = total;
    }
    for (let i = 0; i < n; i++) this.#cdf[i] /= total;
  }

  /** Probability of rank k (1-based). */
  probability(k: number): number {
    if (k < 1 || k > this.n) return 0;
    return this.#cdf[k - 1] - (k > 1 ? this.#cdf[k - 2] : 0);
  }

  /** One rank in 1..n. */
  next(): number {
    const u = this.#random();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo + 1;
  }
}

/** Parses a distribution flag: "uniform" or a skew such as "1.08". */
export function parseSkew(text: string): number {
  if (text === 'uniform') return 0;
  const s = Number(text);
  if (!Number.isFinite(s) || s < 0) throw new Error(`--skew must be "uniform" or a number >= 0, got "${text}"`);
  return s;
}
