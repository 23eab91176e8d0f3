/**
 * [note: staleness-bound] Cached answers are only as fresh as the binlog stream behind them. While
 * the applied state may be more than the bound behind the upstream (the stream lags, or has been
 * disconnected, or nothing has proved it fresh for that long), every cached read goes upstream;
 * once a proof within the bound arrives, caches answer again. The staleness is the stream's upper
 * bound (LagMeter.stalenessMs), judged at the moment of each read: the router asks the engine for
 * `staleReason` on every cached read (src/views/router.ts), which asks {@link Freshness.forRead}.
 * Pinned by test/e2e/staleness.test.ts, test/binlog/freshness.test.ts and the idle-read test in
 * test/binlog/supervision.test.ts.
 */

/** What the freshness of cached reads is judged from: the binlog stream (stream.ts). */
export interface FreshnessSource {
  readonly connected: boolean;
  /** At most how far the applied state is behind the upstream at `now` (performance.now()). */
  stalenessMs(now: number): number;
  /** A read needs an exact staleness: sample at the fast period. [note: demand-sampling] */
  demandSamples(now: number): void;
}

export class Freshness {
  readonly #source: FreshnessSource;
  readonly #boundMs: number;
  readonly #onChange: (reason: string | null) => void;
  #current: string | null = null;

  /** `onChange` hears every transition a check sees (for the log). */
  constructor(source: FreshnessSource, boundMs: number, onChange: (reason: string | null) => void = () => undefined) {
    this.#source = source;
    this.#boundMs = boundMs;
    this.#onChange = onChange;
  }

  get boundMs(): number {
    return this.#boundMs;
  }

  /** Why a cached read deciding now MUST go upstream, or null; also keeps sampling fast. */
  forRead(now = performance.now()): string | null {
    this.#source.demandSamples(now);
    return this.check(now);
  }

  /** The current reason reads may not be served from caches, or null; costs no sample. */
  check(now = performance.now()): string | null {
    let reason: string | null = null;
    if (this.#source.stalenessMs(now) > this.#boundMs) {
      reason = this.#source.connected
        ? `the binlog lags the upstream by more than ${this.#boundMs} ms`
        : `the binlog connection is down and the caches may be more than ${this.#boundMs} ms behind`;
    }
    if (reason !== this.#current) {
      this.#current = reason;
      this.#onChange(reason);
    }
    return reason;
  }
}
