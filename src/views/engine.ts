/**
 * The engine: the facade the proxy, the admin API, the binlog stream and the tests use, over
 * - the registry of caches and the dataflow graph they share (registry.ts), which register.ts
 *   adds to, here and in the shared registry when there is one (cache-catalog.ts);
 * - the DDL/refresh path: schemas checked again, collations, the upstream's global settings
 *   (schema-refresh.ts), refreshed with the memory budget kept by engine-upkeep.ts;
 * - the binlog sink that keeps the caches exact (binlog-sink.ts: synchronous, no await while a
 *   batch is applied);
 * - the read path's misses, filled by upqueries (cache-reads.ts);
 * - what it reports: its caches and state (engine-status.ts), the proxied statements
 *   (proxied-reports.ts).
 * It is made with an EngineOptions (engine-options.ts). The proxy talks to it through
 * {@link Engine.router}; the admin API through register/list/get/drop/evict; the binlog stream
 * through applyBatch and applySchemaChange.
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
import { Upqueries, type UpqueryStats } from '../dataflow/upquery.js';
import type { Row } from '../dataflow/delta.js';
import type { QualifiedQuery } from '../planner/parse.js';
import { RotorError } from '../errors.js';
import type { LatencyHistogram } from '../latency.js';
import { grownLimit } from '../planner/limit.js';
import type { Value } from '../values.js';
import type { Cache, CacheInfo } from './cache.js';
import { CacheRouter, type RouterBackend } from './router.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { CacheStore } from './cache-store.js';
import { PrivilegeChecks } from './privileges.js';
import { RegistrationLimit } from './registration-limit.js';
import { CacheRegistry } from './registry.js';
import { CompleteFills } from './complete-fills.js';
import { CacheCatalog } from './cache-catalog.js';
import { MemoryBudget } from './memory-budget.js';
import { Upkeep } from './engine-upkeep.js';
import { SchemaRefresh } from './schema-refresh.js';
import { CacheSink } from './binlog-sink.js';
import type { EngineUpstream, FillReads } from './engine-upstream.js';
import type { EngineOptions } from './engine-options.js';
import type { Explained, RegisterRequest } from './register.js';
import { PROXIED_ID, ProxiedQueries, type ProxiedReport, type ProxiedSort } from './proxied-queries.js';
import { ProxiedReports } from './proxied-reports.js';
import { fillCache, fillInBackground, learnVariant } from './cache-reads.js';
import { showCachesAnswer } from './show-caches.js';
import { warmStartOf, type WarmStart, type WarmStatus } from './warm-start.js';
import { HttpReads, type HttpReadsBackend } from './http-reads.js';
import { Principals } from './http-principals.js';
import { ReadAccess, type ReadTokenInfo } from './read-access.js';
import { openAccountSession } from '../upstream/account-session.js';
import { cacheBytes, cacheCounters, cacheInfo, cachesDot, memoryStatus, stateStatus } from './engine-status.js';

export type { EngineUpstream } from './engine-upstream.js';
export type { EngineOptions } from './engine-options.js';

/** Statements counted at most by default. */
export const DEFAULT_QUERY_STATS = 1000;

export type { CacheInfo } from './cache.js';

/** Background fills (misses relayed, filled behind) in flight at once, at most. */
const MAX_BACKGROUND_FILLS = 32;

/** How long a read that must see its session's writes waits for the binlog before going upstream. */
const SYNC_TIMEOUT_MS = 1_000;

export class Engine implements BinlogSink, RouterBackend, HttpReadsBackend {
  readonly router: ReadRouter;
  readonly #graph = new Graph();
  readonly #upstream: EngineUpstream;
  readonly #upqueries: Upqueries;
  readonly #registry: CacheRegistry;
  /** Caches over small tables, filled whole ([note: complete-state]). */
  readonly #complete: CompleteFills;
  readonly #schema: SchemaRefresh;
  readonly #sink: CacheSink;
  /** [note: memory-budget] */
  readonly budget: MemoryBudget;
  /** The periodic refresh, idle caches emptied, the memory limit kept. */
  readonly #upkeep: Upkeep;
  // Batches applied (the upkeep skips a budget check when none was).
  #batches = 0;
  /** Background fills in flight (`--miss-policy relay`). */
  readonly #behind = new Set<Promise<void>>();
  /** Background fills not started because MAX_BACKGROUND_FILLS were in flight. */
  backgroundFillsSkipped = 0;
  readonly #log: Logger;
  readonly #opts: EngineOptions;
  /** Where caches are registered and dropped: here, and in the shared registry when there is one. */
  readonly #catalog: CacheCatalog;
  readonly #reports: ProxiedReports;
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

  get padCharReason(): string | null {
    return this.#schema.padCharReason;
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
    this.#complete = new CompleteFills({ graph: this.#graph, upqueries: this.#upqueries, log: this.#log, holds: (c) => this.#registry.holds(c) }, opts.completeRows ?? 0, opts.memoryLimitBytes ?? Number.MAX_SAFE_INTEGER);
    this.#registry = new CacheRegistry(this.#graph, opts.dataDir !== null ? new CacheStore(opts.dataDir) : null, this.#log, (c) => this.access.forget(c.id), (c) => this.#complete.start(c));
    this.#schema = new SchemaRefresh({ graph: this.#graph, registry: this.#registry, upstream: this.#upstream, upqueries: this.#upqueries, privileges: this.privileges, log: this.#log });
    this.#sink = new CacheSink(this.#graph, this.#registry, this.#upqueries, this.#schema, this.#log);
    this.proxied = new ProxiedQueries(opts.queryStats ?? DEFAULT_QUERY_STATS);
    this.router = new CacheRouter(this);
    const up = new URL(opts.upstreamUrl);
    const target = { host: up.hostname || '127.0.0.1', port: Number(up.port || 3306) };
    this.#principals = new Principals((user, password) => openAccountSession(target, user, password), this.privileges);
    this.httpReads = new HttpReads(this, this.access, this.#principals, opts.httpJsonMemo ?? true);
    this.budget = new MemoryBudget(this.#graph, opts.memoryLimitBytes ?? Number.MAX_SAFE_INTEGER, this.#log, opts.processMemory ?? null);
    this.#upkeep = new Upkeep({ budget: this.budget, registry: this.#registry, log: this.#log, opts, refresh: () => this.refresh(), batches: () => this.#batches,
      revisitWhole: () => this.revisitWhole() });
    this.#catalog = new CacheCatalog({
      registry: this.#registry, schema: this.#schema, upstream: this.#upstream, defaultDatabase: opts.defaultDatabase, log: this.#log,
    }, opts, {
      maxCaches: () => this.registrations.limits.maxCaches,
      installedShared: (c) => void this.#warm?.add(c),
      dropHere: (c) => this.#dropHere(c),
    });
    this.#reports = new ProxiedReports(this.proxied, this.#registry, this.#catalog);
    const store = opts.hotKeys ?? this.#catalog.hotKeyStore(opts.instanceId ?? String(process.pid));
    this.#warm = warmStartOf(opts.warm ?? {}, store, {
      caches: () => this.#registry.values(),
      holds: (c) => this.#registry.holds(c),
      fill: (c, k) => this.#fillBackground(c, k),
    }, this.#log);
  }

  /**
   * Fills the hot keys recorded before the last stop, in the background ([note: warm-fill]);
   * resolves once they are read back, not filled. Call after {@link start}, once the binlog
   * stream has started (src/index.ts), so the fills are fenced against it.
   */
  async warmUp(): Promise<void> {
    await this.#warm?.start();
  }

  /** How fills have read the upstream so far, when it counts them (/api/status `fills`). */
  fillReads(): FillReads | null {
    return this.#upstream.fillReads?.() ?? null;
  }

  /** Fills whole again the caches made partial that are being read (periodic; tests). [note: complete-state] */
  revisitWhole(): void {
    this.#complete.revisit(this.#registry.values(), this.budget.evictions);
  }

  /** Resolves once the whole fills begun so far have ended (tests). [note: complete-state] */
  completeFillsSettled(): Promise<void> {
    return this.#complete.settled();
  }

  /** The warm-up's progress (/api/status), or null when warm start is off. */
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
    this.#upkeep.checkMemory();
  }

  /** Loads persisted caches: empty (partial) and immediately usable, without asking upstream. */
  async start(): Promise<void> {
    await this.refresh();
    this.#upkeep.start();
    await this.#catalog.start();
  }

  /** Caches emptied because nobody read them for `cacheIdleMs`. */
  get idleEmptied(): number {
    return this.#upkeep.idleEmptied;
  }

  /** Empties the caches nobody has read for `cacheIdleMs` (src/views/engine-upkeep.ts). */
  emptyIdle(now: number): void {
    this.#upkeep.emptyIdle(now);
  }

  refresh(): Promise<void> {
    return this.#schema.refresh();
  }

  async close(): Promise<void> {
    this.#upkeep.stop();
    this.#complete.close();
    await this.#warm?.close();
    this.#principals.close();
    this.#upqueries.invalidate();
    await this.#catalog.close();
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
    const r = await this.#catalog.register(req);
    return { ...this.info(r.cache), created: r.created };
  }

  /** Where the registry lives, as /api/status shows it. */
  registryStatus(): Record<string, unknown> {
    return this.#catalog.status();
  }

  /** Resolves once the shared registry's reconciles asked for so far have run (tests). */
  async registrySettled(): Promise<void> {
    await this.#catalog.settled();
  }

  /** What sessions send, per statement (SHOW PROXIED QUERIES, GET /api/queries). */
  readonly proxied: ProxiedQueries;

  /** A proxied statement's registrable text and database, by its id (`CREATE CACHE FROM pq_…`). */
  proxiedStatement(id: string): { readonly sql: string; readonly database: string | null } | null {
    return this.#reports.statement(id);
  }

  /** The proxied statements, `sort`ed, with whether each can be cached and which to cache first. */
  proxiedReports(opts: { sort?: ProxiedSort; like?: string; limit?: number; supportedOnly?: boolean } = {}): Promise<ProxiedReport[]> {
    return this.#reports.reports(opts);
  }

  /** SHOW PROXIED [SUPPORTED] QUERIES. */
  proxiedQueries(opts: { like?: string; limit?: number; supportedOnly?: boolean }): Promise<Answer> {
    return this.#reports.answer(opts);
  }

  /** EXPLAIN CACHE: a dry run of {@link register}. */
  explain(req: { sql: string; database?: string }): Promise<Explained> {
    return this.#catalog.explain(req);
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
    return cacheInfo(c, this.budget);
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
    return c === null ? null : cachesDot(c, this.#registry.values());
  }

  /**
   * Drops a cache; false when there is none. Without a shared registry the cache is gone when this
   * returns (before the promise resolves); with one, once Redis has deleted it ([note:
   * shared-registry]), and the promise rejects with ERR_REGISTRY_UNAVAILABLE while Redis is down.
   */
  drop(idOrName: string): Promise<boolean> {
    const c = this.#registry.byName(idOrName);
    return c === null ? Promise.resolve(false) : this.#catalog.drop(c);
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
    return stateStatus(this.#graph, this.#registry.size, this.statementChanges, this.unloggedWrites);
  }

  /** Each cache's counters for /metrics: no scan of the entries (bytes as the budget last estimated them). */
  cacheCounters(): Array<{ name: string; hits: number; misses: number; upqueries: number; keys: number; bytes: number; evictions: number; hitLatency: LatencyHistogram; fillLatency: LatencyHistogram }> {
    return cacheCounters(this.#registry.values(), this.budget);
  }

  /** Each cache's reader bytes as the memory budget last estimated them (no scan of the entries). */
  cacheBytes(): Array<{ name: string; bytes: number }> {
    return cacheBytes(this.#registry.values(), this.budget);
  }

  /** The memory budget as /api/status shows it. [note: memory-budget] */
  memoryStatus(): { limitBytes: number; targetBytes: number; stateBytes: number; evictions: number; collections: number; policy: string } {
    return memoryStatus(this.budget);
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
    this.#upkeep.afterFill();
    return rows;
  }

  /** A read's miss filled from the states above, when they hold or know its keys (RouterBackend). [note: memory-fill] */
  fillFromMemory(cache: Cache, keys: ReadonlyArray<Row>): boolean {
    if (cache.built.range !== undefined || !this.#upqueries.fillFromMemory(cache.built.reader, keys)) return false;
    this.#upkeep.afterFill();
    return true;
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
      this.#upkeep.afterFill();
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
