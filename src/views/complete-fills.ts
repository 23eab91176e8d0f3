/**
 * Complete caches ([note: complete-state]): a cache over a small table is filled whole, in the
 * background, as soon as it is installed, so that a read of a key the table does not hold (blades'
 * "is this user a fan yet?", a first read of any key) is answered from memory as empty instead of
 * going to MariaDB. `--complete-rows N` bounds the rows read (0: never); a cache whose input has
 * more rows, or whose rows would take more than an eighth of the memory limit, stays partial.
 *
 * Only a cache whose reader fills straight from MySQL (stateless nodes up to one table's rows:
 * no join, aggregate, top-k, union, range or expression answer in between) is filled whole. Once
 * complete, any eviction makes it partial again (src/dataflow/materialized.ts); it is not filled
 * whole again until it is installed again (DDL that plans it again, a restart, a new registration).
 */
import type { Logger } from 'pino';
import type { Upqueries } from '../dataflow/upquery.js';
import type { Graph } from '../dataflow/graph.js';
import type { Cache } from './cache.js';

/** How long a whole fill waits for the binlog stream to reach its snapshot before it is tried again. */
const STREAM_WAIT_MS = 5_000;
/** Attempts of a whole fill that could not be installed yet (the stream away, the recent log overflowing), spaced out. */
const ATTEMPTS = 6;

export interface CompleteFillsHost {
  readonly graph: Graph;
  readonly upqueries: Upqueries;
  readonly log: Logger;
  /** Whether `c` is still the registered cache of its id. */
  holds(c: Cache): boolean;
}

export class CompleteFills {
  readonly #host: CompleteFillsHost;
  readonly #limit: { readonly rows: number; readonly bytes: number };
  readonly #fills = new Set<Promise<void>>();
  #closed = false;

  /** `maxRows`: `--complete-rows`; `memoryLimitBytes`: the state's limit ([note: memory-budget]). */
  constructor(host: CompleteFillsHost, maxRows: number, memoryLimitBytes: number) {
    this.#host = host;
    this.#limit = { rows: maxRows, bytes: memoryLimitBytes / 8 };
  }

  /** Whether `c` can be filled whole: its reader reads one table's rows through stateless nodes. */
  eligible(c: Cache): boolean {
    const reader = c.built.reader;
    if (c.built.range !== undefined || c.plan.kind === 'answer') return false;
    const plan = this.#host.graph.fillPlan(reader);
    return plan.kind === 'mysql' && plan.node === reader;
  }

  /** Starts filling `c` whole in the background when it is eligible and `--complete-rows` is not 0. */
  start(c: Cache): void {
    if (this.#closed || this.#limit.rows <= 0 || !this.eligible(c)) return;
    c.wholeFill = 'filling';
    const p: Promise<void> = this.#run(c).finally(() => this.#fills.delete(p));
    this.#fills.add(p);
  }

  /** Resolves once the whole fills begun so far have ended (tests). */
  async settled(): Promise<void> {
    while (this.#fills.size > 0) await Promise.all(this.#fills);
  }

  close(): void {
    this.#closed = true;
  }

  async #run(c: Cache): Promise<void> {
    const { upqueries, log } = this.#host;
    const wanted = (): boolean => !this.#closed && this.#host.holds(c) && c.status === 'ready';
    for (let attempt = 1; attempt <= ATTEMPTS && wanted(); attempt++) {
      try {
        const outcome = await upqueries.fillWhole(c.built.reader, this.#limit, wanted, STREAM_WAIT_MS);
        if (outcome === 'complete') {
          c.wholeFill = 'complete';
          log.info({ cache: c.id, keys: c.built.reader.size }, 'a cache holds its whole table: a key it does not hold is empty');
          return;
        }
        if (outcome !== 'later') {
          c.wholeFill = outcome === 'too-large' ? 'too large' : 'unsupported';
          return;
        }
      } catch (e) {
        log.debug({ err: e, cache: c.id }, 'filling a cache whole failed');
      }
      if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt).unref());
    }
    if (c.wholeFill === 'filling') c.wholeFill = 'failed';
  }
}
