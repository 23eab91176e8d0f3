/**
 * The engine's periodic work: every `privilegeRefreshMs` the refresh (every principal's grants are
 * checked again by its next read, for changes made without the binlog: `sql_log_bin=0`, another
 * server; the upstream's global settings re-read) and the idle caches emptied; every second the
 * memory budget ([note: memory-budget]) checked when anything grew or the state is past the limit;
 * a check after every INSTALLS_PER_CHECK keys filled; and, with the refresh, caches made partial
 * filled whole again ([note: complete-state]).
 */
import type { Logger } from 'pino';
import { usage } from '../dataflow/usage.js';
import type { Cache } from './cache.js';
import type { MemoryBudget } from './memory-budget.js';
import type { CacheRegistry } from './registry.js';

/** How often the memory budget is checked, at least ([note: memory-budget]). */
const BUDGET_CHECK_MS = 1_000;
/** Keys filled between two checks of the memory budget, at most. */
const INSTALLS_PER_CHECK = 1_000;

export interface UpkeepDeps {
  readonly budget: MemoryBudget;
  readonly registry: CacheRegistry;
  readonly log: Logger;
  /** Read when the timers start and at each idle check (EngineOptions). */
  readonly opts: { readonly privilegeRefreshMs?: number; readonly cacheIdleMs?: number };
  /** The refresh the timer runs (Engine.refresh). */
  refresh(): Promise<void>;
  /** Batches applied so far (the engine counts them as it applies them). */
  batches(): number;
  /** Fills whole again what was complete and is read ([note: complete-state]; CompleteFills.revisit). */
  revisitWhole(): void;
}

export class Upkeep {
  readonly #d: UpkeepDeps;
  #refreshTimer: NodeJS.Timeout | null = null;
  #budgetTimer: NodeJS.Timeout | null = null;
  // Keys installed and batches applied at the last budget check.
  #installsChecked = 0;
  #batchesChecked = 0;
  /** Caches emptied because nobody read them for `cacheIdleMs`. */
  idleEmptied = 0;

  constructor(d: UpkeepDeps) {
    this.#d = d;
  }

  /** Keeps the memory limit: every second, and after every INSTALLS_PER_CHECK keys filled. */
  checkMemory(): void {
    this.#installsChecked = usage.installs;
    this.#batchesChecked = this.#d.batches();
    this.#d.budget.check();
  }

  /** After a fill: checks the memory budget once INSTALLS_PER_CHECK keys were filled since the last check. */
  afterFill(): void {
    if (usage.installs - this.#installsChecked >= INSTALLS_PER_CHECK) this.checkMemory();
  }

  start(): void {
    this.#refreshTimer = setInterval(() => {
      void this.#d.refresh();
      this.emptyIdle(performance.now());
      this.revisitWhole();
    }, this.#d.opts.privilegeRefreshMs ?? 10_000);
    this.#refreshTimer.unref();
    this.#budgetTimer = setInterval(() => {
      // Idle, nothing grew since a check that found the state within the limit: skip the walk.
      const unchanged = usage.installs === this.#installsChecked && this.#d.batches() === this.#batchesChecked;
      if (!unchanged || this.#d.budget.stateBytes > this.#d.budget.limitBytes) this.checkMemory();
    }, BUDGET_CHECK_MS);
    this.#budgetTimer.unref();
  }

  /** Fills whole again the caches made partial that are being read ([note: complete-state]). */
  revisitWhole(): void {
    this.#d.revisitWhole();
  }

  stop(): void {
    if (this.#refreshTimer !== null) clearInterval(this.#refreshTimer);
    if (this.#budgetTimer !== null) clearInterval(this.#budgetTimer);
  }

  /**
   * Empties the caches nobody has read for `cacheIdleMs` (their definitions stay; the next read
   * fills again). Reads are counted, not timed, so the hit path pays nothing for this.
   */
  emptyIdle(now: number): void {
    const limit = this.#d.opts.cacheIdleMs ?? 0;
    if (limit <= 0) return;
    const idle: Cache[] = [];
    for (const c of this.#d.registry.values()) {
      const reads = c.stats.hits + c.stats.misses;
      if (reads !== c.idle.reads || c.idle.since === 0) {
        c.idle = { reads, since: now };
        continue;
      }
      if (now - c.idle.since < limit || c.status !== 'ready' || c.built.reader.size === 0) continue;
      idle.push(c);
      this.#d.log.info({ cache: c.id, idleMs: Math.round(now - c.idle.since) }, 'a cache nobody read was emptied');
    }
    // Their own keys only: states they share with caches still read keep theirs.
    this.#d.budget.emptyReaders(idle.map((c) => c.built.reader));
    this.idleEmptied += idle.length;
  }
}
