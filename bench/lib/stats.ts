/**
 * Latency recording for benchmarks: a log-linear histogram over microseconds, mergeable across
 * worker processes, so a 23-million-iteration run keeps a few kilobytes per query instead of every
 * sample. Values below 128 µs are exact; above, each bucket spans under 1.6 % of its value.
 */

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // 64 sub-buckets per power of two above the exact range
const EXACT = SUB * 2; // 0..127 µs recorded exactly
const MAX_SHIFT = 26;
const BUCKETS = EXACT + MAX_SHIFT * SUB;

/** Summary of one latency distribution, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly min: number;
  readonly avg: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** A histogram in transferable form (what a worker sends to the coordinator). */
export interface HistogramData {
  readonly count: number;
  readonly sumUs: number;
  readonly minUs: number;
  readonly maxUs: number;
  /** Sparse [bucketIndex, count] pairs. */
  readonly buckets: ReadonlyArray<readonly [number, number]>;
}

/** The bucket a value in whole microseconds falls into. */
export function bucketOf(us: number): number {
  if (us < EXACT) return us < 0 ? 0 : us;
  const e = 31 - Math.clz32(us); // position of the top bit, >= 7
  const shift = e - SUB_BITS;
  if (shift > MAX_SHIFT) return BUCKETS - 1;
  return EXACT + (shift - 1) * SUB + ((us >>> shift) - SUB);
}

/** The smallest value (µs) in a bucket and the bucket's width. */
export function bucketRange(index: number): { readonly low: number; readonly width: number } {
  if (index < EXACT) return { low: index, width: 1 };
  const shift = Math.floor((index - EXACT) / SUB) + 1;
  const mantissa = ((index - EXACT) % SUB) + SUB;
  return { low: mantissa * 2 ** shift, width: 2 ** shift };
}

/** Records durations; `record` takes milliseconds (as `performance.now()` differences). */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sumUs = 0;
  #minUs = Infinity;
  #maxUs = 0;

  /** Records one duration in milliseconds. */
  record(ms: number): void {
    const us = Math.max(0, Math.round(ms * 1000));
    this.#counts[bucketOf(us > 0x7fffffff ? 0x7fffffff : us)]++;
    this.#count++;
    this.#sumUs += us;
    if (us < this.#minUs) this.#minUs = us;
    if (us > this.#maxUs) this.#maxUs = us;
  }

  get count(): number {
    return this.#count;
  }

  /** Adds another histogram's samples to this one. */
  merge(data: HistogramData): void {
    for (const [i, c] of data.buckets) this.#counts[i] += c;
    this.#count += data.count;
    this.#sumUs += data.sumUs;
    if (data.count > 0) {
      this.#minUs = Math.min(this.#minUs, data.minUs);
      this.#maxUs = Math.max(this.#maxUs, data.maxUs);
    }
  }

  toData(): HistogramData {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i] > 0) buckets.push([i, this.#counts[i]]);
    return { count: this.#count, sumUs: this.#sumUs, minUs: this.#minUs, maxUs: this.#maxUs, buckets };
  }

  /** The value (ms) at quantile q in [0, 1]; 0 when empty. Never outside [min, max]. */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) {
        const { low, width } = bucketRange(i);
        const mid = width === 1 ? low : low + width / 2;
        return Math.min(this.#maxUs, Math.max(this.#minUs, mid)) / 1000;
      }
    }
    return this.#maxUs / 1000;
  }

  summary(): LatencySummary {
    if (this.#count === 0) return { count: 0, min: 0, avg: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    return {
      count: this.#count,
      min: this.#minUs / 1000,
      avg: this.#sumUs / this.#count / 1000,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: this.#maxUs / 1000,
    };
  }
}

/** A histogram rebuilt from its transferable form. */
export function histogramFrom(data: HistogramData): Histogram {
  const h = new Histogram();
  h.merge(data);
  return h;
}

/** Exact percentile of a small sample (linear between closest ranks); 0 when empty. */
export function percentile(values: ReadonlyArray<number>, q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** p50/p99/max of a small sample, or null when there is none. */
export function spread(values: ReadonlyArray<number>): { p50: number; p99: number; max: number } | null {
  if (values.length === 0) return null;
  return { p50: round(percentile(values, 0.5)), p99: round(percentile(values, 0.99)), max: round(Math.max(...values)) };
}

/** Rounds to `digits` decimals (3 by default): results read in ms with µs precision. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Rounds every number of a latency summary. */
export function roundSummary(s: LatencySummary): LatencySummary {
  return {
    count: s.count, min: round(s.min), avg: round(s.avg), p50: round(s.p50), p95: round(s.p95), p99: round(s.p99), max: round(s.max),
  };
}
