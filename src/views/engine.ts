/**
 * The engine: the facade the proxy, the admin API, the binlog stream and the tests use, made with
 * an EngineOptions (engine-options.ts), over its parts (wired, started and closed in
 * engine-parts.ts):
 * - the registry of caches and the dataflow graph they share (registry.ts), which register.ts
 *   adds to, here and in the shared registry when there is one (cache-catalog.ts);
 * - the admin surface, a cache named by its id or name: registration, drop, eviction, read tokens
 *   (engine-admin.ts);
 * - the DDL/refresh path: schemas checked again, collations, the upstream's global settings
 *   (schema-refresh.ts), refreshed with the memory budget kept by engine-upkeep.ts;
 * - the binlog sink that keeps the caches exact (binlog-sink.ts: synchronous, no await while a
 *   batch is applied);
 * - the read path: misses filled by upqueries, a `LIMIT ?` cache widened, a session's writes
 *   waited for (cache-reads.ts); the fills, waited for or in the background (engine-fills.ts);
 * - what it reports: its caches and state (engine-status.ts), the proxied statements
 *   (proxied-reports.ts).
 * The proxy talks to it through {@link Engine.router}; the admin API through
 * register/list/get/drop/evict; the binlog stream through applyBatch and applySchemaChange.
 */
import type { ReaderAnswer } from '../dataflow/operator.js';
import type { Answer, ReadRouter } from '../proxy/read-router.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { Batch, BinlogPosition } from '../dataflow/batch.js';
import type { BinlogSink, SchemaChange } from '../binlog/sink.js';
import type { Freshness } from '../binlog/freshness.js';
import { DEFAULTS, type Consistency, type MissPolicy, type TransactionReads } from '../config.js';
import type { Graph } from '../dataflow/graph.js';
import type { UpqueryStats } from '../dataflow/upquery.js';
import type { Row } from '../dataflow/delta.js';
import type { QualifiedQuery } from '../planner/parse.js';
import type { Value } from '../values.js';
import type { Cache, CacheInfo } from './cache.js';
import { CacheRouter, type RouterBackend } from './router.js';
import { PrivilegeChecks } from './privileges.js';
import { RegistrationLimit } from './registration-limit.js';
import type { MemoryBudget } from './memory-budget.js';
import type { EngineUpstream, FillReads } from './engine-upstream.js';
import type { EngineOptions } from './engine-options.js';
import { closeParts, engineParts, startParts, type EngineParts } from './engine-parts.js';
import type { Explained, RegisterRequest } from './register.js';
import type { ProxiedQueries, ProxiedReport, ProxiedSort } from './proxied-queries.js';
import { learnVariant, syncWrites, widenLimit } from './cache-reads.js';
import { showCachesAnswer } from './show-caches.js';
import type { WarmStart, WarmStatus } from './warm-start.js';
import { HttpReads, type HttpReadsBackend } from './http-reads.js';
import { ReadAccess, type ReadTokenInfo } from './read-access.js';
import { cacheBytes, cacheCounters, memoryStatus, stateStatus } from './engine-status.js';

export type { EngineUpstream } from './engine-upstream.js';
export { DEFAULT_QUERY_STATS, type EngineOptions } from './engine-options.js';
export type { CacheInfo } from './cache.js';

export class Engine implements BinlogSink, RouterBackend, HttpReadsBackend {
  readonly router: ReadRouter;
  readonly #parts: EngineParts;
  readonly #opts: EngineOptions;
  /** [note: memory-budget] */
  readonly budget: MemoryBudget;
  readonly upstreamReasons = new Map<string, number>();
  /** [note: cached-grants] */
  readonly privileges = new PrivilegeChecks();
  /** Shared by the admin API and CREATE CACHE on the SQL port. */
  readonly registrations = new RegistrationLimit();
  /** Read tokens and public marks of caches read over HTTP (src/views/read-access.ts). */
  readonly access = new ReadAccess();
  /** Reads by key over HTTP (`--http-read`): src/views/http-reads.ts. */
  readonly httpReads: HttpReads;

  /** {@link SqlMode} bits of the upstream's global sql_mode. [note: sql-mode-quoting] */
  get sqlMode(): number {
    return this.#parts.schema.sqlMode;
  }

  /** Why caches over TIMESTAMP columns cannot answer sessions in the upstream's default time zone, or null. */
  get serializableReason(): string | null {
    return this.#parts.schema.serializableReason;
  }

  get timeZoneReason(): string | null {
    return this.#parts.schema.timeZoneReason;
  }

  get parseModeReason(): string | null {
    return this.#parts.schema.parseModeReason;
  }

  get padCharReason(): string | null {
    return this.#parts.schema.padCharReason;
  }

  /**
   * The upstream's global `div_precision_increment`: the digits AVG adds to a DECIMAL's, which the
   * caches with AVG are built with; a change plans them again.
   */
  get divPrecisionIncrement(): number {
    return this.#parts.schema.divPrecisionIncrement;
  }

  /** The upstream's global `group_concat_max_len`, which the caches with GROUP_CONCAT are built with. */
  get groupConcatMaxLen(): number {
    return this.#parts.schema.groupConcatMaxLen;
  }

  /** Caches emptied because rows changed by a statement logged without row events. [note: statement-dml] */
  get statementChanges(): number {
    return this.#parts.schema.statementChanges;
  }

  /** Writes of sessions with sql_log_bin=0 that made every cache forget what it held. [note: unlogged-writes] */
  get unloggedWrites(): number {
    return this.#parts.schema.unloggedWrites;
  }

  constructor(opts: EngineOptions, upstream?: EngineUpstream) {
    this.#opts = opts;
    this.#parts = engineParts(opts, upstream, this);
    this.budget = this.#parts.budget;
    this.proxied = this.#parts.proxied;
    this.router = new CacheRouter(this);
    this.httpReads = new HttpReads(this, this.access, this.#parts.principals, opts.httpJsonMemo ?? true);
  }

  /**
   * Fills the hot keys recorded before the last stop, in the background ([note: warm-fill]);
   * resolves once they are read back, not filled. Call after {@link start}, once the binlog
   * stream has started (src/index.ts), so the fills are fenced against it.
   */
  async warmUp(): Promise<void> {
    await this.#parts.warm?.start();
  }

  /** How fills have read the upstream so far, when it counts them (/api/status `fills`). */
  fillReads(): FillReads | null {
    return this.#parts.fills.reads();
  }

  /** Fills whole again the caches made partial that are being read (periodic; tests). [note: complete-state] */
  revisitWhole(): void {
    this.#parts.upkeep.revisitWhole();
  }

  /** Resolves once the whole fills begun so far have ended (tests). [note: complete-state] */
  completeFillsSettled(): Promise<void> {
    return this.#parts.complete.settled();
  }

  /** The warm-up's progress (/api/status), or null when warm start is off. */
  warmStatus(): WarmStatus | null {
    return this.#parts.warm?.status ?? null;
  }

  /** The warm-up itself (tests). */
  get warm(): WarmStart | null {
    return this.#parts.warm;
  }

  /** Records each cache's hottest keys now (tests; otherwise periodic and at close). */
  recordHotKeys(): Promise<void> {
    return this.#parts.warm?.record() ?? Promise.resolve();
  }

  /** Keeps the memory limit: every second, and after every INSTALLS_PER_CHECK keys filled. */
  checkMemory(): void {
    this.#parts.upkeep.checkMemory();
  }

  /** Loads persisted caches: empty (partial) and immediately usable, without asking upstream. */
  start(): Promise<void> {
    return startParts(this.#parts);
  }

  /** Caches emptied because nobody read them for `cacheIdleMs`. */
  get idleEmptied(): number {
    return this.#parts.upkeep.idleEmptied;
  }

  /** Empties the caches nobody has read for `cacheIdleMs` (src/views/engine-upkeep.ts). */
  emptyIdle(now: number): void {
    this.#parts.upkeep.emptyIdle(now);
  }

  refresh(): Promise<void> {
    return this.#parts.schema.refresh();
  }

  close(): Promise<void> {
    return closeParts(this.#parts);
  }

  /** The graph (for tests and the graph endpoint). */
  get graph(): Graph {
    return this.#parts.graph;
  }

  get upqueryStats(): Readonly<UpqueryStats> {
    return this.#parts.upqueries.stats;
  }

  /** Registers a cache, or finds the one registered for the same statement (src/views/engine-admin.ts). */
  register(req: RegisterRequest): Promise<CacheInfo & { readonly created: boolean }> {
    return this.#parts.admin.register(req);
  }

  /** Where the registry lives, as /api/status shows it. */
  registryStatus(): Record<string, unknown> {
    return this.#parts.catalog.status();
  }

  /** Resolves once the shared registry's reconciles asked for so far have run (tests). */
  async registrySettled(): Promise<void> {
    await this.#parts.catalog.settled();
  }

  /** What sessions send, per statement (SHOW PROXIED QUERIES, GET /api/queries). */
  readonly proxied: ProxiedQueries;

  /** A proxied statement's registrable text and database, by its id (`CREATE CACHE FROM pq_…`). */
  proxiedStatement(id: string): { readonly sql: string; readonly database: string | null } | null {
    return this.#parts.reports.statement(id);
  }

  /** The proxied statements, `sort`ed, with whether each can be cached and which to cache first. */
  proxiedReports(opts: { sort?: ProxiedSort; like?: string; limit?: number; supportedOnly?: boolean } = {}): Promise<ProxiedReport[]> {
    return this.#parts.reports.reports(opts);
  }

  /** SHOW PROXIED [SUPPORTED] QUERIES. */
  proxiedQueries(opts: { like?: string; limit?: number; supportedOnly?: boolean }): Promise<Answer> {
    return this.#parts.reports.answer(opts);
  }

  /** EXPLAIN CACHE: a dry run of {@link register}. */
  explain(req: { sql: string; database?: string }): Promise<Explained> {
    return this.#parts.catalog.explain(req);
  }

  cacheIds(): string[] {
    return [...this.#parts.registry.values()].map((c) => c.id);
  }

  list(): CacheInfo[] {
    return [...this.#parts.registry.values()].map((c) => this.info(c));
  }

  get(idOrName: string): CacheInfo | null {
    return this.#parts.admin.get(idOrName);
  }

  /** The cache object itself (tests, the router). */
  cache(idOrName: string): Cache | null {
    return this.#parts.registry.byName(idOrName);
  }

  info(c: Cache): CacheInfo {
    return this.#parts.admin.info(c);
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

  /** [note: limit-param] Raises the K of a `LIMIT ?` cache's top-k (src/views/cache-reads.ts). */
  widenLimit(cache: Cache, rows: number): void {
    widenLimit(this.#parts.graph, cache, rows, this.maxLimitParam);
  }

  /** [note: read-your-writes] Resolves once the binlog has brought the upstream's current state; false on timeout. */
  syncWrites(): Promise<boolean> {
    return syncWrites(this.#parts.upstream, this.#parts.upqueries);
  }

  /** [note: binlog-reset] (BinlogSink) */
  reset(reason: string): void {
    this.#parts.sink.reset(reason);
  }

  /** The stream has applied everything up to `position` (BinlogSink). */
  advance(position: BinlogPosition): void {
    this.#parts.sink.advance(position);
  }

  /** The cache's dataflow as Graphviz DOT, nodes shared with other caches marked; null if unknown. */
  dot(idOrName: string): string | null {
    return this.#parts.admin.dot(idOrName);
  }

  /**
   * Drops a cache; false when there is none. Without a shared registry the cache is gone when this
   * returns (before the promise resolves); with one, once Redis has deleted it ([note:
   * shared-registry]), and the promise rejects with ERR_REGISTRY_UNAVAILABLE while Redis is down.
   */
  drop(idOrName: string): Promise<boolean> {
    return this.#parts.admin.drop(idOrName);
  }

  /** Evicts keys or everything from a cache; how many reader keys were dropped (src/views/engine-admin.ts). */
  evict(idOrName: string, keys: ReadonlyArray<ReadonlyArray<Value>> | 'all'): number {
    return this.#parts.admin.evict(idOrName, keys);
  }

  /** Applies one upstream transaction to every cache (BinlogSink). Synchronous. */
  applyBatch(batch: Batch): void {
    this.#parts.sink.applyBatch(batch);
  }

  /** DDL on a table a cache reads: drop its state, stop serving it, and re-learn the table (BinlogSink). */
  applySchemaChange(change: SchemaChange): void {
    this.#parts.sink.applySchemaChange(change);
  }

  /** [note: unlogged-writes] (src/views/schema-refresh.ts) */
  forgetUnlogged(statements: ReadonlyArray<string | null>, database: string | null): void {
    this.#parts.schema.forgetUnlogged(statements, database);
  }

  status(): { caches: number; keys: number; rows: number; bytes: number; emptiedByStatements: number; unloggedWrites: number } {
    return stateStatus(this.#parts.graph, this.#parts.registry.size, this.statementChanges, this.unloggedWrites);
  }

  /** Each cache's counters for /metrics: no scan of the entries (bytes as the budget last estimated them). */
  cacheCounters(): ReturnType<typeof cacheCounters> {
    return cacheCounters(this.#parts.registry.values(), this.budget);
  }

  /** Each cache's reader bytes as the memory budget last estimated them (no scan of the entries). */
  cacheBytes(): Array<{ name: string; bytes: number }> {
    return cacheBytes(this.#parts.registry.values(), this.budget);
  }

  /** The memory budget as /api/status shows it. [note: memory-budget] */
  memoryStatus(): { limitBytes: number; targetBytes: number; stateBytes: number; evictions: number; collections: number; policy: string } {
    return memoryStatus(this.budget);
  }

  // RouterBackend

  get cacheCount(): number {
    return this.#parts.registry.size;
  }

  candidates(key: string): ReadonlyArray<Cache> | undefined {
    return this.#parts.registry.candidates(key);
  }

  get registryGeneration(): number {
    return this.#parts.registry.generation;
  }

  /** A read's miss (RouterBackend): src/views/engine-fills.ts. */
  fill(cache: Cache, keys: ReadonlyArray<Row>): Promise<ReaderAnswer | undefined> {
    return this.#parts.fills.fill(cache, keys);
  }

  /** A read's miss computed from the states above, when they hold or know its keys (RouterBackend). [note: memory-fill] */
  fillFromMemory(cache: Cache, keys: ReadonlyArray<Row>): boolean {
    return this.#parts.fills.fillFromMemory(cache, keys);
  }

  /** A relayed read's key missed again (RouterBackend): filled off the client's path, up to a cap. */
  fillBehind(cache: Cache, keys: ReadonlyArray<Row>): void {
    this.#parts.fills.fillBehind(cache, keys);
  }

  /** Background fills not started because too many were in flight. */
  get backgroundFillsSkipped(): number {
    return this.#parts.fills.skipped;
  }

  /** Resolves once the background fills started so far have ended (tests, the bench). */
  settled(): Promise<void> {
    return this.#parts.fills.settled();
  }

  /** (RouterBackend) src/views/cache-reads.ts. */
  learnVariant(cache: Cache, selectText: string, columns: ReadonlyArray<ColumnDefinition>): void {
    learnVariant(cache, selectText, columns);
  }

  // CacheAdmin (src/proxy/admin/app.ts states each contract): the caches' read tokens and public
  // marks, and their number.

  createReadToken(idOrName: string, label: string | null): { readonly token: string; readonly info: ReadTokenInfo } | null {
    return this.#parts.admin.createReadToken(idOrName, label);
  }

  readTokens(idOrName: string): ReadTokenInfo[] | null {
    return this.#parts.admin.readTokens(idOrName);
  }

  revokeReadToken(idOrName: string, tokenId: string): boolean {
    return this.#parts.admin.revokeReadToken(idOrName, tokenId);
  }

  setPublic(idOrName: string, on: boolean): boolean {
    return this.#parts.admin.setPublic(idOrName, on);
  }

  isPublic(idOrName: string): boolean | null {
    return this.#parts.admin.isPublic(idOrName);
  }

  get count(): number {
    return this.#parts.registry.size;
  }

  registrationRefusal(): string | null {
    return this.registrations.refusal(this.#parts.registry.size);
  }

  cacheProbe(idOrName: string): { readonly query: QualifiedQuery | null } | null {
    return this.#parts.admin.cacheProbe(idOrName);
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
