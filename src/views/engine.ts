/**
 * The engine: the facade the proxy, the admin API, the binlog stream and the tests use, over
 * - the registry of caches and the dataflow graph they share (registry.ts), which register.ts
 *   adds to;
 * - the DDL/refresh path: schemas checked again, collations, the upstream's global settings
 *   (schema-refresh.ts);
 * - the binlog sink that keeps the caches exact (binlog-sink.ts: synchronous, no await while a
 *   batch is applied);
 * - the read path's misses, filled by upqueries (cache-reads.ts).
 * The proxy talks to it through {@link Engine.router}; the admin API through
 * register/list/get/drop/evict; the binlog stream through applyBatch and applySchemaChange.
 */
import type { ReaderAnswer } from '../dataflow/operator.js';
import { pino, type Logger } from 'pino';
import type { Answer, ReadRouter } from '../proxy/read-router.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { Batch, BinlogPosition } from '../dataflow/batch.js';
import type { BinlogSink, SchemaChange } from '../binlog/sink.js';
import type { Freshness } from '../binlog/freshness.js';
import { DEFAULTS, type Consistency, type MissPolicy, type TransactionReads } from '../config.js';
import { Graph } from '../dataflow/graph.js';
import { cacheDot, type DotCache } from './dot.js';
import { Upqueries, type UpqueryStats } from '../dataflow/upquery.js';
import type { Row } from '../dataflow/delta.js';
import type { QualifiedQuery } from '../planner/parse.js';
import { RotorError } from '../errors.js';
import type { LatencyHistogram } from '../latency.js';
import { fingerprint } from '../planner/fingerprint.js';
import { grownLimit } from '../planner/limit.js';
import type { Value } from '../values.js';
import type { Cache, CacheInfo } from './cache.js';
import { CacheRouter, type RouterBackend } from './router.js';
import { UpstreamClient, type FillRead } from '../upstream/upstream-client.js';
import { CacheStore } from './cache-store.js';
import { PrivilegeChecks } from './privileges.js';
import { RegistrationLimit } from './registration-limit.js';
import { CacheRegistry } from './registry.js';
import { RegistrySync } from './registry-sync.js';
import { SharedRegistry, type RegistryStore, type SharedDefinition, type SharedRegistryEvents } from './shared-registry.js';
import { ClusterRegistry } from './cluster-registry.js';
import { MemoryBudget, type ProcessMemory } from './memory-budget.js';
import { usage } from '../dataflow/usage.js';
import { SchemaRefresh } from './schema-refresh.js';
import { CacheSink } from './binlog-sink.js';
import type { EngineUpstream, FillReads } from './engine-upstream.js';
import { parameterOf, tablesOf } from './statement-plan.js';
import { explainCache, registerCache, type Explained, type RegisterRequest } from './register.js';
import { likeMatcher, PROXIED_ID, ProxiedQueries, proxiedReports, registrableText, type Cacheability, type ProxiedQuery, type ProxiedReport, type ProxiedSort } from './proxied-queries.js';
import { fillCache, fillInBackground, learnVariant } from './cache-reads.js';
import { proxiedQueriesAnswer, showCachesAnswer } from './show-caches.js';
import { FileHotKeyStore, type HotKeyStore } from './hot-keys.js';
import { WarmStart, type WarmStatus } from './warm-start.js';
import { MirroredHotKeyStore, RedisHotKeyStore } from './redis-hot-keys.js';
import { HttpReads, type HttpReadsBackend } from './http-reads.js';
import { Principals } from './http-principals.js';
import { ReadAccess, type ReadTokenInfo } from './read-access.js';
import { openAccountSession } from '../upstream/account-session.js';

export type { EngineUpstream } from './engine-upstream.js';

export interface EngineOptions {
  /** mysql://rotor:rotor@host:port/db — Rotor's own account for upqueries. */
  upstreamUrl: string;
  /** Resolves unqualified tables when a registration gives no database. */
  defaultDatabase: string | null;
  /** Persist registered caches here (one file per cache under caches/); null = memory only. */
  dataDir: string | null;
  /** The shared registry (`--redis`): registrations and drops go through Redis ([note: shared-registry]). */
  redisUrl?: string | null;
  /**
   * A worker of `--workers N` without `--redis`: the registry is the primary process's, reached
   * over the cluster's IPC channel (cluster-registry.ts), with the same sync as Redis.
   */
  clusterRegistry?: boolean;
  /** Read-your-writes for sessions that wrote (config.ts `consistency`). Default 'eventual'. */
  consistency?: Consistency;
  /** What a read of a key a cache does not hold does (config.ts `missPolicy`). Default 'relay'. */
  missPolicy?: MissPolicy;
  /** Reads inside a transaction from every cache, not only `always` ones (config.ts `transactionReads`; default `DEFAULTS.transactionReads`). [note: transaction-reads] */
  transactionReads?: TransactionReads;
  /** The most rows a `LIMIT ?` read is answered from a cache for (config.ts `maxLimitParam`; default `DEFAULTS.maxLimitParam`). */
  maxLimitParam?: number;
  /** How often every principal's grants are checked again, and the global sql_mode re-read. Default 10 s. */
  privilegeRefreshMs?: number;
  /** A cache nobody has read for this long is emptied (not dropped), checked at every refresh. 0: never (the default). */
  cacheIdleMs?: number;
  /** The bytes all cache state may take ([note: memory-budget]). Default: no limit (tests); the CLI always gives one. */
  memoryLimitBytes?: number;
  /** How many statements SHOW PROXIED QUERIES keeps (0: none are counted). */
  queryStats?: number;
  /** The process the budget follows besides the state ([note: memory-process]). Default: none (tests). */
  processMemory?: ProcessMemory;
  /** How fills read the upstream ([note: fill-position]). Default: locking (snapshot is experimental). */
  fillRead?: FillRead;
  /**
   * Warm start ([note: warm-fill]): hot keys recorded per cache (0: off; default
   * config.ts `DEFAULTS.warmKeys`), keys filled per second at start (default `DEFAULTS.warmRate`),
   * fills in flight (default {@link WARM_FILLS}), how often they are recorded (ms).
   */
  warm?: { keys?: number; rate?: number; fills?: number; recordMs?: number };
  /**
   * Where hot keys are kept; default: with `redisUrl`, Redis, shared by the fleet (mirrored in
   * `<dataDir>/hot/` when there is a data dir); else `<dataDir>/hot/`; else none.
   */
  hotKeys?: HotKeyStore;
  /** HTTP reads keep each key's JSON until it changes (config.ts `httpJsonMemo`). Default true. */
  httpJsonMemo?: boolean;
  /** This instance among those sharing a Redis (its `--server-id`): names its hot-key contribution. */
  instanceId?: string;
  logger?: Logger;
}

/** Warm-start fills in flight at once, at most. */
const WARM_FILLS = 4;
/** How often hot keys are recorded (and at a clean stop). */
const WARM_RECORD_MS = 30_000;

/** Statements counted at most by default. */
export const DEFAULT_QUERY_STATS = 1000;

export type { CacheInfo } from './cache.js';

/** How often the memory budget is checked, at least ([note: memory-budget]). */
const BUDGET_CHECK_MS = 1_000;
/** Background fills (misses relayed, filled behind) in flight at once, at most. */
const MAX_BACKGROUND_FILLS = 32;
/** Keys filled between two checks of the memory budget, at most. */
const INSTALLS_PER_CHECK = 1_000;

/**
 * Redis (mirrored in the data dir) with `--redis`, else the data dir (under `--workers` without
 * Redis too: the workers share the files), else none.
 */
function hotKeyStore(dataDir: string | null, sync: RegistrySync | null, instance: string, log: Logger): HotKeyStore | null {
  const file = dataDir !== null ? new FileHotKeyStore(dataDir) : null;
  if (sync === null || !(sync.shared instanceof SharedRegistry)) return file;
  const shared = new RedisHotKeyStore(sync.shared.client, instance, sync.shared.where, log);
  return file === null ? shared : new MirroredHotKeyStore(shared, file);
}

/** What the shared registry holds of a cache: its definition, nothing derived. [note: shared-registry] */
function sharedDefinition(c: Cache): SharedDefinition {
  return { name: c.def.name, database: c.def.database, sql: c.def.sql, ...(c.def.always === true ? { always: true } : {}) };
}

/** How long start waits for Redis before serving without the shared registry (it keeps trying). */
const REDIS_START_WAIT_MS = 3_000;

/** How long a read that must see its session's writes waits for the binlog before going upstream. */
const SYNC_TIMEOUT_MS = 1_000;

export class Engine implements BinlogSink, RouterBackend, HttpReadsBackend {
  readonly router: ReadRouter;
  readonly #graph = new Graph();
  readonly #upstream: EngineUpstream;
  readonly #upqueries: Upqueries;
  readonly #registry: CacheRegistry;
  readonly #schema: SchemaRefresh;
  readonly #sink: CacheSink;
  #refreshTimer: NodeJS.Timeout | null = null;
  #budgetTimer: NodeJS.Timeout | null = null;
  /** [note: memory-budget] */
  readonly budget: MemoryBudget;
  #installsChecked = 0;
  // Batches applied, and their count at the last budget check.
  #batches = 0;
  #batchesChecked = 0;
  /** Background fills in flight (`--miss-policy relay`). */
  readonly #behind = new Set<Promise<void>>();
  /** Background fills not started because MAX_BACKGROUND_FILLS were in flight. */
  backgroundFillsSkipped = 0;
  readonly #log: Logger;
  readonly #opts: EngineOptions;
  /** The shared registry, with `--redis`; null: this instance's registry is its own. */
  readonly #sync: RegistrySync | null;
  /** [note: warm-fill] null: no store, or warm start off. */
  readonly #warm: WarmStart | null;
  readonly upstreamReasons = new Map<string, number>();
  /** [note: cached-grants] */
  readonly privileges = new PrivilegeChecks();
  /** Shared by the admin API and CREATE CACHE on the SQL port. */
  readonly registrations = new RegistrationLimit();
  /** Read tokens and public marks of caches read over HTTP (src/views/read-access.ts). */
  readonly access = new ReadAccess();
  /** Reads by key over HTTP (`--http-read`): src/views/http-reads.ts. */
  readonly httpReads: HttpReads;
  readonly #principals: Principals;

  /** {@link SqlMode} bits of the upstream's global sql_mode. [note: sql-mode-quoting] */
  get sqlMode(): number {
    return this.#schema.sqlMode;
  }

  /** Why caches over TIMESTAMP columns cannot answer sessions in the upstream's default time zone, or null. */
  get serializableReason(): string | null {
    return this.#schema.serializableReason;
  }

  get timeZoneReason(): string | null {
    return this.#schema.timeZoneReason;
  }

  get parseModeReason(): string | null {
    return this.#schema.parseModeReason;
  }

  /**
   * The upstream's global `div_precision_increment`: the digits AVG adds to a DECIMAL's, which the
   * caches with AVG are built with; a change plans them again.
   */
  get divPrecisionIncrement(): number {
    return this.#schema.divPrecisionIncrement;
  }

  /** The upstream's global `group_concat_max_len`, which the caches with GROUP_CONCAT are built with. */
  get groupConcatMaxLen(): number {
    return this.#schema.groupConcatMaxLen;
  }

  /** Caches emptied because rows changed by a statement logged without row events. [note: statement-dml] */
  get statementChanges(): number {
    return this.#schema.statementChanges;
  }

  /** Writes of sessions with sql_log_bin=0 that made every cache forget what it held. [note: unlogged-writes] */
  get unloggedWrites(): number {
    return this.#schema.unloggedWrites;
  }

  constructor(opts: EngineOptions, upstream?: EngineUpstream) {
    this.#opts = opts;
    this.#log = opts.logger ?? pino({ level: 'silent' });
    this.#upstream = upstream ?? new UpstreamClient(opts.upstreamUrl, opts.fillRead === undefined ? {} : { fillRead: opts.fillRead });
    this.#upqueries = new Upqueries(this.#graph, this.#upstream);
    this.#registry = new CacheRegistry(this.#graph, opts.dataDir !== null ? new CacheStore(opts.dataDir) : null, this.#log, (c) => this.access.forget(c.id));
    this.#schema = new SchemaRefresh({ graph: this.#graph, registry: this.#registry, upstream: this.#upstream, upqueries: this.#upqueries, privileges: this.privileges, log: this.#log });
    this.#sink = new CacheSink(this.#graph, this.#registry, this.#upqueries, this.#schema, this.#log);
    this.proxied = new ProxiedQueries(opts.queryStats ?? DEFAULT_QUERY_STATS);
    this.router = new CacheRouter(this);
    const up = new URL(opts.upstreamUrl);
    const target = { host: up.hostname || '127.0.0.1', port: Number(up.port || 3306) };
    this.#principals = new Principals((user, password) => openAccountSession(target, user, password), this.privileges);
    this.httpReads = new HttpReads(this, this.access, this.#principals, opts.httpJsonMemo ?? true);
    this.budget = new MemoryBudget(this.#graph, opts.memoryLimitBytes ?? Number.MAX_SAFE_INTEGER, this.#log, opts.processMemory ?? null);
    const redisUrl = opts.redisUrl;
    const registryStore: ((events: SharedRegistryEvents) => RegistryStore) | null = redisUrl
      ? (events) => new SharedRegistry(redisUrl, this.#log, events)
      : opts.clusterRegistry === true ? (events) => new ClusterRegistry(this.#log, events) : null;
    this.#sync = registryStore !== null ? new RegistrySync(registryStore, {
      installShared: async (def) => {
        // As many caches as a registration here may make: a registry of more installs no more.
        const max = this.registrations.limits.maxCaches;
        if (this.#registry.size >= max) throw new RotorError('ERR_ADMIN_TOO_MANY_REGISTRATIONS', [`Rotor holds the most caches it may (${max})`]);
        const r = await this.#registerHere(def);
        // A cache registered elsewhere: the fleet may hold its hot keys already. [note: warm-fill]
        if (r.created) void this.#warm?.add(r.cache);
        return r;
      },
      dropLocal: (id) => {
        const c = this.#registry.byName(id);
        if (c !== null && c.id === id) this.#dropHere(c);
      },
      localDefinitions: () => new Map([...this.#registry.values()].map((c): [string, SharedDefinition] => [c.id, sharedDefinition(c)])),
    }, this.#log) : null;
    const store = opts.hotKeys ?? hotKeyStore(opts.dataDir, this.#sync, opts.instanceId ?? String(process.pid), this.#log);
    const w = opts.warm ?? {};
    const keys = w.keys ?? DEFAULTS.warmKeys;
    this.#warm = store === null || keys <= 0 ? null : new WarmStart(
      { keys, rate: w.rate ?? DEFAULTS.warmRate, fills: w.fills ?? WARM_FILLS, recordMs: w.recordMs ?? WARM_RECORD_MS },
      store,
      {
        caches: () => this.#registry.values(),
        holds: (c) => this.#registry.holds(c),
        fill: (c, k) => this.#fillBackground(c, k),
      },
      this.#log,
    );
  }

  /**
   * Fills the hot keys recorded before the last stop, in the background ([note: warm-fill]);
   * resolves once they are read back, not filled. Call after {@link start}, once the binlog
   * stream has started (src/index.ts), so the fills are fenced against it.
   */
  async warmUp(): Promise<void> {
    await this.#warm?.start();
  }

  /** The warm-up's progress (/api/status), or null when warm start is off. */
  /** How fills have read the upstream so far, when it counts them (/api/status `fills`). */
  fillReads(): FillReads | null {
    return this.#upstream.fillReads?.() ?? null;
  }

  warmStatus(): WarmStatus | null {
    return this.#warm?.status ?? null;
  }

  /** The warm-up itself (tests). */
  get warm(): WarmStart | null {
    return this.#warm;
  }

  /** Records each cache's hottest keys now (tests; otherwise periodic and at close). */
  recordHotKeys(): Promise<void> {
    return this.#warm?.record() ?? Promise.resolve();
  }

  /** Keeps the memory limit: every second, and after every INSTALLS_PER_CHECK keys filled. */
  checkMemory(): void {
    this.#installsChecked = usage.installs;
    this.#batchesChecked = this.#batches;
    this.budget.check();
  }

  /** Loads persisted caches: empty (partial) and immediately usable, without asking upstream. */
  async start(): Promise<void> {
    await this.refresh();
    this.#refreshTimer = setInterval(() => {
      void this.refresh();
      this.emptyIdle(performance.now());
    }, this.#opts.privilegeRefreshMs ?? 10_000);
    this.#refreshTimer.unref();
    this.#budgetTimer = setInterval(() => {
      // Idle, nothing grew since a check that found the state within the limit: skip the walk.
      const unchanged = usage.installs === this.#installsChecked && this.#batches === this.#batchesChecked;
      if (!unchanged || this.budget.stateBytes > this.budget.limitBytes) this.checkMemory();
    }, BUDGET_CHECK_MS);
    this.#budgetTimer.unref();
    if (this.#registry.persistent) await this.#loadPersisted();
    // [note: shared-registry] After the data dir's caches: they seed a registry Redis has lost.
    await this.#sync?.start(REDIS_START_WAIT_MS);
  }

  async #loadPersisted(): Promise<void> {
    const installed: Cache[] = [];
    const defs = await this.#registry.load();
    await this.#schema.loadCollations(defs.flatMap((d) => tablesOf(d)));
    for (const def of defs) {
      try {
        installed.push(this.#registry.install(def, this.#schema.settings));
      } catch (e) {
        this.#log.warn({ err: e, cache: def.id }, 'a persisted cache could not be rebuilt');
      }
    }
    // The schema may have changed while Rotor was down: each cache is checked against the
    // current one (and planned again if it changed) before it answers.
    for (const c of installed) c.status = 'invalidated';
    await Promise.all(installed.map((c) => this.#schema.recheck(c)));
  }

  /**
   * The periodic refresh: every principal's grants are checked again by its next read (changes
   * made without the binlog: `sql_log_bin=0`, another server), and the global sql_mode re-read.
   */
  /** Caches emptied because nobody read them for `cacheIdleMs`. */
  idleEmptied = 0;

  /**
   * Empties the caches nobody has read for `cacheIdleMs` (their definitions stay; the next read
   * fills again). Reads are counted, not timed, so the hit path pays nothing for this.
   */
  emptyIdle(now: number): void {
    const limit = this.#opts.cacheIdleMs ?? 0;
    if (limit <= 0) return;
    const idle: Cache[] = [];
    for (const c of this.#registry.values()) {
      const reads = c.stats.hits + c.stats.misses;
      if (reads !== c.idle.reads || c.idle.since === 0) {
        c.idle = { reads, since: now };
        continue;
      }
      if (now - c.idle.since < limit || c.status !== 'ready' || c.built.reader.size === 0) continue;
      idle.push(c);
      this.#log.info({ cache: c.id, idleMs: Math.round(now - c.idle.since) }, 'a cache nobody read was emptied');
    }
    // Their own keys only: states they share with caches still read keep theirs.
    this.budget.emptyReaders(idle.map((c) => c.built.reader));
    this.idleEmptied += idle.length;
  }

  refresh(): Promise<void> {
    return this.#schema.refresh();
  }

  async close(): Promise<void> {
    if (this.#refreshTimer !== null) clearInterval(this.#refreshTimer);
    if (this.#budgetTimer !== null) clearInterval(this.#budgetTimer);
    await this.#warm?.close();
    this.#principals.close();
    this.#upqueries.invalidate();
    await this.#sync?.close();
    await this.#upstream.close();
  }

  /** The graph (for tests and the graph endpoint). */
  get graph(): Graph {
    return this.#graph;
  }

  get upqueryStats(): Readonly<UpqueryStats> {
    return this.#upqueries.stats;
  }

  /**
   * Registers a cache, or finds the one registered for the same statement (`created` false). `sql`
   * may be a proxied statement's id (`pq_…`): its text is registered, in its database.
   */
  async register(req: RegisterRequest): Promise<CacheInfo & { readonly created: boolean }> {
    if (PROXIED_ID.test(req.sql.trim())) {
      const q = this.proxiedStatement(req.sql.trim());
      if (q === null) throw new RotorError('ERR_PROXIED_NOT_FOUND', [req.sql.trim()]);
      req = { sql: q.sql, ...(req.name === undefined ? {} : { name: req.name }), ...(q.database === null ? (req.database === undefined ? {} : { database: req.database }) : { database: q.database }), ...(req.always === true ? { always: true } : {}) };
    }
    const sync = this.#sync;
    if (sync === null) {
      const r = await this.#registerHere(req);
      return { ...this.info(r.cache), created: r.created };
    }
    // [note: shared-registry] Planned here first (a refusal never reaches Redis), then written.
    const r = await sync.register(() => this.#registerHere(req), (x) => ({
      id: x.cache.id, def: sharedDefinition(x.cache),
      undo: () => { if (this.#registry.holds(x.cache)) this.#dropHere(x.cache); },
    }));
    return { ...this.info(r.cache), created: r.created };
  }

  /** Registers on this instance only (a request, or a definition of the shared registry). */
  async #registerHere(req: RegisterRequest): Promise<{ cache: Cache; created: boolean; id: string }> {
    const r = await registerCache(req, {
      registry: this.#registry, schema: this.#schema, upstream: this.#upstream, defaultDatabase: this.#opts.defaultDatabase, log: this.#log,
    });
    return { ...r, id: r.cache.id };
  }

  /** Where the registry lives, as /api/status shows it. */
  registryStatus(): Record<string, unknown> {
    const dataDir = this.#registry.persistent ? { dataDir: this.#opts.dataDir } : {};
    if (this.#sync === null) return { kind: this.#registry.persistent ? 'data-dir' : 'memory', ...dataDir };
    return { ...this.#sync.status(), ...dataDir };
  }

  /** Resolves once the shared registry's reconciles asked for so far have run (tests). */
  async registrySettled(): Promise<void> {
    await this.#sync?.settled();
  }

  /** What sessions send, per statement (SHOW PROXIED QUERIES, GET /api/queries). */
  readonly proxied: ProxiedQueries;
  /** Whether each proxied statement can be cached, as a dry run of registration found it, and when. */
  readonly #cacheability = new Map<string, { readonly refusal: string | null; readonly at: number }>();

  /** A proxied statement's registrable text and database, by its id (`CREATE CACHE FROM pq_…`). */
  proxiedStatement(id: string): { readonly sql: string; readonly database: string | null } | null {
    const q = this.proxied.byId(id);
    return q === null ? null : { sql: registrableText(q), database: q.database };
  }

  /** The proxied statements, `sort`ed, with whether each can be cached and which to cache first. */
  async proxiedReports(opts: { sort?: ProxiedSort; like?: string; limit?: number; supportedOnly?: boolean } = {}): Promise<ProxiedReport[]> {
    const limit = opts.limit ?? 100;
    const like = opts.like === undefined ? null : likeMatcher(opts.like);
    const list = this.proxied.list(opts.sort ?? 'total', opts.supportedOnly ? this.proxied.size : limit, like === null ? undefined : (q) => like(q.query));
    const cacheability: Cacheability[] = [];
    for (const q of list) cacheability.push(await this.#cacheabilityOf(q));
    const reports = proxiedReports(list, cacheability);
    return opts.supportedOnly ? reports.filter((r) => r.cacheable).slice(0, limit) : reports;
  }

  async proxiedQueries(opts: { like?: string; limit?: number; supportedOnly?: boolean }): Promise<Answer> {
    return proxiedQueriesAnswer(await this.proxiedReports(opts));
  }

  /** A dry run of registration, remembered for a minute (a table's change may change it). */
  async #cacheabilityOf(q: ProxiedQuery): Promise<Cacheability> {
    if (!q.read) return { refusal: 'not a SELECT', cachedAs: null };
    const sql = registrableText(q);
    const database = q.database ?? undefined;
    const fp = fingerprint(sql);
    const cachedAs = fp === null || q.database === null ? null : this.#registry.findSame(fp, q.database)?.def.name ?? null;
    const known = this.#cacheability.get(q.id);
    const now = Date.now();
    if (known !== undefined && now - known.at < 60_000) return { refusal: known.refusal, cachedAs };
    let refusal: string | null;
    try {
      refusal = (await this.explain({ sql, ...(database === undefined ? {} : { database }) })).refusal;
    } catch (e) {
      refusal = e instanceof Error ? e.message : String(e);
    }
    this.#cacheability.set(q.id, { refusal, at: now });
    if (this.#cacheability.size > 4 * Math.max(1, this.proxied.limit)) this.#cacheability.clear();
    return { refusal, cachedAs };
  }

  /** EXPLAIN CACHE: a dry run of {@link register}. */
  explain(req: { sql: string; database?: string }): Promise<Explained> {
    return explainCache(req, {
      registry: this.#registry, schema: this.#schema, upstream: this.#upstream, defaultDatabase: this.#opts.defaultDatabase, log: this.#log,
    });
  }

  cacheIds(): string[] {
    return [...this.#registry.values()].map((c) => c.id);
  }

  list(): CacheInfo[] {
    return [...this.#registry.values()].map((c) => this.info(c));
  }

  get(idOrName: string): CacheInfo | null {
    const c = this.#registry.byName(idOrName);
    return c === null ? null : this.info(c);
  }

  /** The cache object itself (tests, the router). */
  cache(idOrName: string): Cache | null {
    return this.#registry.byName(idOrName);
  }

  info(c: Cache): CacheInfo {
    const reader = c.built.reader;
    const u = reader.usage();
    return {
      id: c.id, name: c.def.name, database: c.def.database, sql: c.normalized, always: c.def.always === true,
      parameters: c.plan.params.map((p) => parameterOf(c.plan, p.column)),
      plan: c.built.nodes.map((n) => n.describe()),
      status: c.status,
      reason: c.reason,
      stats: { ...c.stats, keys: reader.size, rows: u.rows, bytes: u.bytes, evictions: c.built.nodes.reduce((n, x) => n + (this.budget.evictedBy.get(x) ?? 0), 0), hitLatencyMs: c.latency.percentiles() },
    };
  }

  /** Set by whoever runs the binlog stream (src/index.ts); null: caches are never judged stale. */
  freshness: Freshness | null = null;

  /**
   * Why no cache may answer right now, judged at this moment, or null: every cached read goes
   * upstream with this reason. [note: staleness-bound] The router reads it on every cached read,
   * and that is the demand that keeps the binlog end sampled fast; a status page uses
   * `freshness.check()`, which asks for no sample. [note: demand-sampling]
   */
  get staleReason(): string | null {
    return this.freshness === null ? null : this.freshness.forRead();
  }

  get consistency(): Consistency {
    return this.#opts.consistency ?? 'eventual';
  }

  get missPolicy(): MissPolicy {
    return this.#opts.missPolicy ?? 'relay';
  }

  get transactionReads(): TransactionReads {
    return this.#opts.transactionReads ?? DEFAULTS.transactionReads;
  }

  get maxLimitParam(): number {
    return this.#opts.maxLimitParam ?? DEFAULTS.maxLimitParam;
  }

  /**
   * [note: limit-param] Raises the K of a `LIMIT ?` cache's top-k to the next power of two at or
   * above `rows` (at most {@link maxLimitParam}), evicting here and below the keys that held fewer
   * rows than all of theirs.
   */
  widenLimit(cache: Cache, rows: number): void {
    const node = cache.built.limitNode;
    if (node === null || rows <= node.need) return;
    const { need, keep } = grownLimit(node.need, rows, this.maxLimitParam);
    const gone = node.grow(need, keep);
    if (gone.length > 0) this.#graph.evict(node, gone);
  }

  /**
   * [note: read-your-writes] Resolves true once the binlog stream has applied everything the
   * upstream had written when this was called, false after {@link SYNC_TIMEOUT_MS}. A session's
   * writes were acknowledged before it sent the read that calls this, so they are included.
   */
  async syncWrites(): Promise<boolean> {
    const end = await this.#upstream.binlogEnd();
    return end === null || this.#upqueries.waitApplied(end, SYNC_TIMEOUT_MS);
  }

  /** [note: binlog-reset] (BinlogSink) */
  reset(reason: string): void {
    this.#sink.reset(reason);
  }

  /** The stream has applied everything up to `position` (BinlogSink). */
  advance(position: BinlogPosition): void {
    this.#sink.advance(position);
  }

  /** The cache's dataflow as Graphviz DOT, nodes shared with other caches marked; null if unknown. */
  dot(idOrName: string): string | null {
    const c = this.#registry.byName(idOrName);
    if (c === null) return null;
    const asDot = (x: Cache): DotCache => ({ id: x.id, name: x.def.name, nodes: x.built.nodes });
    return cacheDot(asDot(c), [...this.#registry.values()].map(asDot));
  }

  /**
   * Drops a cache; false when there is none. Without a shared registry the cache is gone when this
   * returns (before the promise resolves); with one, once Redis has deleted it ([note:
   * shared-registry]), and the promise rejects with ERR_REGISTRY_UNAVAILABLE while Redis is down.
   */
  drop(idOrName: string): Promise<boolean> {
    const c = this.#registry.byName(idOrName);
    if (c === null) return Promise.resolve(false);
    const sync = this.#sync;
    if (sync === null) {
      this.#dropHere(c);
      return Promise.resolve(true);
    }
    return sync.drop(c.id, () => {
      if (this.#registry.holds(c)) this.#dropHere(c);
    }).then(() => true);
  }

  #dropHere(c: Cache): void {
    this.access.forget(c.id);
    this.#registry.remove(c);
    void this.#registry.unpersist(c);
    void this.#warm?.forget(c.id);
  }

  /**
   * Evicts keys (parameter tuples) or everything from a cache, so the next read refills from
   * MySQL. Returns how many reader keys were dropped.
   */
  evict(idOrName: string, keys: ReadonlyArray<ReadonlyArray<Value>> | 'all'): number {
    const c = this.#registry.byName(idOrName);
    if (c === null) throw new RotorError('ERR_CACHE_NOT_FOUND', [idOrName]);
    return this.#registry.evict(c, keys);
  }

  /** Applies one upstream transaction to every cache (BinlogSink). Synchronous. */
  applyBatch(batch: Batch): void {
    this.#batches++;
    this.#sink.applyBatch(batch);
  }

  /** DDL on a table a cache reads: drop its state, stop serving it, and re-learn the table (BinlogSink). */
  applySchemaChange(change: SchemaChange): void {
    this.#sink.applySchemaChange(change);
  }

  /** [note: unlogged-writes] (src/views/schema-refresh.ts) */
  forgetUnlogged(statements: ReadonlyArray<string | null>, database: string | null): void {
    this.#schema.forgetUnlogged(statements, database);
  }

  status(): { caches: number; keys: number; rows: number; bytes: number; emptiedByStatements: number; unloggedWrites: number } {
    let keys = 0, rows = 0, bytes = 0;
    for (const n of this.#graph.nodes()) {
      if (n.state === null) continue;
      const u = n.state.usage();
      rows += u.rows;
      bytes += u.bytes;
      if (n.kind === 'reader') keys += n.state.size;
    }
    return { caches: this.#registry.size, keys, rows, bytes, emptiedByStatements: this.statementChanges, unloggedWrites: this.unloggedWrites };
  }

  /** Each cache's counters for /metrics: no scan of the entries (bytes as the budget last estimated them). */
  cacheCounters(): Array<{ name: string; hits: number; misses: number; upqueries: number; keys: number; bytes: number; evictions: number; hitLatency: LatencyHistogram; fillLatency: LatencyHistogram }> {
    return [...this.#registry.values()].map((c) => ({
      hitLatency: c.latency, fillLatency: c.fillLatency,
      name: c.def.name, hits: c.stats.hits, misses: c.stats.misses, upqueries: c.stats.upqueries, keys: c.built.reader.size,
      bytes: this.budget.bytesOf(c.built.reader), evictions: c.built.nodes.reduce((n, x) => n + (this.budget.evictedBy.get(x) ?? 0), 0),
    }));
  }

  /** Each cache's reader bytes as the memory budget last estimated them (no scan of the entries). */
  cacheBytes(): Array<{ name: string; bytes: number }> {
    return [...this.#registry.values()].map((c) => ({ name: c.def.name, bytes: this.budget.bytesOf(c.built.reader) }));
  }

  /** The memory budget as /api/status shows it. [note: memory-budget] */
  memoryStatus(): { limitBytes: number; targetBytes: number; stateBytes: number; evictions: number; collections: number; policy: string } {
    return {
      limitBytes: this.budget.limitBytes, targetBytes: this.budget.targetBytes, stateBytes: this.budget.stateBytes, evictions: this.budget.evictions,
      collections: this.budget.collections, policy: usage.policy,
    };
  }

  // RouterBackend

  get cacheCount(): number {
    return this.#registry.size;
  }

  candidates(key: string): ReadonlyArray<Cache> | undefined {
    return this.#registry.candidates(key);
  }

  get registryGeneration(): number {
    return this.#registry.generation;
  }

  /** A read's miss (RouterBackend): src/views/cache-reads.ts. */
  async fill(cache: Cache, keys: ReadonlyArray<Row>): Promise<ReaderAnswer | undefined> {
    const rows = await fillCache(this.#upqueries, this.#log, cache, keys);
    if (usage.installs - this.#installsChecked >= INSTALLS_PER_CHECK) this.checkMemory();
    return rows;
  }

  /** A relayed read's key missed again (RouterBackend): filled off the client's path. */
  fillBehind(cache: Cache, keys: ReadonlyArray<Row>): void {
    // No client waits on these: past the cap a miss is relayed without a fill (its next miss asks
    // again), so a session missing many keys cannot queue upqueries without bound.
    if (this.#behind.size >= MAX_BACKGROUND_FILLS) {
      this.backgroundFillsSkipped++;
      return;
    }
    void this.#fillBackground(cache, keys);
  }

  /** A fill no client waits for (a relayed miss, warm start): tracked by {@link settled}; never rejects. */
  #fillBackground(cache: Cache, keys: ReadonlyArray<Row>): Promise<void> {
    const done = fillInBackground(this.#upqueries, this.#log, cache, keys);
    this.#behind.add(done);
    return done.then(() => {
      this.#behind.delete(done);
      if (usage.installs - this.#installsChecked >= INSTALLS_PER_CHECK) this.checkMemory();
    });
  }

  /** Resolves once the background fills started so far have ended (tests, the bench). */
  async settled(): Promise<void> {
    while (this.#behind.size > 0) await Promise.all([...this.#behind]);
  }

  /** (RouterBackend) src/views/cache-reads.ts. */
  learnVariant(cache: Cache, selectText: string, columns: ReadonlyArray<ColumnDefinition>): void {
    learnVariant(cache, selectText, columns);
  }

  /** (CacheAdmin) A read token for the cache (shown once), or null without such a cache; rejects past the tokens' limit. */
  createReadToken(idOrName: string, label: string | null): { readonly token: string; readonly info: ReadTokenInfo } | null {
    const c = this.#registry.byName(idOrName);
    if (c === null) return null;
    const made = this.access.create(c.id, label);
    if (made === null) throw new RotorError('ERR_ADMIN_BAD_REQUEST', ['too many read tokens: revoke some first']);
    return made;
  }

  /** (CacheAdmin) The cache's read tokens (never the tokens themselves), or null without such a cache. */
  readTokens(idOrName: string): ReadTokenInfo[] | null {
    const c = this.#registry.byName(idOrName);
    return c === null ? null : this.access.list(c.id);
  }

  /** (CacheAdmin) False without such a cache or token. */
  revokeReadToken(idOrName: string, tokenId: string): boolean {
    const c = this.#registry.byName(idOrName);
    return c !== null && this.access.revoke(c.id, tokenId);
  }

  /** (CacheAdmin) Marks the cache readable over HTTP without credentials (or not); false without such a cache. */
  setPublic(idOrName: string, on: boolean): boolean {
    const c = this.#registry.byName(idOrName);
    if (c === null) return false;
    this.access.setPublic(c.id, on);
    return true;
  }

  /** (CacheAdmin) Whether the cache is public, or null without such a cache. */
  isPublic(idOrName: string): boolean | null {
    const c = this.#registry.byName(idOrName);
    return c === null ? null : this.access.isPublic(c.id);
  }

  /** (CacheAdmin) How many caches are registered. */
  get count(): number {
    return this.#registry.size;
  }

  registrationRefusal(): string | null {
    return this.registrations.refusal(this.#registry.size);
  }

  cacheProbe(idOrName: string): { readonly query: QualifiedQuery | null } | null {
    const c = this.#registry.byName(idOrName);
    return c === null ? null : { query: c.probe };
  }

  get defaultDatabase(): string | null {
    return this.#opts.defaultDatabase;
  }

  showCaches(): Answer {
    return showCachesAnswer(this.list());
  }

  recordUpstream(reason: string): void {
    this.upstreamReasons.set(reason, (this.upstreamReasons.get(reason) ?? 0) + 1);
  }
}
