/**
 * [note: demand-sampling] How often the stream samples the upstream's binlog end (lag.ts). The
 * samples serve the staleness bound of cached reads, so they are taken at the fast period only
 * while someone needs them: while cached reads are being decided (the read path calls
 * {@link SamplePacing.demand}, through Engine.staleReason) and while a sample waits to be applied
 * (the lag is being measured). Otherwise the period is the slow one, which the owner keeps shorter
 * than the staleness bound: the first read after an idle spell then finds a proof of freshness
 * younger than the bound, and is judged by its age (LagMeter.stalenessMs), never by a lag nobody
 * measured. An idle Rotor asks the upstream once per slow period instead of 40 times a second.
 * Pinned by test/binlog/sample-pacing.test.ts and test/binlog/supervision.test.ts.
 */

export interface SamplePacingOptions {
  /** Period while sampling is needed. */
  readonly fastMs: number;
  /** Period otherwise. */
  readonly slowMs: number;
  /** Sampling stays fast this long after the last demand. */
  readonly holdMs: number;
  /** True while a sample waits to be applied. */
  readonly busy: () => boolean;
  /** Takes one sample; never rejects. */
  readonly run: () => Promise<void>;
  /** The clock `demand` is given times of. Default performance.now. */
  readonly clock?: () => number;
}

export class SamplePacing {
  readonly #o: SamplePacingOptions;
  readonly #clock: () => number;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #stopped = true;
  #fast = true;
  #lastDemand = -Infinity;
  #lastStart = -Infinity;

  constructor(opts: SamplePacingOptions) {
    this.#o = { ...opts, slowMs: Math.max(opts.fastMs, opts.slowMs) };
    this.#clock = opts.clock ?? (() => performance.now());
  }

  /** True while sampling at the fast period. */
  get fast(): boolean {
    return this.#fast;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * Someone needs fresh samples now (a cached read is being decided). Cheap enough for every
   * read: one comparison unless sampling was slow, then the next sample is brought forward.
   */
  demand(now: number): void {
    this.#lastDemand = now;
    if (this.#fast) return;
    this.#fast = true;
    if (this.#timer !== null && !this.#running) {
      clearTimeout(this.#timer);
      this.#schedule(Math.max(0, this.#lastStart + this.#o.fastMs - now));
    }
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#tick(), delay);
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = null;
    if (this.#stopped) return;
    this.#running = true;
    this.#lastStart = this.#clock();
    void this.#o.run().finally(() => {
      this.#running = false;
      const now = this.#clock();
      this.#fast = this.#o.busy() || now - this.#lastDemand < this.#o.holdMs;
      // A period from start to start, as an interval would: a slow answer does not stretch it.
      this.#schedule(Math.max(0, this.#lastStart + (this.#fast ? this.#o.fastMs : this.#o.slowMs) - now));
    });
  }
}
