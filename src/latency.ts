/**
 * A latency histogram with fixed buckets: what Rotor keeps instead of samples (per cache for its
 * hits, per proxied statement for its upstream time), cheap to add to on a hot path (a logarithm and
 * an increment), read as percentiles and exported to Prometheus as they are. Bucket bounds grow by
 * √2 from 1 µs, so a percentile is the bound of its bucket: at most 41 % above the true value.
 */

/** Upper bounds of the buckets, in ms (the last is +Inf). */
export const BUCKET_MS: ReadonlyArray<number> = Array.from({ length: 48 }, (_, i) => 0.001 * Math.SQRT2 ** i);

const LOG_STEP = Math.log(Math.SQRT2);

export class LatencyHistogram {
  /** Counts per bucket; the one past the last bound counts what is above it. */
  readonly counts = new Float64Array(BUCKET_MS.length + 1);
  count = 0;
  /** The sum of the observed values, ms. */
  sumMs = 0;

  observe(ms: number): void {
    const b = ms <= BUCKET_MS[0] ? 0 : Math.min(BUCKET_MS.length, Math.ceil(Math.log(ms / BUCKET_MS[0]) / LOG_STEP - 1e-9));
    this.counts[b]++;
    this.count++;
    this.sumMs += ms;
  }

  /** The bound under which a share `p` of the values fell (ms), or null before any. */
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    const want = Math.max(1, Math.ceil(this.count * p));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b];
      if (seen >= want) return BUCKET_MS[Math.min(b, BUCKET_MS.length - 1)];
    }
    return BUCKET_MS[BUCKET_MS.length - 1];
  }

  /** p50 and p99 in ms (0 before any value, as the API has always shown). */
  percentiles(): { p50: number; p99: number } {
    return { p50: this.percentile(0.5) ?? 0, p99: this.percentile(0.99) ?? 0 };
  }
}
