/**
 * Registering a cache: the statement checked (one SELECT Rotor can keep exact, over tables the
 * binlog carries), its tables and result columns read from the upstream, planned, and installed
 * in the registry, or the registered cache it is the same as.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { fingerprint, SqlMode } from '../planner/fingerprint.js';
import { parseStatement } from '../planner/parse.js';
import { planStatement, tablesRead } from '../planner/index.js';
import type { TableSchema } from '../planner/schema.js';
import { unsupported } from '../planner/unsupported.js';
import { RotorError } from '../errors.js';
import type { Cache } from './cache.js';
import type { EngineUpstream } from './engine-upstream.js';
import type { CacheRegistry } from './registry.js';
import type { SchemaRefresh } from './schema-refresh.js';
import { SYSTEM_SCHEMAS, checkSlots, limitZero, normalizedSql } from './statement-plan.js';

export interface RegisterRequest {
  readonly sql: string;
  readonly name?: string;
  readonly database?: string;
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
function already(existing: Cache, name: string | undefined): Registered {
  if (name !== undefined && name !== existing.def.name) throw new RotorError('ERR_CACHE_EXISTS', [existing.def.name]);
  return { cache: existing, created: false };
}

/** Registers `req` (or finds the cache registered for the same statement); throws a RotorError why not. */
export async function registerCache(req: RegisterRequest, d: RegisterDeps): Promise<Registered> {
  const sql = req.sql.trim().replace(/;\s*$/, '');
  // [note: sql-mode-quoting] The SQL parser reads `"` as a string and `\` as an escape.
  if ((d.schema.sqlMode & SqlMode.NoBackslashEscapes) !== 0 && sql.includes('\\')) throw unsupported('sql_mode', 'NO_BACKSLASH_ESCAPES', 'a backslash under the upstream\'s NO_BACKSLASH_ESCAPES sql_mode');
  const ast = parseStatement(sql);
  const refs = tablesRead(ast);
  const system = refs.find((t) => t.db !== null && SYSTEM_SCHEMAS.has(t.db.toLowerCase()));
  if (system !== undefined) {
    throw unsupported('FROM', `${system.db}.${system.table}: system tables do not reach the binlog as row changes`);
  }
  const given = req.database ?? d.defaultDatabase;
  // An unqualified table names a table of the reading session's database: the cache's database
  // is that one, and only sessions in it match (the first table may name another).
  const database = refs.some((r) => r.db === null) ? given : refs[0].db;
  if (database === null || database === undefined) throw new RotorError('ERR_CACHE_UNKNOWN_TABLE', [refs[0].table]);
  const fp = fingerprint(sql);
  if (fp === null && /"/.test(sql)) throw unsupported('quoting', 'double quotes', 'double quotes (a string, or an identifier under ANSI_QUOTES: write strings in single quotes, identifiers in backticks)');
  if (fp === null) throw new RotorError('ERR_CACHE_PARSE', ['the statement cannot be fingerprinted']);
  const existing = d.registry.findSame(fp, database);
  // A dropped cache gives way: registering it again is registering it over the table that exists now.
  if (existing !== null && existing.status === 'dropped') d.registry.remove(existing);
  else if (existing !== null) return already(existing, req.name);
  const schemas: TableSchema[] = [];
  for (const t of refs) {
    const db = t.db ?? given ?? database;
    const schema = await d.upstream.loadTable(db, t.table);
    if (schema === null) throw new RotorError('ERR_CACHE_UNKNOWN_TABLE', [`${db}.${t.table}`]);
    const refusal = await d.upstream.tableRefusal(db, t.table);
    if (refusal !== null) throw unsupported('FROM', refusal, `${db}.${t.table}: ${refusal} (in FROM)`);
    schemas.push(schema);
  }
  const schema = schemas[0];
  await d.schema.loadCollations(schemas);
  const plan = planStatement(ast, schemas);
  checkSlots(plan, fp);
  const normalized = normalizedSql(fp, plan);
  const id = 'q_' + createHash('sha1').update(`${database}\0${normalized}`).digest('hex').slice(0, 12);
  const columns = await d.upstream.columnDefinitions(limitZero(sql, fp), database);
  const again = d.registry.findSame(fp, database);
  if (again !== null && again.status === 'dropped') d.registry.remove(again);
  else if (again !== null) return already(again, req.name);
  if (req.name !== undefined && d.registry.byName(req.name) !== null) throw unsupported('name', 'name taken', `the name ${req.name} is taken`);
  const cache = d.registry.install({ id, name: req.name ?? id, database, sql, schema, ...(schemas.length > 1 ? { tables: schemas } : {}), columns }, d.schema.divPrecisionIncrement);
  await d.registry.persist(cache);
  d.log.info({ cache: id, sql: normalized }, 'cache registered');
  return { cache, created: true };
}
