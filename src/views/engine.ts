/**
 * The engine: the facade over the registry of caches (registry.ts), the dataflow graph they share,
 * the upqueries that fill them, the DDL/refresh path (schema-refresh.ts) and the binlog sink that
 * keeps them exact (binlog-sink.ts). The proxy talks to it through {@link Engine.router}; the admin
 * API through register/list/get/drop/evict; the binlog stream through applyBatch and
 * applySchemaChange (synchronous: no await while a batch is applied).
 */
import { createHash } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { Answer, ReadRouter } from '../proxy/read-router.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { Batch, BinlogPosition, BinlogSink, SchemaChange } from '../binlog/batch.js';
import type { Consistency } from '../config.js';
import { Graph } from '../dataflow/graph.js';
import { cacheDot, type DotCache } from './dot.js';
import { Upqueries, type UpqueryStats } from '../dataflow/upquery.js';
import type { Row } from '../dataflow/delta.js';
import { keyString } from '../dataflow/state.js';
import { fingerprint, SqlMode } from '../planner/fingerprint.js';
import { parseStatement, type QualifiedQuery } from '../planner/parse.js';
import type { TableSchema } from '../planner/schema.js';
import { RotorError } from '../errors.js';
import type { Value } from '../values.js';
import type { Cache } from './cache.js';
import { CacheRouter, type RouterBackend } from './router.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { CacheStore } from './cache-store.js';
import { PrivilegeChecks } from './privileges.js';
import { RegistrationLimit } from './registration-limit.js';
import { CacheRegistry } from './registry.js';
import { SchemaRefresh } from './schema-refresh.js';
import { CacheSink } from './binlog-sink.js';
import type { EngineUpstream } from './engine-upstream.js';
import { SYSTEM_SCHEMAS, checkSlots, limitZero, normalizedSql, parameterOf, planOf, tablesOf, tablesRead } from './statement-plan.js';
import { showCachesAnswer } from './show-caches.js';

export type { EngineUpstream } from './engine-upstream.js';

export interface EngineOptions {
  /** mysql://rotor:rotor@host:port/db — Rotor's own account for upqueries. */
  upstreamUrl: string;
  /** Resolves unqualified tables when a registration gives no database. */
  defaultDatabase: string | null;
  /** Persist registered caches here (caches.json); null = memory only. */
  dataDir: string | null;
  /** Read-your-writes for sessions that wrote (config.ts `consistency`). Default 'eventual'. */
  consistency?: Consistency;
  /** How often every principal's grants are checked again, and the global sql_mode re-read. Default 10 s. */
  privilegeRefreshMs?: number;
  logger?: Logger;
}

export interface CacheInfo {
  id: string;
  name: string;
  database: string;
  sql: string;
  parameters: { table: string; column: string }[];
  plan: string[];
  status: string;
  stats: { hits: number; misses: number; upqueries: number; keys: number; rows: number; bytes: number; hitLatencyMs: { p50: number; p99: number } };
}

/** How long a read that must see its session's writes waits for the binlog before going upstream. */
const SYNC_TIMEOUT_MS = 1_000;

export class Engine implements BinlogSink, RouterBackend {
  readonly router: ReadRouter;
  readonly #graph = new Graph();
  readonly #upstream: EngineUpstream;
  readonly #upqueries: Upqueries;
  readonly #registry: CacheRegistry;
  readonly #schema: SchemaRefresh;
  readonly #sink: CacheSink;
  #refreshTimer: NodeJS.Timeout | null = null;
  readonly #log: Logger;
  readonly #opts: EngineOptions;
  readonly upstreamReasons = new Map<string, number>();
  /** [note: cached-grants] */
  readonly privileges = new PrivilegeChecks();
  /** Shared by the admin API and CREATE CACHE on the SQL port. */
  readonly registrations = new RegistrationLimit();

  /** {@link SqlMode} bits of the upstream's global sql_mode. [note: sql-mode-quoting] */
  get sqlMode(): number {
    return this.#schema.sqlMode;
  }

  /** Why caches over TIMESTAMP columns cannot answer sessions in the upstream's default time zone, or null. */
  get timeZoneReason(): string | null {
    return this.#schema.timeZoneReason;
  }

  /**
   * The upstream's global `div_precision_increment`: the digits AVG adds to a DECIMAL's, which the
   * caches with AVG are built with; a change plans them again.
   */
  get divPrecisionIncrement(): number {
    return this.#schema.divPrecisionIncrement;
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
    this.#upstream = upstream ?? new UpstreamClient(opts.upstreamUrl);
    this.#upqueries = new Upqueries(this.#graph, this.#upstream);
    this.#registry = new CacheRegistry(this.#graph, opts.dataDir !== null ? new CacheStore(opts.dataDir) : null, this.#log);
    this.#schema = new SchemaRefresh({ graph: this.#graph, registry: this.#registry, upstream: this.#upstream, upqueries: this.#upqueries, privileges: this.privileges, log: this.#log });
    this.#sink = new CacheSink(this.#graph, this.#registry, this.#upqueries, this.#schema, this.#log);
    this.router = new CacheRouter(this);
  }

  /** Loads persisted caches: empty (partial) and immediately usable, without asking upstream. */
  async start(): Promise<void> {
    await this.refresh();
    this.#refreshTimer = setInterval(() => void this.refresh(), this.#opts.privilegeRefreshMs ?? 10_000);
    this.#refreshTimer.unref();
    if (!this.#registry.persistent) return;
    const installed: Cache[] = [];
    const defs = await this.#registry.load();
    await this.#schema.loadCollations(defs.flatMap((d) => tablesOf(d)));
    for (const def of defs) {
      try {
        installed.push(this.#registry.install(def, this.divPrecisionIncrement));
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
  refresh(): Promise<void> {
    return this.#schema.refresh();
  }

  async close(): Promise<void> {
    if (this.#refreshTimer !== null) clearInterval(this.#refreshTimer);
    this.#upqueries.invalidate();
    await this.#upstream.close();
  }

  /** The graph (for tests and the graph endpoint). */
  get graph(): Graph {
    return this.#graph;
  }

  get upqueryStats(): Readonly<UpqueryStats> {
    return this.#upqueries.stats;
  }

  async register(req: { sql: string; name?: string; database?: string }): Promise<CacheInfo> {
    const sql = req.sql.trim().replace(/;\s*$/, '');
    // [note: sql-mode-quoting] The SQL parser reads `"` as a string and `\` as an escape.
    if ((this.sqlMode & SqlMode.NoBackslashEscapes) !== 0 && sql.includes('\\')) throw new RotorError('ERR_CACHE_UNSUPPORTED', ['a backslash under the upstream\'s NO_BACKSLASH_ESCAPES sql_mode'], { clause: 'sql_mode', detail: 'NO_BACKSLASH_ESCAPES' });
    const ast = parseStatement(sql);
    if (ast.with) throw new RotorError('ERR_CACHE_UNSUPPORTED', ['common table expressions (in WITH)'], { clause: 'WITH', detail: 'common table expressions' });
    const refs = tablesRead(ast);
    const system = refs.find((t) => t.db !== null && SYSTEM_SCHEMAS.has(t.db.toLowerCase()));
    if (system !== undefined) {
      const detail = `${system.db}.${system.table}: system tables do not reach the binlog as row changes`;
      throw new RotorError('ERR_CACHE_UNSUPPORTED', [`${detail} (in FROM)`], { clause: 'FROM', detail });
    }
    const given = req.database ?? this.#opts.defaultDatabase;
    // An unqualified table names a table of the reading session's database: the cache's database
    // is that one, and only sessions in it match (the first table may name another).
    const database = refs.some((r) => r.db === null) ? given : refs[0].db;
    if (database === null || database === undefined) throw new RotorError('ERR_CACHE_UNKNOWN_TABLE', [refs[0].table]);
    const fp = fingerprint(sql);
    if (fp === null && /"/.test(sql)) throw new RotorError('ERR_CACHE_UNSUPPORTED', ['double quotes (a string, or an identifier under ANSI_QUOTES: write strings in single quotes, identifiers in backticks)'], { clause: 'quoting', detail: 'double quotes' });
    if (fp === null) throw new RotorError('ERR_CACHE_PARSE', ['the statement cannot be fingerprinted']);
    const existing = this.#registry.findSame(fp, database);
    if (existing !== null) return this.info(existing);
    const schemas: TableSchema[] = [];
    for (const t of refs) {
      const db = t.db ?? given ?? database;
      const schema = await this.#upstream.loadTable(db, t.table);
      if (schema === null) throw new RotorError('ERR_CACHE_UNKNOWN_TABLE', [`${db}.${t.table}`]);
      const refusal = await this.#upstream.tableRefusal(db, t.table);
      if (refusal !== null) throw new RotorError('ERR_CACHE_UNSUPPORTED', [`${db}.${t.table}: ${refusal} (in FROM)`], { clause: 'FROM', detail: refusal });
      schemas.push(schema);
    }
    const schema = schemas[0];
    await this.#schema.loadCollations(schemas);
    const plan = planOf(ast, schemas);
    checkSlots(plan, fp);
    const normalized = normalizedSql(fp, plan);
    const id = 'q_' + createHash('sha1').update(`${database}\0${normalized}`).digest('hex').slice(0, 12);
    const columns = await this.#upstream.columnDefinitions(limitZero(sql, fp), database);
    const again = this.#registry.findSame(fp, database);
    if (again !== null) return this.info(again);
    if (req.name !== undefined && this.#registry.byName(req.name) !== null) throw new RotorError('ERR_CACHE_UNSUPPORTED', [`the name ${req.name} is taken`], { clause: 'name', detail: 'name taken' });
    const cache = this.#registry.install({ id, name: req.name ?? id, database, sql, schema, ...(schemas.length > 1 ? { tables: schemas } : {}), columns }, this.divPrecisionIncrement);
    await this.#registry.persist();
    this.#log.info({ cache: id, sql: normalized }, 'cache registered');
    return this.info(cache);
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
      id: c.id, name: c.def.name, database: c.def.database, sql: c.normalized,
      parameters: c.plan.params.map((p) => parameterOf(c.plan, p.column)),
      plan: c.built.nodes.map((n) => n.describe()),
      status: c.status,
      stats: { ...c.stats, keys: reader.size, rows: u.rows, bytes: u.bytes, hitLatencyMs: c.latency.percentiles() },
    };
  }

  /**
   * Set by whoever watches the binlog stream (src/index.ts): while not null, every cached read goes
   * upstream with this reason. [note: staleness-bound]
   */
  staleReason: string | null = null;

  get consistency(): Consistency {
    return this.#opts.consistency ?? 'eventual';
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

  drop(idOrName: string): boolean {
    const c = this.#registry.byName(idOrName);
    if (c === null) return false;
    this.#registry.remove(c);
    void this.#registry.persist();
    return true;
  }

  /**
   * Evicts keys (parameter tuples) or everything from a cache, at its topmost stateful node, so
   * the eviction travels down to the reader and the next read refills from MySQL. Returns how many
   * reader keys were dropped.
   */
  evict(idOrName: string, keys: ReadonlyArray<ReadonlyArray<Value>> | 'all'): number {
    const c = this.#registry.byName(idOrName);
    if (c === null) throw new RotorError('ERR_CACHE_NOT_FOUND', [idOrName]);
    const reader = c.built.reader;
    const top = this.#registry.topState(c);
    const before = reader.size;
    if (keys === 'all') {
      this.#registry.empty(c);
      return before;
    }
    const rows: Row[] = [];
    for (const k of keys) {
      if (k.length !== c.plan.params.length) throw new RotorError('ERR_ADMIN_BAD_REQUEST', [`a key of ${c.id} has ${c.plan.params.length} values, one per parameter`]);
      const bound = c.keys(k.map((v) => [{ v }]), []);
      if (bound !== null) rows.push(...bound);
    }
    const path = top === reader ? null : this.#graph.fillPath(reader);
    // Through a join, the side states stay (exact for their keys); the reader's keys go.
    if (path !== null && path.join === undefined) this.#graph.evict(top, rows.map(path.toAncestorKey));
    this.#graph.evict(reader, rows.filter((r) => reader.has(keyString(r, reader.fold))));
    return before - reader.size;
  }

  /** Applies one upstream transaction to every cache (BinlogSink). Synchronous. */
  applyBatch(batch: Batch): void {
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

  // RouterBackend

  candidates(key: string): ReadonlyArray<Cache> | undefined {
    return this.#registry.candidates(key);
  }

  async fill(cache: Cache, keys: ReadonlyArray<Row>): Promise<ReadonlyArray<Row> | undefined> {
    const before = this.#upqueries.stats.upqueries;
    try {
      await this.#upqueries.request(cache.built.reader, keys);
      // Nothing ran since the fill was installed: these rows are its answer for this key, exact at
      // one position, unless they were joined (or united) from side keys filled at different positions
      // ([note: join-fill]: those agree only once the stream has passed the newest).
      const single = keys.length === 1 && !cache.built.nodes.some((n) => n.kind === 'join' || n.kind === 'union');
      const installed = single ? cache.built.reader.answer(keyString(keys[0], cache.built.reader.fold)) : undefined;
      // A fill newer than the stream is not shown until the stream has caught up with it, so a
      // transaction is seen whole across keys (one filled just now, one kept by the stream).
      const newest = this.#upqueries.newestFill;
      if (newest !== null && this.#upqueries.aheadOfStream()) {
        const fold = cache.built.reader.fold;
        const ks = keys.map((k) => keyString(k, fold));
        for (const k of ks) cache.ahead.set(k, (cache.ahead.get(k) ?? 0) + 1);
        try {
          if (!(await this.#upqueries.waitApplied(newest))) this.#log.warn({ cache: cache.id }, 'the binlog stream did not catch up with a fill in time');
        } finally {
          for (const k of ks) {
            const n = (cache.ahead.get(k) ?? 1) - 1;
            if (n <= 0) cache.ahead.delete(k);
            else cache.ahead.set(k, n);
          }
        }
      }
      return installed;
    } catch (e) {
      this.#log.warn({ err: e, cache: cache.id }, 'fill failed; the read goes upstream');
      throw e;
    } finally {
      cache.stats.upqueries += this.#upqueries.stats.upqueries - before > 0 ? 1 : 0;
    }
  }

  /**
   * Keeps the names a session's relayed answer gives a new spelling's columns, when it describes
   * the registered columns under other names: a spelling MariaDB read as another query (or over a
   * session's temporary table) teaches nothing that other sessions would be answered with.
   */
  learnVariant(cache: Cache, selectText: string, columns: ReadonlyArray<ColumnDefinition>): void {
    if (cache.variants.size >= 32 || columns.length !== cache.def.columns.length) return;
    const same = columns.every((c, i) => {
      const r = cache.def.columns[i];
      return c.type === r.type && c.decimals === r.decimals && c.schema === r.schema && c.orgTable === r.orgTable
        && (c.characterSet === 63) === (r.characterSet === 63);
    });
    // Only the names come from a session's answer; every other attribute is the registered one.
    if (same) cache.variants.set(selectText, cache.def.columns.map((c, i) => ({ ...c, name: columns[i].name })));
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
