/**
 * The last minutes of Rotor's counters, for the dashboard's charts (`GET /api/history`): every
 * `intervalMs` one sample of the gauges (binlog lag, memory) and of the per-second rates of the
 * running totals (statements served and relayed, fills, binlog transactions and rows), kept in a
 * ring of `samples` entries. One timer, unref'd: it never keeps the process alive, and costs one
 * read of each total per interval, nothing on the read path.
 */

/** Running totals and gauges as Rotor keeps them; src/index.ts supplies them. */
export interface HistorySources {
  /** Binlog lag in milliseconds; null while disconnected. */
  lagMs(): number | null;
  /** Totals since start: they only grow, except `fills`, which loses a dropped cache's. */
  totals(): { readonly served: number; readonly relayed: number; readonly fills: number; readonly binlogTransactions: number; readonly binlogRows: number };
  memory(): { readonly rssBytes: number; readonly stateBytes: number };
}

export interface HistorySample {
  /** When the sample was taken, ms since the epoch. */
  readonly t: number;
  readonly lagMs: number | null;
  readonly servedPerSec: number;
  readonly relayedPerSec: number;
  readonly fillsPerSec: number;
  readonly binlogTransactionsPerSec: number;
  readonly binlogRowsPerSec: number;
  readonly rssBytes: number;
  readonly stateBytes: number;
}

export interface HistoryOptions {
  /** Between two samples; default 2,000. */
  readonly intervalMs?: number;
  /** Samples kept; default 300 (ten minutes at the default interval). */
  readonly samples?: number;
  /** Milliseconds since the epoch (tests). */
  readonly now?: () => number;
}

type Totals = ReturnType<HistorySources['totals']>;

export class History {
  readonly intervalMs: number;
  readonly #capacity: number;
  readonly #src: HistorySources;
  readonly #now: () => number;
  readonly #ring: HistorySample[] = [];
  // Where the next sample goes once the ring is full (the oldest sample's index).
  #next = 0;
  #last: { readonly t: number; readonly totals: Totals };
  #timer: NodeJS.Timeout | null = null;

  constructor(src: HistorySources, opts: HistoryOptions = {}) {
    this.intervalMs = Math.max(10, opts.intervalMs ?? 2_000);
    this.#capacity = Math.max(2, opts.samples ?? 300);
    this.#src = src;
    this.#now = opts.now ?? Date.now;
    this.#last = { t: this.#now(), totals: src.totals() };
  }

  /** Samples every `intervalMs` until {@link stop}. */
  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Takes one sample now: rates are over the time since the previous one. */
  sample(): HistorySample {
    const t = this.#now();
    const totals = this.#src.totals();
    const seconds = Math.max(t - this.#last.t, 1) / 1000;
    // A total that went down (a dropped cache took its fills along) counts as no activity.
    const rate = (k: keyof Totals): number => Math.round((Math.max(0, totals[k] - this.#last.totals[k]) / seconds) * 100) / 100;
    const mem = this.#src.memory();
    const s: HistorySample = {
      t,
      lagMs: this.#src.lagMs(),
      servedPerSec: rate('served'),
      relayedPerSec: rate('relayed'),
      fillsPerSec: rate('fills'),
      binlogTransactionsPerSec: rate('binlogTransactions'),
      binlogRowsPerSec: rate('binlogRows'),
      rssBytes: mem.rssBytes,
      stateBytes: mem.stateBytes,
    };
    this.#last = { t, totals };
    if (this.#ring.length < this.#capacity) this.#ring.push(s);
    else {
      this.#ring[this.#next] = s;
      this.#next = (this.#next + 1) % this.#capacity;
    }
    return s;
  }

  /** The samples kept, oldest first. */
  samples(): HistorySample[] {
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }
}
