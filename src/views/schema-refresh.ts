/**
 * The DDL/refresh path: what the caches depend on besides their rows. A table a cache reads is
 * checked again (and the cache planned again when it changed shape) after DDL reached the binlog,
 * after an unlogged statement, and at start; the collations planning needs are loaded; the
 * upstream's global settings the answers depend on (`sql_mode`, `time_zone`,
 * `div_precision_increment`, `group_concat_max_len`) are re-read periodically.
 */
import type { Logger } from 'pino';
import type { SchemaChange } from '../binlog/sink.js';
import { classifyDdl, PRIVILEGE_WORDS } from '../binlog/ddl.js';
import type { Graph } from '../dataflow/graph.js';
import type { Upqueries } from '../dataflow/upquery.js';
import { collationNamed, registerCollation } from '../dataflow/collation.js';
import { sqlModeBits } from '../planner/tokenizer.js';
import { parseStatement } from '../planner/parse.js';
import { planStatement, type BuildOptions } from '../planner/index.js';
import { hasCollation, type TableSchema } from '../planner/schema.js';
import type { Cache, CacheDefinition } from './cache.js';
import type { EngineUpstream } from './engine-upstream.js';
import type { PrivilegeChecks } from './privileges.js';
import type { CacheRegistry } from './registry.js';
import { limitZero, tablesOf } from './statement-plan.js';
import { resolveTables } from './view-resolution.js';

/** DDL statements whose databases are remembered for {@link SchemaRefresh.ddlSince}. */
const RECENT_DDL = 256;

/** Time zones whose TIMESTAMP text is UTC's. */
/** sql_mode flags that change how text parses: Rotor's fill connections drop them (upstream-client.ts). */
const PARSE_MODES = new Set(['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES', 'PIPES_AS_CONCAT', 'IGNORE_SPACE', 'HIGH_NOT_PRECEDENCE', 'ORACLE', 'MSSQL', 'DB2', 'POSTGRESQL', 'MAXDB', 'ANSI', 'MYSQL323', 'MYSQL40']);
const UTC_ZONES = new Set(['+00:00', '-00:00', 'UTC', 'GMT', 'ETC/UTC', 'ETC/GMT', 'Z', 'UNIVERSAL', 'ZULU']);

export interface SchemaRefreshDeps {
  readonly graph: Graph;
  readonly registry: CacheRegistry;
  readonly upstream: EngineUpstream;
  readonly upqueries: Upqueries;
  readonly privileges: PrivilegeChecks;
  readonly log: Logger;
}

export class SchemaRefresh {
  readonly #d: SchemaRefreshDeps;
  /** {@link SqlMode} bits of the upstream's global sql_mode. [note: sql-mode-quoting] */
  sqlMode = 0;
  /** Why caches over TIMESTAMP columns cannot answer sessions in the upstream's default time zone, or null. */
  timeZoneReason: string | null = null;
  /**
   * Why caches of expressions may not answer: the upstream's sql_mode has a flag that changes how
   * a statement's text reads, which Rotor's fill connections drop ([note: upquery-literals]), so a
   * fill would read the text otherwise than the session ([note: answer-refill]); or null.
   */
  parseModeReason: string | null = null;
  /**
   * Why caches answering CHAR values (or expressions) may not answer: the upstream's global
   * sql_mode has PAD_CHAR_TO_FULL_LENGTH, so sessions read CHARs padded while Rotor keeps them as
   * the binlog has them (its fills drop the flag); or null.
   */
  padCharReason: string | null = null;
  /** The upstream's global sql_mode without the flags that change how text reads; null before the first read. */
  evaluatedSqlMode: string | null = null;
  /** Why no cache answers reads inside transactions (the upstream's default isolation is SERIALIZABLE), or null. [note: transaction-reads] */
  serializableReason: string | null = null;
  /**
   * The upstream's global `div_precision_increment`: the digits AVG adds to a DECIMAL's, which the
   * caches with AVG are built with; a change plans them again (sessions that set their own value
   * go upstream: BLOCKING_SETTING in src/proxy/statement-checks.ts).
   */
  divPrecisionIncrement = 4;
  /**
   * The upstream's global `group_concat_max_len`: where GROUP_CONCAT's upqueries cut its value
   * ([note: group-concat-refill]), and what its result column's type and length follow; a change
   * plans the caches with GROUP_CONCAT again (sessions that set their own go upstream).
   */
  groupConcatMaxLen = 1048576;
  /** Caches emptied because rows changed by a statement logged without row events. [note: statement-dml] */
  statementChanges = 0;
  /** Writes of sessions with sql_log_bin=0 that made every cache forget what it held. [note: unlogged-writes] */
  unloggedWrites = 0;
  /**
   * DDL seen (tables or views), counted: a registration that saw DDL on a database it reads while
   * it read the schema checks its cache again once installed, as the DDL found no cache to check.
   */
  schemaChanges = 0;
  /** The databases of the latest DDL, newest last ('' for any). */
  readonly #recentDdl: string[] = [];
  readonly #refreshing = new Set<Cache>();
  /** Caches whose tables changed again while a recheck was under way: checked once more after it. */
  readonly #again = new Set<Cache>();
  /** The refresh under way, and the one asked for meanwhile ([note: one-refresh]). */
  #running: Promise<void> | null = null;
  #queued: Promise<void> | null = null;
  /** The last reason each stopped cache was given, so the periodic retry logs a change only. */
  readonly #refusals = new WeakMap<Cache, string>();

  constructor(deps: SchemaRefreshDeps) {
    this.#d = deps;
  }

  /** The settings caches are built with now. */
  get settings(): BuildOptions {
    return { divPrecisionIncrement: this.divPrecisionIncrement, groupConcatMaxLen: this.groupConcatMaxLen, ...(this.evaluatedSqlMode === null ? {} : { sqlMode: this.evaluatedSqlMode }) };
  }

  /**
   * The periodic refresh: every principal's grants are checked again by its next read (changes
   * made without the binlog: `sql_log_bin=0`, another server), and the global settings re-read.
   *
   * [note: one-refresh] The global settings are read one at a time: two reads in flight on
   * different connections can answer out of order, and a value read before a change, applied after
   * the value read since, would plan the caches with AVG back to the old digits (and flip sql_mode
   * and time_zone back) until the next refresh. A refresh asked for while a read is under way reads
   * once more after it (callers that asked meanwhile share that read), so it sees the settings as
   * they are now. Grants are invalidated at every call, whatever the read does. Pinned by
   * test/views/settings-refresh.test.ts.
   */
  refresh(): Promise<void> {
    const { registry } = this.#d;
    this.#d.privileges.invalidate();
    // A cache stopped by an error (the upstream away during a DDL refresh) is tried again.
    for (const c of registry.values()) if (c.status === 'invalidated' && !this.#refreshing.has(c)) void this.recheck(c);
    if (this.#running === null) return this.#startRead();
    const again = (): Promise<void> => {
      this.#queued = null;
      return this.#running ?? this.#startRead();
    };
    this.#queued ??= this.#running.then(again, again);
    return this.#queued;
  }

  #startRead(): Promise<void> {
    this.#running = this.#readSettings().finally(() => { this.#running = null; });
    return this.#running;
  }

  /** Reads the upstream's global settings and applies what changed ([note: one-refresh]). */
  async #readSettings(): Promise<void> {
    const { registry, upstream, log } = this.#d;
    try {
      const g = await upstream.globalSettings();
      this.sqlMode = sqlModeBits(g.sqlMode);
      const modes = g.sqlMode.split(',').map((m) => m.trim()).filter((m) => m !== '');
      const parseModes = modes.filter((m) => PARSE_MODES.has(m.toUpperCase()));
      // The mode a fill of expressions runs with: the global one, as a session has it, without what
      // the fill connections drop (while the global has one of those, such caches do not answer).
      const evaluated = modes.filter((m) => !PARSE_MODES.has(m.toUpperCase())).join(',');
      let answers = false;
      if (evaluated !== this.evaluatedSqlMode) {
        answers = this.evaluatedSqlMode !== null;
        this.evaluatedSqlMode = evaluated;
      }
      this.parseModeReason = parseModes.length === 0 ? null : `the upstream's sql_mode has ${parseModes.join(', ')}, which changes how the statement's text reads`;
      this.padCharReason = modes.some((m) => m.toUpperCase() === 'PAD_CHAR_TO_FULL_LENGTH') ? "the upstream's sql_mode has PAD_CHAR_TO_FULL_LENGTH: sessions read CHAR values padded, Rotor keeps them as the binlog has them" : null;
      // [note: value-representation] Rotor's values are UTC; a session with another zone reads
      // TIMESTAMPs shifted.
      const utc = UTC_ZONES.has(g.timeZone.toUpperCase());
      const reason = utc ? null : `the upstream's time_zone is ${g.timeZone}: Rotor keeps TIMESTAMP values in UTC`;
      if (reason !== this.timeZoneReason) log.warn({ timeZone: g.timeZone }, reason ?? 'the upstream time zone is UTC again');
      this.timeZoneReason = reason;
      this.serializableReason = /SERIALIZABLE/i.test(g.isolation) ? 'inside a transaction under the upstream\'s default SERIALIZABLE isolation' : null;
      const changed: RegExp[] = [];
      if (g.divPrecisionIncrement !== this.divPrecisionIncrement) {
        log.warn({ from: this.divPrecisionIncrement, to: g.divPrecisionIncrement }, 'the upstream div_precision_increment changed: caches with AVG are planned again');
        this.divPrecisionIncrement = g.divPrecisionIncrement;
        changed.push(/\bAVG\s*\(/i);
      }
      if (g.groupConcatMaxLen !== this.groupConcatMaxLen) {
        log.warn({ from: this.groupConcatMaxLen, to: g.groupConcatMaxLen }, 'the upstream group_concat_max_len changed: caches with GROUP_CONCAT are planned again');
        this.groupConcatMaxLen = g.groupConcatMaxLen;
        changed.push(/\bGROUP_CONCAT\s*\(/i);
      }
      if (answers) log.warn({ sqlMode: this.evaluatedSqlMode }, 'the upstream sql_mode changed: caches of expressions are planned again');
      for (const c of registry.values()) {
        // [note: answer-refill] A cache of expressions fills with these settings set for the statement.
        if ((!changed.some((r) => r.test(c.def.sql)) && !((answers || changed.length > 0) && c.plan.kind === 'answer')) || c.status === 'dropped') continue;
        c.status = 'invalidated';
        // A recheck under way may have read the result's columns under the old value.
        if (this.#refreshing.has(c)) this.#again.add(c);
        else void this.recheck(c);
      }
    } catch (e) {
      log.warn({ err: e }, 'could not read the upstream sql_mode and time_zone');
    }
  }

  /** Whether DDL on one of `databases` (or unattributed) was seen since {@link schemaChanges} was `since`. */
  ddlSince(since: number, databases: ReadonlySet<string>): boolean {
    const n = this.schemaChanges - since;
    if (n === 0) return false;
    if (n > this.#recentDdl.length) return true;
    return this.#recentDdl.slice(-n).some((db) => db === '' || databases.has(db));
  }

  /** Loads, once per process, every collation the tables' text columns use (planning needs them: [note: collations]). */
  async loadCollations(schemas: ReadonlyArray<TableSchema>): Promise<void> {
    const names = new Set(schemas.flatMap((t) => t.columns.filter(hasCollation).map((c) => c.collation as string)));
    for (const name of names) {
      if (collationNamed(name) !== undefined) continue;
      const entry = await this.#d.upstream.collation(name);
      if ('refused' in entry) this.#d.log.info({ collation: name, reason: entry.refused }, 'caches cannot compare text under this collation');
      registerCollation(name, entry);
    }
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
      for (const [db, tables] of byDb) this.applyChange({ kind: ddl.kind, database: db, tables, statement: sql ?? '' });
    }
    const statement = statements.find((x) => x !== null) ?? '(a prepared statement)';
    this.applyChange({ kind: 'dml', database: '', tables: [], statement }, true);
    this.unloggedWrites++;
  }

  /** DDL (or a statement without row events) on tables caches read: drop their state, re-learn the tables. */
  applyChange(change: Omit<SchemaChange, 'position' | 'gtid'>, unlogged = false): void {
    const { graph, registry, upqueries, log } = this.#d;
    if (change.kind === 'privileges' || PRIVILEGE_WORDS.test(change.statement)) {
      this.#d.privileges.invalidate(true);
      log.debug({ statement: change.statement }, 'privileges may have changed: every session is checked again');
      if (change.kind === 'privileges') return;
    }
    if (change.kind !== 'dml') {
      this.schemaChanges++;
      this.#recentDdl.push(change.database);
      if (this.#recentDdl.length > RECENT_DDL) this.#recentDdl.shift();
    }
    const emptied: string[] = [];
    for (const c of registry.values()) {
      if (c.status === 'dropped') continue;
      // A statement Rotor could not attribute to a table may have changed any table of its database.
      const hit = (s: { database: string; table: string }): boolean => (change.tables.length === 0 ? s.database === change.database || change.database === '' : s.database === change.database && change.tables.includes(s.table));
      const tables = tablesOf(c.def);
      // [note: view-expansion] A view's DDL, named or not, and anything that names one of its views
      // (RENAME TABLE, a statement through it), checks a cache over views again.
      const views = c.def.views ?? [];
      const viewHit = views.length > 0 && (change.kind === 'view' || views.some((v) => hit({ database: v.database, table: v.name })));
      if (!viewHit && (change.kind === 'view' || !tables.some(hit))) continue;
      upqueries.invalidate();
      for (const s of tables) for (const base of graph.bases(s.database, s.table)) graph.evictAll(base);
      if (change.kind === 'dml') {
        // [note: statement-dml] The rows changed, not the table: forget them, refill on demand.
        this.statementChanges++;
        emptied.push(c.id);
        c.built.reader.evictAll();
        continue;
      }
      c.status = 'invalidated';
      c.reason = `checking its tables again after a schema change (${change.kind})`;
      if (this.#refreshing.has(c)) this.#again.add(c);
      else void this.recheck(c);
    }
    if (emptied.length > 0 && unlogged) log.info({ caches: emptied, statement: change.statement.slice(0, 200) }, 'a session with sql_log_bin=0 may have changed rows: the caches over its tables were emptied');
    else if (emptied.length > 0) log.warn({ caches: emptied, statement: change.statement.slice(0, 200) }, 'rows changed by a statement with no row events: the caches over its tables were emptied (is a session using binlog_format=STATEMENT?)');
  }

  /** Checks a cache's tables and result columns again; ready again when unchanged, planned again when changed. */
  async recheck(c: Cache): Promise<void> {
    const { registry, upstream, log } = this.#d;
    this.#refreshing.add(c);
    try {
      const old = tablesOf(c.def);
      // [note: view-expansion] The names it reads are resolved again: a view may read other tables now.
      const { views, tables } = await resolveTables(parseStatement(c.def.sql), c.def.database, upstream);
      const schemas: TableSchema[] = [];
      for (const t of tables) {
        const schema = await upstream.loadTable(t.database, t.table);
        if (schema === null) {
          if (!registry.holds(c)) return;
          registry.retire(c, `table ${t.database}.${t.table} no longer exists (or Rotor's account cannot see it)`);
          log.info({ cache: c.id, table: `${t.database}.${t.table}` }, 'a cache is retired: a table it reads was dropped');
          return;
        }
        const refusal = await upstream.tableRefusal(t.database, t.table);
        if (refusal !== null) {
          c.status = 'invalidated';
          c.reason = refusal;
          if (this.#refusals.get(c) !== refusal) log.warn({ cache: c.id, table: `${t.database}.${t.table}`, reason: refusal }, 'a cache stops serving: its table can no longer be kept exact');
          this.#refusals.set(c, refusal);
          return;
        }
        schemas.push(schema);
      }
      if (!registry.holds(c)) return;
      // Every attribute the answer depends on: the tables' columns (types, collations, keys,
      // invisibility) and the result's definitions (lengths, unsigned, nullability, decimals).
      const columns = await upstream.columnDefinitions(limitZero(c.def.sql, c.fp), c.def.database);
      if (!registry.holds(c)) return;
      if (JSON.stringify(schemas) === JSON.stringify(old) && JSON.stringify(views) === JSON.stringify(c.def.views ?? []) && JSON.stringify(columns) === JSON.stringify(c.def.columns) && JSON.stringify(c.settings) === JSON.stringify(this.settings)) {
        // A schema change that arrived meanwhile is checked first (the finally below).
        if (this.#again.has(c)) return;
        c.status = 'ready';
        c.reason = null;
        return;
      }
      // A table changed shape: plan the same query again against it, then swap the caches.
      await this.loadCollations(schemas);
      log.info({ cache: c.id }, 'a cache is planned again: its tables, views or result columns changed');
      const { tables: _tables, views: _views, ...same } = c.def;
      const def: CacheDefinition = { ...same, schema: schemas[0], ...(schemas.length > 1 ? { tables: schemas } : {}), ...(views.length > 0 ? { views } : {}), columns };
      planStatement(parseStatement(def.sql), schemas, { views, database: def.database }, def.sql);
      registry.remove(c);
      await registry.persist(registry.install(def, this.settings));
    } catch (e) {
      c.status = 'invalidated';
      c.reason = `could not be checked again: ${(e as Error).message}`;
      log.warn({ err: e, cache: c.id }, 'a cache could not be rebuilt after DDL');
    } finally {
      this.#refreshing.delete(c);
      if (this.#again.delete(c) && registry.holds(c) && c.status !== 'dropped') void this.recheck(c);
    }
  }
}
