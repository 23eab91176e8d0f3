/**
 * The engine's fills of the keys its caches miss, and their bookkeeping: a fill a read waits for,
 * and the fills no client waits for (a relayed read's miss under `--miss-policy relay`, the warm
 * start), at most MAX_BACKGROUND_FILLS of those in flight at once and tracked until they end, and
 * a miss computed at once from the states above ([note: memory-fill]). A finished fill asks the
 * upkeep whether the memory budget is due. The fills themselves are in
 * cache-reads.ts.
 */
import type { Logger } from 'pino';
import type { ReaderAnswer } from '../dataflow/operator.js';
import type { Row } from '../dataflow/delta.js';
import type { Upqueries } from '../dataflow/upquery.js';
import type { Cache } from './cache.js';
import { fillCache, fillInBackground } from './cache-reads.js';
import type { EngineUpstream, FillReads } from './engine-upstream.js';

/** Background fills (misses relayed, filled behind) in flight at once, at most. */
const MAX_BACKGROUND_FILLS = 32;

export interface FillsDeps {
  readonly upqueries: Upqueries;
  /** Counts how fills read it, when it does (EngineUpstream.fillReads). */
  readonly upstream: EngineUpstream;
  readonly log: Logger;
  /** Called after each fill (Upkeep.afterFill). */
  afterFill(): void;
}

export class Fills {
  readonly #d: FillsDeps;
  /** Background fills in flight (`--miss-policy relay`, the warm start). */
  readonly #behind = new Set<Promise<void>>();
  /** Background fills not started because MAX_BACKGROUND_FILLS were in flight. */
  skipped = 0;

  constructor(d: FillsDeps) {
    this.#d = d;
  }

  /** A read's miss, filled for the read that waits (src/views/cache-reads.ts). */
  async fill(cache: Cache, keys: ReadonlyArray<Row>): Promise<ReaderAnswer | undefined> {
    const rows = await fillCache(this.#d.upqueries, this.#d.log, cache, keys);
    this.#d.afterFill();
    return rows;
  }

  /**
   * A read's miss computed now from the states above, when they hold or know its keys (a complete
   * state): true when its keys are now held. [note: memory-fill]
   */
  fillFromMemory(cache: Cache, keys: ReadonlyArray<Row>): boolean {
    if (cache.built.range !== undefined || !this.#d.upqueries.fillFromMemory(cache.built.reader, keys)) return false;
    this.#d.afterFill();
    return true;
  }

  /** A relayed read's key missed again: filled off the client's path. */
  fillBehind(cache: Cache, keys: ReadonlyArray<Row>): void {
    // No client waits on these: past the cap a miss is relayed without a fill (its next miss asks
    // again), so a session missing many keys cannot queue upqueries without bound.
    if (this.#behind.size >= MAX_BACKGROUND_FILLS) {
      this.skipped++;
      return;
    }
    void this.fillBackground(cache, keys);
  }

  /** A fill no client waits for (a relayed miss, warm start): tracked by {@link settled}; never rejects. */
  fillBackground(cache: Cache, keys: ReadonlyArray<Row>): Promise<void> {
    const done = fillInBackground(this.#d.upqueries, this.#d.log, cache, keys);
    this.#behind.add(done);
    return done.then(() => {
      this.#behind.delete(done);
      this.#d.afterFill();
    });
  }

  /** Resolves once the background fills started so far have ended. */
  async settled(): Promise<void> {
    while (this.#behind.size > 0) await Promise.all([...this.#behind]);
  }

  /** How fills have read the upstream so far, when it counts them. */
  reads(): FillReads | null {
    return this.#d.upstream.fillReads?.() ?? null;
  }
}
