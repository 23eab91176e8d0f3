/**
 * Registering a cache: the statement checked (one SELECT Rotor can keep exact, over tables the
 * binlog carries), its tables and result columns read from the upstream, planned, and installed
 * in the registry, or the registered cache it is the same as.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { fingerprint, type Fingerprint } from '../planner/fingerprint.js';
import { SqlMode } from '../planner/tokenizer.js';
import { parseStatement } from '../planner/parse.js';
import { lowerPlan, planStatement, tablesRead, type CachePlan, type ViewDefinition } from '../planner/index.js';
import { Graph } from '../dataflow/graph.js';
import type { TableSchema } from '../planner/schema.js';
import { unsupported } from '../planner/unsupported.js';
import { RotorError } from '../errors.js';
import type { Cache } from './cache.js';
import type { EngineUpstream } from './engine-upstream.js';
import type { CacheRegistry } from './registry.js';
import type { SchemaRefresh } from './schema-refresh.js';
import { resolveTables } from './view-resolution.js';
import { SYSTEM_SCHEMAS, checkSlots, limitZero, normalizedSql, parameterOf } from './statement-plan.js';

export interface RegisterRequest {
  readonly sql: string;
  readonly name?: string;
  readonly database?: string;
  /** `CREATE CACHE ALWAYS`: serve reads inside transactions too. [note: transaction-reads] */
  readonly always?: boolean;
}

export interface RegisterDeps {
  readonly registry: CacheRegistry;
  readonly schema: SchemaRefresh;
  readonly upstream: EngineUpstream;
  /** Resolves unqualified tables when the request gives no database. */
  readonly defaultDatabase: string | null;
  readonly log: Logger;
}

/** A registration's cache, and whether the registration made it (false: the statement was cached already). */
export interface Registered {
  readonly cache: Cache;
  readonly created: boolean;
}

/**
 * The cache already registered for the statement: a registration that names it otherwise is
 * refused with the name it has (a cache has one name), else it is the answer.
 */
function already(existing: Cache, req: RegisterRequest): Registered {
  if (req.name !== undefined && req.name !== existing.def.name) throw new RotorError('ERR_CACHE_EXISTS', [existing.def.name]);
  if ((req.always === true) !== (existing.def.always === true)) throw new RotorError('ERR_CACHE_ALWAYS_DIFFERS', [existing.def.name, existing.def.always === true ? 'with' : 'without']);
  return { cache: existing, created: false };
}

/** What registering a statement would install: checked, its tables read, planned. */
interface Planned {
  readonly sql: string;
  readonly database: string;
  readonly fp: Fingerprint;
  readonly schemas: ReadonlyArray<TableSchema>;
  readonly views: ReadonlyArray<ViewDefinition>;
  readonly plan: CachePlan;
  readonly normalized: string;
  readonly id: string;
}

/**
 * Checks and plans `req` without installing anything: the cache registered for the same statement
 * (a dropped one gives way, and is removed when `removeDropped`), or the plan; throws a RotorError
 * why the statement cannot be cached.
 */
async function planRegistration(req: RegisterRequest, d: RegisterDeps, removeDropped: boolean): Promise<{ existing: Cache } | Planned> {
  const sql = req.sql.trim().replace(/;\s*$/, '');
  // [note: sql-mode-quoting] The SQL parser reads `"` as a string and `\` as an escape.
  if ((d.schema.sqlMode & SqlMode.NoBackslashEscapes) !== 0 && sql.includes('\\')) throw unsupported('sql_mode', 'NO_BACKSLASH_ESCAPES', 'a backslash under the upstream\'s NO_BACKSLASH_ESCAPES sql_mode');
  const ast = parseStatement(sql);
  // The names as written: views among them are read as tables here.
  const refs = tablesRead(ast);
  const system = refs.find((t) => t.db !== null && SYSTEM_SCHEMAS.has(t.db.toLowerCase()));
  if (system !== undefined) {
    throw unsupported('FROM', `${system.db}.${system.table}: system tables do not reach the binlog as row changes`);
  }
  const given = req.database ?? d.defaultDatabase;
  // An unqualified table names a table of the reading session's database: the cache's database
  // is that one (the first table may name another).
  const database = refs.some((r) => r.db === null) ? given : refs[0].db;
  if (database === null || database === undefined) throw new RotorError('ERR_CACHE_UNKNOWN_TABLE', [refs[0].table]);
  const fp = fingerprint(sql);
  if (fp === null && /"/.test(sql)) throw unsupported('quoting', 'double quotes', 'double quotes (a string, or an identifier under ANSI_QUOTES: write strings in single quotes, identifiers in backticks)');
  if (fp === null) throw new RotorError('ERR_CACHE_PARSE', ['the statement cannot be fingerprinted']);
  const existing = d.registry.findSame(fp, database);
  // A dropped cache gives way: registering it again is registering it over the table that exists now.
  if (existing !== null && existing.status === 'dropped') {
    if (removeDropped) d.registry.remove(existing);
  } else if (existing !== null) return { existing };
  // [note: view-expansion] Views are planned over their tables.
  const { views, tables } = await resolveTables(ast, database, d.upstream);
  const schemas: TableSchema[] = [];
  for (const t of tables) {
    const schema = await d.upstream.loadTable(t.database, t.table);
    if (schema === null) throw new RotorError('ERR_CACHE_UNKNOWN_TABLE', [`${t.database}.${t.table}`]);
    const refusal = await d.upstream.tableRefusal(t.database, t.table);
    if (refusal !== null) throw unsupported('FROM', refusal, `${t.database}.${t.table}: ${refusal} (in FROM)`);
    schemas.push(schema);
  }
  await d.schema.loadCollations(schemas);
  const plan = planStatement(ast, schemas, { views, database }, sql);
  checkSlots(plan, fp);
  const normalized = normalizedSql(fp, plan);
  const id = 'q_' + createHash('sha1').update(`${database}\0${normalized}`).digest('hex').slice(0, 12);
  return { sql, database, fp, schemas, views, plan, normalized, id };
}

/** Registers `req` (or finds the cache registered for the same statement); throws a RotorError why not. */
export async function registerCache(req: RegisterRequest, d: RegisterDeps): Promise<Registered> {
  const changes = d.schema.schemaChanges;
  const p = await planRegistration(req, d, true);
  if ('existing' in p) return already(p.existing, req);
  const { sql, database, fp, schemas, views, normalized, id } = p;
  const columns = await d.upstream.columnDefinitions(limitZero(sql, fp), database);
  const again = d.registry.findSame(fp, database);
  if (again !== null && again.status === 'dropped') d.registry.remove(again);
  else if (again !== null) return already(again, req);
  if (req.name !== undefined && d.registry.byName(req.name) !== null) throw unsupported('name', 'name taken', `the name ${req.name} is taken`);
  const cache = d.registry.install({ id, name: req.name ?? id, database, sql, schema: schemas[0], ...(schemas.length > 1 ? { tables: [...schemas] } : {}), ...(views.length > 0 ? { views } : {}), columns, ...(req.always === true ? { always: true } : {}) }, d.schema.settings);
  await d.registry.persist(cache);
  d.log.info({ cache: id, sql: normalized }, 'cache registered');
  // DDL that reached the binlog while the schema (or a view's definition) was read found no cache
  // to check: this one is checked now, before it answers ([note: view-expansion]).
  const read = new Set([database, ...schemas.map((t) => t.database), ...views.map((v) => v.database)]);
  if (d.schema.ddlSince(changes, read) && d.registry.holds(cache)) {
    cache.status = 'invalidated';
    cache.reason = 'checking its tables again after a schema change during its registration';
    void d.schema.recheck(cache);
  }
  return { cache, created: true };
}

/** What `EXPLAIN CACHE <select>` tells: whether the statement can be cached, and how. */
export interface Explained {
  readonly query: string;
  /** Null when it can be cached; else why not, as registration would refuse it. */
  readonly refusal: string | null;
  readonly database: string | null;
  readonly parameters: ReadonlyArray<{ table: string; column: string }>;
  /** The dataflow nodes it would build, from the tables down to the reader. */
  readonly plan: ReadonlyArray<string>;
  /** The name of the cache already registered for it, or null. */
  readonly cachedAs: string | null;
}

/**
 * A dry run of registration: every check registration makes (the statement, its tables and
 * their binlog, the plan), with the nodes built in a graph of their own, so nothing is installed,
 * persisted or shared.
 */
export async function explainCache(req: RegisterRequest, d: RegisterDeps): Promise<Explained> {
  const query = req.sql.trim().replace(/;\s*$/, '');
  try {
    const p = await planRegistration(req, d, false);
    if ('existing' in p) {
      const c = p.existing;
      return { query: c.normalized, refusal: null, database: c.def.database, parameters: c.plan.params.map((x) => parameterOf(c.plan, x.column)), plan: c.built.nodes.map((n) => n.describe()), cachedAs: c.def.name };
    }
    const built = lowerPlan(new Graph(), p.plan, p.id, d.schema.settings);
    return { query: p.normalized, refusal: null, database: p.database, parameters: p.plan.params.map((x) => parameterOf(p.plan, x.column)), plan: built.nodes.map((n) => n.describe()), cachedAs: null };
  } catch (e) {
    if (!(e instanceof RotorError)) throw e;
    return { query, refusal: e.message, database: null, parameters: [], plan: [], cachedAs: null };
  }
}
