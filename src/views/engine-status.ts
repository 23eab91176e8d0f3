/**
 * What the engine reports of its caches and its state: a cache's info (the admin API's), the
 * totals of /api/status, the counters of /metrics, the memory budget, a cache's dataflow as DOT.
 * Each reads what the caches, the graph and the budget count; nothing here changes them.
 */
import type { Graph } from '../dataflow/graph.js';
import { usage } from '../dataflow/usage.js';
import type { LatencyHistogram } from '../latency.js';
import type { Cache, CacheInfo } from './cache.js';
import { cacheDot, type DotCache } from './dot.js';
import type { MemoryBudget } from './memory-budget.js';
import { parameterOf } from './statement-plan.js';

export function cacheInfo(c: Cache, budget: MemoryBudget): CacheInfo {
  const reader = c.built.reader;
  const u = reader.usage();
  return {
    id: c.id, name: c.def.name, database: c.def.database, sql: c.normalized, always: c.def.always === true,
    parameters: c.plan.params.map((p) => parameterOf(c.plan, p.column)),
    plan: c.built.nodes.map((n) => n.describe()),
    status: c.status,
    reason: c.reason,
    complete: reader.complete,
    wholeFill: c.wholeFill,
    stats: { ...c.stats, keys: reader.size, rows: u.rows, bytes: u.bytes, evictions: c.built.nodes.reduce((n, x) => n + (budget.evictedBy.get(x) ?? 0), 0), hitLatencyMs: c.latency.percentiles() },
  };
}

/** The state's totals over every node of the graph (/api/status `caches`). */
export function stateStatus(graph: Graph, caches: number, statementChanges: number, unloggedWrites: number): { caches: number; keys: number; rows: number; bytes: number; emptiedByStatements: number; unloggedWrites: number } {
  let keys = 0, rows = 0, bytes = 0;
  for (const n of graph.nodes()) {
    if (n.state === null) continue;
    const u = n.state.usage();
    rows += u.rows;
    bytes += u.bytes;
    if (n.kind === 'reader') keys += n.state.size;
  }
  return { caches, keys, rows, bytes, emptiedByStatements: statementChanges, unloggedWrites };
}

/** Each cache's counters for /metrics: no scan of the entries (bytes as the budget last estimated them). */
export function cacheCounters(caches: Iterable<Cache>, budget: MemoryBudget): Array<{ name: string; hits: number; misses: number; memoryFills: number; upqueries: number; keys: number; bytes: number; evictions: number; hitLatency: LatencyHistogram; fillLatency: LatencyHistogram }> {
  return [...caches].map((c) => ({
    hitLatency: c.latency, fillLatency: c.fillLatency,
    name: c.def.name, hits: c.stats.hits, misses: c.stats.misses, memoryFills: c.stats.memoryFills, upqueries: c.stats.upqueries, keys: c.built.reader.size,
    bytes: budget.bytesOf(c.built.reader), evictions: c.built.nodes.reduce((n, x) => n + (budget.evictedBy.get(x) ?? 0), 0),
  }));
}

/** Each cache's reader bytes as the memory budget last estimated them (no scan of the entries). */
export function cacheBytes(caches: Iterable<Cache>, budget: MemoryBudget): Array<{ name: string; bytes: number }> {
  return [...caches].map((c) => ({ name: c.def.name, bytes: budget.bytesOf(c.built.reader) }));
}

/** The memory budget as /api/status shows it. [note: memory-budget] */
export function memoryStatus(budget: MemoryBudget): { limitBytes: number; targetBytes: number; stateBytes: number; evictions: number; collections: number; policy: string } {
  return {
    limitBytes: budget.limitBytes, targetBytes: budget.targetBytes, stateBytes: budget.stateBytes, evictions: budget.evictions,
    collections: budget.collections, policy: usage.policy,
  };
}

/** The cache's dataflow as Graphviz DOT, nodes shared with the other caches marked. */
export function cachesDot(c: Cache, caches: Iterable<Cache>): string {
  const asDot = (x: Cache): DotCache => ({ id: x.id, name: x.def.name, nodes: x.built.nodes });
  return cacheDot(asDot(c), [...caches].map(asDot));
}
