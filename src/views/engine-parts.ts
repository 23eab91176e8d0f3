/**
 * The engine's parts, made from its options, wired to each other, started and closed in order;
 * Engine (engine.ts) is their facade. Each part is told of the others only what it uses: the
 * registry forgets a retired cache's read tokens and starts a new one's whole fill, the catalog
 * drops a cache here and warms a cache another instance registered, the warm start fills through
 * the background fills, the upkeep refreshes the schema and fills whole again what was complete.
 */
import { pino } from 'pino';
import { Graph } from '../dataflow/graph.js';
import { Upqueries } from '../dataflow/upquery.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { openAccountSession } from '../upstream/account-session.js';
import { CacheStore } from './cache-store.js';
import { CacheRegistry } from './registry.js';
import { CompleteFills } from './complete-fills.js';
import { CacheCatalog } from './cache-catalog.js';
import { MemoryBudget } from './memory-budget.js';
import { Upkeep } from './engine-upkeep.js';
import { Fills } from './engine-fills.js';
import { SchemaRefresh } from './schema-refresh.js';
import { CacheSink } from './binlog-sink.js';
import type { EngineUpstream } from './engine-upstream.js';
import { DEFAULT_QUERY_STATS, type EngineOptions } from './engine-options.js';
import { ProxiedQueries } from './proxied-queries.js';
import { ProxiedReports } from './proxied-reports.js';
import { EngineAdmin } from './engine-admin.js';
import { warmStartOf, type WarmStart } from './warm-start.js';
import { Principals } from './http-principals.js';
import type { PrivilegeChecks } from './privileges.js';
import type { RegistrationLimit } from './registration-limit.js';
import type { ReadAccess } from './read-access.js';

export interface EngineParts {
  readonly graph: Graph;
  readonly upstream: EngineUpstream;
  readonly upqueries: Upqueries;
  readonly registry: CacheRegistry;
  /** Caches over small tables, filled whole ([note: complete-state]). */
  readonly complete: CompleteFills;
  readonly schema: SchemaRefresh;
  readonly sink: CacheSink;
  /** What sessions send, per statement (SHOW PROXIED QUERIES, GET /api/queries). */
  readonly proxied: ProxiedQueries;
  /** Who reads over HTTP ([note: cached-grants]). */
  readonly principals: Principals;
  /** [note: memory-budget] */
  readonly budget: MemoryBudget;
  /** The periodic refresh, idle caches emptied, the memory limit kept. */
  readonly upkeep: Upkeep;
  /** Misses filled, waited for or in the background. */
  readonly fills: Fills;
  /** Where caches are registered and dropped: here, and in the shared registry when there is one. */
  readonly catalog: CacheCatalog;
  readonly reports: ProxiedReports;
  /** Caches by id or name: registration, drop, eviction, read tokens. */
  readonly admin: EngineAdmin;
  /** [note: warm-fill] null: no store, or warm start off. */
  readonly warm: WarmStart | null;
}

/**
 * The engine's public fields its parts use, made before them: the engine itself, read when a
 * part uses one (as a test may replace one, the registration limit).
 */
export interface EngineShared {
  readonly privileges: PrivilegeChecks;
  readonly registrations: RegistrationLimit;
  readonly access: ReadAccess;
}

/** The parts of an engine made with `opts`, reading `upstream` (a test's) or the one `opts.upstreamUrl` names. */
export function engineParts(opts: EngineOptions, upstreamGiven: EngineUpstream | undefined, shared: EngineShared): EngineParts {
  const log = opts.logger ?? pino({ level: 'silent' });
  const graph = new Graph();
  const upstream = upstreamGiven ?? new UpstreamClient(opts.upstreamUrl, opts.fillRead === undefined ? {} : { fillRead: opts.fillRead });
  const upqueries = new Upqueries(graph, upstream);
  const complete = new CompleteFills({ graph, upqueries, log, holds: (c) => registry.holds(c) }, opts.completeRows ?? 0, opts.memoryLimitBytes ?? Number.MAX_SAFE_INTEGER);
  const registry = new CacheRegistry(graph, opts.dataDir !== null ? new CacheStore(opts.dataDir) : null, log, (c) => shared.access.forget(c.id), (c) => complete.start(c));
  const schema = new SchemaRefresh({ graph, registry, upstream, upqueries, privileges: shared.privileges, log });
  const sink = new CacheSink(graph, registry, upqueries, schema, log);
  const proxied = new ProxiedQueries(opts.queryStats ?? DEFAULT_QUERY_STATS);
  const up = new URL(opts.upstreamUrl);
  const target = { host: up.hostname || '127.0.0.1', port: Number(up.port || 3306) };
  const principals = new Principals((user, password) => openAccountSession(target, user, password), shared.privileges);
  const budget = new MemoryBudget(graph, opts.memoryLimitBytes ?? Number.MAX_SAFE_INTEGER, log, opts.processMemory ?? null);
  const upkeep = new Upkeep({ budget, registry, log, opts, refresh: () => schema.refresh(), batches: () => sink.batches,
    revisitWhole: () => complete.revisit(registry.values(), budget.evictions) });
  const fills = new Fills({ upqueries, upstream, log, afterFill: () => upkeep.afterFill() });
  const catalog = new CacheCatalog({ registry, schema, upstream, defaultDatabase: opts.defaultDatabase, log }, opts, {
    maxCaches: () => shared.registrations.limits.maxCaches,
    installedShared: (c) => void warm?.add(c),
    dropHere: (c) => admin.dropHere(c),
  });
  const reports = new ProxiedReports(proxied, registry, catalog);
  const admin = new EngineAdmin({ registry, catalog, reports, budget, engine: shared, warm: () => warm });
  const store = opts.hotKeys ?? catalog.hotKeyStore(opts.instanceId ?? String(process.pid));
  const warm = warmStartOf(opts.warm ?? {}, store, {
    caches: () => registry.values(),
    holds: (c) => registry.holds(c),
    fill: (c, k) => fills.fillBackground(c, k),
  }, log);
  return { graph, upstream, upqueries, registry, complete, schema, sink, proxied, principals, budget, upkeep, fills, catalog, reports, admin, warm };
}

/** Loads persisted caches: empty (partial) and immediately usable, without asking upstream. */
export async function startParts(p: EngineParts): Promise<void> {
  await p.schema.refresh();
  p.upkeep.start();
  await p.catalog.start();
}

/** Stops the timers and the fills, records the hot keys, closes the shared registry and the upstream. */
export async function closeParts(p: EngineParts): Promise<void> {
  p.upkeep.stop();
  p.complete.close();
  await p.warm?.close();
  p.principals.close();
  p.upqueries.invalidate();
  await p.catalog.close();
  await p.upstream.close();
}
