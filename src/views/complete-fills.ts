/**
 * Complete caches ([note: complete-state]): a cache over a small table is filled whole, in the
 * background, as soon as it is installed, so that a read of a key the table does not hold (blades'
 * "is this user a fan yet?", a first read of any key) is answered from memory as empty instead of
 * going to MariaDB. `--complete-rows N` bounds the rows read (0: never); a cache whose input has
 * more rows, or whose rows would take more than an eighth of the memory limit, stays partial.
 *
 * What is filled whole is each state that reads one table straight from MySQL (through stateless
 * nodes): a cache's reader, a join's sides, an aggregate (without GROUP BY, a key not held answers
 * its row of no rows); a first read below them is computed from them in memory ([note:
 * memory-fill]). Once complete, any eviction makes a state partial again
 * (src/dataflow/materialized.ts); it is filled whole again when its cache is installed again (DDL
 * that plans it again, a restart, a new registration), or by {@link CompleteFills.revisit} when it
 * is being read and the memory budget is not evicting.
 */
import type { Logger } from 'pino';
import type { Upqueries } from '../dataflow/upquery.js';
import type { Graph } from '../dataflow/graph.js';
import type { Cache } from './cache.js';
import type { InputNode } from '../dataflow/operator.js';

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

type Outcome = 'complete' | 'too-large' | 'unsupported' | 'later' | 'failed';

export class CompleteFills {
  readonly #host: CompleteFillsHost;
  readonly #limit: { readonly rows: number; readonly bytes: number };
  readonly #fills = new Set<Promise<void>>();
  /** Whole fills under way, by node: caches sharing a node (a join side) share its fill. */
  readonly #filling = new Map<InputNode, Promise<Outcome>>();
  #closed = false;

  /** `maxRows`: `--complete-rows`; `memoryLimitBytes`: the state's limit ([note: memory-budget]). */
  constructor(host: CompleteFillsHost, maxRows: number, memoryLimitBytes: number) {
    this.#host = host;
    this.#limit = { rows: maxRows, bytes: memoryLimitBytes / 8 };
  }

  /**
   * The states of `c` that are filled whole: each stateful node that fills straight from MySQL
   * (stateless nodes up to one table) and whose nodes below take a key it does not hold as it
   * answers it (empty, or an aggregate's row of none) — its reader, a join's sides, an aggregate. None for a range, expression or UNION cache.
   */
  nodes(c: Cache): InputNode[] {
    if (c.built.range !== undefined || c.plan.kind === 'answer' || c.built.nodes.some((n) => n.kind === 'union')) return [];
    const graph = this.#host.graph;
    const out: InputNode[] = [];
    for (const n of c.built.nodes) {
      if (n.kind !== 'reader' && n.kind !== 'keyed-rows' && n.kind !== 'aggregate') continue;
      const plan = graph.fillPlan(n);
      if (plan.kind === 'mysql' && plan.node === n && n.state.wholeQuery?.(1) != null) out.push(plan.node);
    }
    return out;
  }

  /** Starts filling `c`'s states whole in the background, when it has some and `--complete-rows` is not 0. */
  start(c: Cache): void {
    if (this.#closed || this.#limit.rows <= 0) return;
    const nodes = this.nodes(c);
    if (nodes.length === 0) return;
    c.wholeFill = 'filling';
    const p: Promise<void> = this.#run(c, nodes).finally(() => this.#fills.delete(p));
    this.#fills.add(p);
  }

  // Reads of each cache, and the budget's evictions, at the last revisit.
  readonly #readsSeen = new WeakMap<Cache, number>();
  #evictionsSeen = 0;

  /**
   * Fills whole again the caches that were complete and were made partial since (a binlog reset,
   * a delta an operator could not apply, an admin eviction), when they were read since the last
   * revisit and the memory budget evicted nothing meanwhile: a cache emptied for being idle, or
   * made partial by memory pressure, is left as it is. Called periodically (engine-upkeep.ts).
   */
  revisit(caches: Iterable<Cache>, budgetEvictions: number): void {
    const pressed = budgetEvictions !== this.#evictionsSeen;
    this.#evictionsSeen = budgetEvictions;
    for (const c of caches) {
      const reads = c.stats.hits + c.stats.misses;
      const read = reads !== (this.#readsSeen.get(c) ?? reads);
      this.#readsSeen.set(c, reads);
      if (pressed || !read || c.status !== 'ready' || (c.wholeFill !== 'complete' && c.wholeFill !== 'failed')) continue;
      const nodes = this.nodes(c);
      if (nodes.some((n) => n.state.complete !== true && !this.#filling.has(n))) this.start(c);
    }
  }

  /** Resolves once the whole fills begun so far have ended (tests). */
  async settled(): Promise<void> {
    while (this.#fills.size > 0) await Promise.all(this.#fills);
  }

  close(): void {
    this.#closed = true;
  }

  async #run(c: Cache, nodes: ReadonlyArray<InputNode>): Promise<void> {
    const wanted = (): boolean => !this.#closed && this.#host.holds(c) && c.status === 'ready';
    const outcomes = await Promise.all(nodes.map((n) => {
      if (n.state.complete === true) return 'complete' as const;
      let p = this.#filling.get(n);
      if (p === undefined) {
        const filling = this.#fill(n, wanted).finally(() => this.#filling.delete(n));
        this.#filling.set(n, (p = filling));
      }
      return p;
    }));
    if (outcomes.every((o) => o === 'complete')) {
      c.wholeFill = 'complete';
      this.#host.log.info({ cache: c.id, states: nodes.map((n) => n.describe()) }, 'a cache holds its whole table: a key it does not hold is empty');
    } else {
      c.wholeFill = outcomes.includes('too-large') ? 'too large' : outcomes.includes('unsupported') ? 'unsupported' : 'failed';
    }
  }

  /** Fills one node whole, asking again (backing off) while it cannot be installed yet. */
  async #fill(n: InputNode, wanted: () => boolean): Promise<Outcome> {
    const { upqueries, log } = this.#host;
    for (let attempt = 1; attempt <= ATTEMPTS && wanted(); attempt++) {
      try {
        const outcome = await upqueries.fillWhole(n, this.#limit, wanted, STREAM_WAIT_MS);
        if (outcome !== 'later') return outcome;
      } catch (e) {
        log.debug({ err: e, node: n.describe() }, 'filling a state whole failed');
      }
      if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt).unref());
    }
    return 'failed';
  }
}
