/**
 * The engine: the registry of caches, the dataflow graph they share, the upqueries that fill them,
 * and the binlog sink that keeps them exact. The proxy talks to it through {@link Engine.router};
 * the admin API through register/list/get/drop/evict; the binlog stream through applyBatch and
 * applySchemaChange (synchronous: no await while a batch is applied).
 */
import { createHash } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { Answer, ReadRouter } from '../proxy/read-router.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { Batch, BinlogPosition, BinlogSink, SchemaChange } from '../binlog/batch.js';
import { classifyDdl, PRIVILEGE_WORDS } from '../binlog/ddl.js';
import type { Consistency } from '../config.js';
import { Graph } from '../dataflow/graph.js';
import { cacheDot, type DotCache } from './dot.js';
import { Upqueries, type SnapshotReader, type UpqueryStats } from '../dataflow/upquery.js';
import type { Row } from '../dataflow/delta.js';
import type { Operator } from '../dataflow/operator.js';
import { keyString } from '../dataflow/state.js';
import { collationNamed, registerCollation, type CollationEntry } from '../dataflow/collation.js';
import { fingerprint, SqlMode, sqlModeBits, type Fingerprint } from '../planner/fingerprint.js';
import { parseStatement, type QualifiedQuery } from '../planner/parse.js';
import { isUnionPlan } from '../planner/union.js';
import { buildCache, releaseCache } from '../planner/build.js';
import { buildUnion } from '../planner/build-union.js';
import { hasCollation, type TableSchema } from '../planner/schema.js';
import { RotorError } from '../errors.js';
import type { Value } from '../values.js';
import { Cache, type CacheDefinition } from './cache.js';
import { CacheRouter, type RouterBackend } from './router.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { CacheStore } from './cache-store.js';
import { PrivilegeChecks } from './privileges.js';
import { RegistrationLimit } from './registration-limit.js';
import { SYSTEM_SCHEMAS, checkSlots, limitZero, normalizedSql, parameterOf, planOf, sameSlots, tablesOf, tablesRead } from './statement-plan.js';
import { showCachesAnswer } from './show-caches.js';

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

/** Test seam: what the engine needs from MySQL besides upqueries. */
export interface EngineUpstream extends SnapshotReader {
  loadTable(database: string, table: string): Promise<TableSchema | null>;
  binlogEnd(): Promise<BinlogPosition | null>;
  columnDefinitions(sql: string, database: string | null): Promise<ColumnDefinition[]>;
  /**
   * Why the binlog cannot keep a cache over this table exact (a view, a system-versioned table, a
   * table that is not InnoDB, a child of a cascading foreign key), or null.
   */
  tableRefusal(database: string, table: string): Promise<string | null>;
  /** The upstream's `@@GLOBAL.sql_mode`, its global time zone (`SYSTEM` resolved) and `div_precision_increment`. */
  globalSettings(): Promise<{ sqlMode: string; timeZone: string; divPrecisionIncrement: number }>;
  /** Collation `name`'s weights, or why Rotor does not reproduce it ([note: collations]). */
  collation(name: string): Promise<CollationEntry>;
  close(): Promise<void>;
}

/** Time zones whose TIMESTAMP text is UTC's. */
const UTC_ZONES = new Set(['+00:00', '-00:00', 'UTC', 'GMT', 'ETC/UTC', 'ETC/GMT', 'Z', 'UNIVERSAL', 'ZULU']);

/** How long a read that must see its session's writes waits for the binlog before going upstream. */
const SYNC_TIMEOUT_MS = 1_000;

export class Engine implements BinlogSink, RouterBackend {
  readonly router: ReadRouter;
  readonly #graph = new Graph();
  readonly #upstream: EngineUpstream;
  readonly #upqueries: Upqueries;
  readonly #caches = new Map<string, Cache>();
  readonly #byKey = new Map<string, Cache[]>();
  #refreshTimer: NodeJS.Timeout | null = null;
  readonly #store: CacheStore | null;
  readonly #log: Logger;
  readonly #opts: EngineOptions;
  readonly upstreamReasons = new Map<string, number>();
  /** [note: cached-grants] */
  readonly privileges = new PrivilegeChecks();
  /** Shared by the admin API and CREATE CACHE on the SQL port. */
  readonly registrations = new RegistrationLimit();
  /** {@link SqlMode} bits of the upstream's global sql_mode. [note: sql-mode-quoting] */
  sqlMode = 0;
  /** Why caches over TIMESTAMP columns cannot answer sessions in the upstream's default time zone, or null. */
  timeZoneReason: string | null = null;
  /**
   * The upstream's global `div_precision_increment`: the digits AVG adds to a DECIMAL's, which the
   * caches with AVG are built with; a change plans them again (sessions that set their own value
   * go upstream: BLOCKING_SETTING in src/proxy/session-state.ts).
   */
  divPrecisionIncrement = 4;

  constructor(opts: EngineOptions, upstream?: EngineUpstream) {
    this.#opts = opts;
    this.#log = opts.logger ?? pino({ level: 'silent' });
    this.#upstream = upstream ?? new UpstreamClient(opts.upstreamUrl);
    this.#upqueries = new Upqueries(this.#graph, this.#upstream);
    this.#store = opts.dataDir !== null ? new CacheStore(opts.dataDir) : null;
    this.router = new CacheRouter(this);
  }

  /** Loads persisted caches: empty (partial) and immediately usable, without asking upstream. */
  async start(): Promise<void> {
    await this.refresh();
    this.#refreshTimer = setInterval(() => void this.refresh(), this.#opts.privilegeRefreshMs ?? 10_000);
    this.#refreshTimer.unref();
    if (this.#store === null) return;
    const installed: Cache[] = [];
    const defs = await this.#store.load();
    await this.#loadCollations(defs.flatMap((d) => tablesOf(d)));
    for (const def of defs) {
      try {
        installed.push(this.#install(def));
      } catch (e) {
        this.#log.warn({ err: e, cache: def.id }, 'a persisted cache could not be rebuilt');
      }
    }
    // The schema may have changed while Rotor was down: each cache is checked against the
    // current one (and planned again if it changed) before it answers.
    for (const c of installed) c.status = 'invalidated';
    await Promise.all(installed.map((c) => this.#refresh(c)));
  }

  /**
   * The periodic refresh: every principal's grants are checked again by its next read (changes
   * made without the binlog: `sql_log_bin=0`, another server), and the global sql_mode re-read.
   */
  async refresh(): Promise<void> {
    this.privileges.invalidate();
    // A cache stopped by an error (the upstream away during a DDL refresh) is tried again.
    for (const c of this.#caches.values()) if (c.status === 'invalidated' && !this.#refreshing.has(c)) void this.#refresh(c);
    try {
      const g = await this.#upstream.globalSettings();
      this.sqlMode = sqlModeBits(g.sqlMode);
      // [note: value-representation] Rotor's values are UTC; a session with another zone reads
      // TIMESTAMPs shifted.
      const utc = UTC_ZONES.has(g.timeZone.toUpperCase());
      const reason = utc ? null : `the upstream's time_zone is ${g.timeZone}: Rotor keeps TIMESTAMP values in UTC`;
      if (reason !== this.timeZoneReason) this.#log.warn({ timeZone: g.timeZone }, reason ?? 'the upstream time zone is UTC again');
      this.timeZoneReason = reason;
      if (g.divPrecisionIncrement !== this.divPrecisionIncrement) {
        this.#log.warn({ from: this.divPrecisionIncrement, to: g.divPrecisionIncrement }, 'the upstream div_precision_increment changed: caches with AVG are planned again');
        this.divPrecisionIncrement = g.divPrecisionIncrement;
        for (const c of this.#caches.values()) {
          if (!/\bAVG\s*\(/i.test(c.def.sql) || this.#refreshing.has(c)) continue;
          c.status = 'invalidated';
          void this.#refresh(c);
        }
      }
    } catch (e) {
      this.#log.warn({ err: e }, 'could not read the upstream sql_mode and time_zone');
    }
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
    const existing = this.#findSame(fp, database);
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
    await this.#loadCollations(schemas);
    const plan = planOf(ast, schemas);
    checkSlots(plan, fp);
    const normalized = normalizedSql(fp, plan);
    const id = 'q_' + createHash('sha1').update(`${database}\0${normalized}`).digest('hex').slice(0, 12);
    const columns = await this.#upstream.columnDefinitions(limitZero(sql, fp), database);
    const again = this.#findSame(fp, database);
    if (again !== null) return this.info(again);
    if (req.name !== undefined && this.#byName(req.name) !== null) throw new RotorError('ERR_CACHE_UNSUPPORTED', [`the name ${req.name} is taken`], { clause: 'name', detail: 'name taken' });
    const cache = this.#install({ id, name: req.name ?? id, database, sql, schema, ...(schemas.length > 1 ? { tables: schemas } : {}), columns });
    await this.#persist();
    this.#log.info({ cache: id, sql: normalized }, 'cache registered');
    return this.info(cache);
  }

  /** Loads, once per process, every collation the tables' text columns use (planning needs them). */
  async #loadCollations(schemas: ReadonlyArray<TableSchema>): Promise<void> {
    const names = new Set(schemas.flatMap((t) => t.columns.filter(hasCollation).map((c) => c.collation as string)));
    for (const name of names) {
      if (collationNamed(name) !== undefined) continue;
      const entry = await this.#upstream.collation(name);
      if ('refused' in entry) this.#log.info({ collation: name, reason: entry.refused }, 'caches cannot compare text under this collation');
      registerCollation(name, entry);
    }
  }

  #findSame(fp: Fingerprint, database: string): Cache | null {
    for (const c of this.#byKey.get(fp.key) ?? []) {
      if (c.def.database !== database) continue;
      if (c.fp.literals.length === fp.literals.length && c.bind(fp.literals) !== null && sameSlots(c.fp, fp)) return c;
    }
    return null;
  }

  #install(def: CacheDefinition): Cache {
    const ast = parseStatement(def.sql);
    const plan = planOf(ast, tablesOf(def));
    const fp = fingerprint(def.sql);
    if (fp === null) throw new RotorError('ERR_CACHE_PARSE', ['the statement cannot be fingerprinted']);
    checkSlots(plan, fp);
    const built = isUnionPlan(plan) ? buildUnion(this.#graph, plan, def.id) : buildCache(this.#graph, plan, def.id, { divPrecisionIncrement: this.divPrecisionIncrement });
    const selectText = fp.selectStart >= 0 ? def.sql.slice(fp.selectStart, fp.selectEnd) : '';
    const cache = new Cache(def, plan, fp, selectText, normalizedSql(fp, plan), built);
    cache.divPrecisionIncrement = this.divPrecisionIncrement;
    this.#caches.set(def.id, cache);
    const list = this.#byKey.get(fp.key) ?? [];
    list.push(cache);
    this.#byKey.set(fp.key, list);
    return cache;
  }

  #byName(idOrName: string): Cache | null {
    const c = this.#caches.get(idOrName);
    if (c !== undefined) return c;
    for (const x of this.#caches.values()) if (x.def.name === idOrName) return x;
    return null;
  }

  list(): CacheInfo[] {
    return [...this.#caches.values()].map((c) => this.info(c));
  }

  get(idOrName: string): CacheInfo | null {
    const c = this.#byName(idOrName);
    return c === null ? null : this.info(c);
  }

  /** The cache object itself (tests, the router). */
  cache(idOrName: string): Cache | null {
    return this.#byName(idOrName);
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

  /**
   * [note: binlog-reset] The binlog lost the stream's position: nothing held can be vouched for.
   * Every cache is emptied (and refills from MariaDB on demand); fills in flight are discarded.
   */
  reset(reason: string): void {
    this.#upqueries.resetPositions();
    for (const c of this.#caches.values()) this.#empty(c);
    this.#log.warn({ reason, caches: this.#caches.size }, 'every cache was emptied: the binlog lost Rotor\'s position');
  }

  /** The stream has applied everything up to `position` (BinlogSink). */
  advance(position: BinlogPosition): void {
    this.#upqueries.advance(position);
  }

  /** The cache's dataflow as Graphviz DOT, nodes shared with other caches marked; null if unknown. */
  dot(idOrName: string): string | null {
    const c = this.#byName(idOrName);
    if (c === null) return null;
    const asDot = (x: Cache): DotCache => ({ id: x.id, name: x.def.name, nodes: x.built.nodes });
    return cacheDot(asDot(c), [...this.#caches.values()].map(asDot));
  }

  drop(idOrName: string): boolean {
    const c = this.#byName(idOrName);
    if (c === null) return false;
    this.#remove(c);
    void this.#persist();
    return true;
  }

  #remove(c: Cache): void {
    this.#caches.delete(c.id);
    const list = (this.#byKey.get(c.fp.key) ?? []).filter((x) => x !== c);
    if (list.length > 0) this.#byKey.set(c.fp.key, list);
    else this.#byKey.delete(c.fp.key);
    releaseCache(this.#graph, c.built);
  }

  /**
   * Evicts keys (parameter tuples) or everything from a cache, at its topmost stateful node, so
   * the eviction travels down to the reader and the next read refills from MySQL. Returns how many
   * reader keys were dropped.
   */
  evict(idOrName: string, keys: ReadonlyArray<ReadonlyArray<Value>> | 'all'): number {
    const c = this.#byName(idOrName);
    if (c === null) throw new RotorError('ERR_CACHE_NOT_FOUND', [idOrName]);
    const reader = c.built.reader;
    const top = this.#topState(c);
    const before = reader.size;
    if (keys === 'all') {
      this.#empty(c);
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

  /** Drops every key a cache holds, at its topmost states, so the eviction travels down to the reader. */
  #empty(c: Cache): void {
    for (const root of this.#roots(c)) this.#graph.evictAll(root);
    c.built.reader.evictAll();
  }

  #topState(c: Cache): Operator {
    // A union's keys exist only at the union: its branches are keyed by their own parameters.
    for (const n of c.built.nodes) if (n.state?.parentFill !== undefined) return n;
    for (const n of c.built.nodes) if (n.state !== null) return n;
    return c.built.reader;
  }

  /** The cache's stateful nodes with no stateful node above them (one per UNION branch, each side of a join). */
  #roots(c: Cache): Operator[] {
    const above = new Map<Operator, boolean>();
    const stateAbove = (n: Operator): boolean => {
      let r = above.get(n);
      if (r === undefined) above.set(n, (r = n.parents.some((p) => p.state !== null || stateAbove(p))));
      return r;
    };
    return c.built.nodes.filter((n) => n.state !== null && !stateAbove(n));
  }

  /** Applies one upstream transaction to every cache. Synchronous. */
  applyBatch(batch: Batch): void {
    try {
      this.#graph.applyBatch(batch);
    } catch (e) {
      // A bug must not leave a cache serving something it cannot vouch for.
      this.#log.error({ err: e, position: batch.position }, 'applying a batch failed; evicting every cache');
      this.#upqueries.invalidate();
      for (const c of this.#caches.values()) for (const root of this.#roots(c)) this.#graph.evictAll(root);
    }
    this.#upqueries.observe(batch);
    const evicted = this.#graph.takeRuleEvictions();
    if (evicted.length > 0) this.#refill(evicted);
  }

  // DESIGN.md rule 5 allows "evict or re-fill": evict at once (never a guess), then re-fill in the
  // background so a hot key whose MIN/MAX was deleted is warm again by its next read.
  #refill(evicted: ReadonlyArray<{ reader: Operator; keys: ReadonlyArray<Row> }>): void {
    for (const { reader, keys } of evicted) {
      for (const c of this.#caches.values()) {
        if (c.built.reader !== reader || c.status !== 'ready') continue;
        this.#upqueries.request(reader, keys).catch((e: unknown) => this.#log.debug({ err: e }, 'background refill failed'));
      }
    }
  }

  /** DDL on a table a cache reads: drop its state, stop serving it, and re-learn the table. */
  applySchemaChange(change: SchemaChange): void {
    this.#upqueries.advance(change.position);
    this.#applyChange(change);
  }

  /**
   * [note: unlogged-writes] Statements a session ran with sql_log_bin=0 changed rows (or tables)
   * the binlog will never carry. Which tables a write changed is not knowable from its text (a
   * trigger writes others, a view names none of its own), so every cache forgets its rows, as for
   * a statement logged without row events [note: statement-dml]; DDL among them is re-learned as
   * if the binlog had carried it. The session calls this once each such statement completed (fills
   * in flight are discarded, later ones see its rows) and again when its transaction ends.
   */
  forgetUnlogged(statements: ReadonlyArray<string | null>, database: string | null): void {
    for (const sql of statements) {
      const ddl = sql === null ? null : classifyDdl(sql, database ?? '');
      if (ddl === null || ddl.kind === 'dml') continue;
      const byDb = new Map<string, string[]>();
      for (const t of ddl.tables) byDb.set(t.database, [...(byDb.get(t.database) ?? []), t.table]);
      if (byDb.size === 0) byDb.set(database ?? '', []);
      for (const [db, tables] of byDb) this.#applyChange({ kind: ddl.kind, database: db, tables, statement: sql ?? '' });
    }
    const statement = statements.find((x) => x !== null) ?? '(a prepared statement)';
    this.#applyChange({ kind: 'dml', database: '', tables: [], statement }, true);
    this.unloggedWrites++;
  }

  /** Writes of sessions with sql_log_bin=0 that made every cache forget what it held. [note: unlogged-writes] */
  unloggedWrites = 0;

  #applyChange(change: Omit<SchemaChange, 'position' | 'gtid'>, unlogged = false): void {
    if (change.kind === 'privileges' || PRIVILEGE_WORDS.test(change.statement)) {
      this.privileges.invalidate();
      this.#log.debug({ statement: change.statement }, 'privileges may have changed: every session is checked again');
      if (change.kind === 'privileges') return;
    }
    const emptied: string[] = [];
    for (const c of this.#caches.values()) {
      // A statement Rotor could not attribute to a table may have changed any table of its database.
      const hit = (s: TableSchema): boolean => (change.tables.length === 0 ? s.database === change.database || change.database === '' : s.database === change.database && change.tables.includes(s.table));
      const tables = tablesOf(c.def);
      if (!tables.some(hit)) continue;
      this.#upqueries.invalidate();
      for (const s of tables) for (const base of this.#graph.bases(s.database, s.table)) this.#graph.evictAll(base);
      if (change.kind === 'dml') {
        // [note: statement-dml] The rows changed, not the table: forget them, refill on demand.
        this.statementChanges++;
        emptied.push(c.id);
        c.built.reader.evictAll();
        continue;
      }
      c.status = 'invalidated';
      void this.#refresh(c);
    }
    if (emptied.length > 0 && unlogged) this.#log.info({ caches: emptied, statement: change.statement.slice(0, 200) }, 'a session with sql_log_bin=0 may have changed rows: the caches over its tables were emptied');
    else if (emptied.length > 0) this.#log.warn({ caches: emptied, statement: change.statement.slice(0, 200) }, 'rows changed by a statement with no row events: the caches over its tables were emptied (is a session using binlog_format=STATEMENT?)');
  }

  /** Caches emptied because rows changed by a statement logged without row events. [note: statement-dml] */
  statementChanges = 0;

  readonly #refreshing = new Set<Cache>();
  /** The last reason each stopped cache was given, so the periodic retry logs a change only. */
  readonly #refusals = new WeakMap<Cache, string>();

  async #refresh(c: Cache): Promise<void> {
    this.#refreshing.add(c);
    try {
      const old = tablesOf(c.def);
      const schemas: TableSchema[] = [];
      for (const t of old) {
        const schema = await this.#upstream.loadTable(t.database, t.table);
        if (schema === null) { c.status = 'invalidated'; return; }
        const refusal = await this.#upstream.tableRefusal(t.database, t.table);
        if (refusal !== null) {
          c.status = 'invalidated';
          if (this.#refusals.get(c) !== refusal) this.#log.warn({ cache: c.id, table: `${t.database}.${t.table}`, reason: refusal }, 'a cache stops serving: its table can no longer be kept exact');
          this.#refusals.set(c, refusal);
          return;
        }
        schemas.push(schema);
      }
      if (!this.#caches.has(c.id)) return;
      // Every attribute the answer depends on: the tables' columns (types, collations, keys,
      // invisibility) and the result's definitions (lengths, unsigned, nullability, decimals).
      const columns = await this.#upstream.columnDefinitions(limitZero(c.def.sql, c.fp), c.def.database);
      if (!this.#caches.has(c.id)) return;
      if (JSON.stringify(schemas) === JSON.stringify(old) && JSON.stringify(columns) === JSON.stringify(c.def.columns) && c.divPrecisionIncrement === this.divPrecisionIncrement) {
        c.status = 'ready';
        return;
      }
      // A table changed shape: plan the same query again against it, then swap the caches.
      await this.#loadCollations(schemas);
      this.#log.info({ cache: c.id }, 'a cache is planned again: its tables or result columns changed');
      const def: CacheDefinition = { ...c.def, schema: schemas[0], ...(schemas.length > 1 ? { tables: schemas } : {}), columns };
      planOf(parseStatement(def.sql), schemas);
      this.#remove(c);
      this.#install(def);
      await this.#persist();
    } catch (e) {
      c.status = 'invalidated';
      this.#log.warn({ err: e, cache: c.id }, 'a cache could not be rebuilt after DDL');
    } finally {
      this.#refreshing.delete(c);
    }
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
    return { caches: this.#caches.size, keys, rows, bytes, emptiedByStatements: this.statementChanges, unloggedWrites: this.unloggedWrites };
  }

  // RouterBackend

  candidates(key: string): ReadonlyArray<Cache> | undefined {
    return this.#byKey.get(key);
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
    return this.registrations.refusal(this.#caches.size);
  }

  cacheProbe(idOrName: string): { readonly query: QualifiedQuery | null } | null {
    const c = this.#byName(idOrName);
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

  async #persist(): Promise<void> {
    if (this.#store === null) return;
    try {
      await this.#store.save([...this.#caches.values()].map((c) => c.def));
    } catch (e) {
      this.#log.error({ err: e }, 'could not persist the caches');
    }
  }
}

