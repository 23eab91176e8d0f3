/**
 * How Rotor's own account connects to the upstream: one short-lived connection for a question
 * asked once (requirements, the binlog's end at start, the lag sampler's), and pools whose
 * connections each run a fixed setup before anything else.
 */
import mysql from 'mysql2/promise';
import type { PoolConnection as CorePoolConnection } from 'mysql2';
import { upqueryConnectionOptions } from './mysql2-values.js';

/** Where the upstream listens and who Rotor is there (no database). */
export interface UpstreamAccount {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** One connection to `url` (mysql://user:pass@host:port/db) or to an account; the caller ends it. */
export function connectTo(target: string | UpstreamAccount, connectTimeoutMs: number): Promise<mysql.Connection> {
  if (typeof target === 'string') return mysql.createConnection({ uri: target, connectTimeout: connectTimeoutMs });
  const { host, port, user, password } = target;
  return mysql.createConnection({ host, port, user, password, connectTimeout: connectTimeoutMs });
}

/**
 * The collation id of every connection {@link createPool} opens (utf8mb4_general_ci): what string
 * literals of an upquery are, which a cache of expressions is computed in. [note: answer-refill]
 */
export const UPQUERY_COLLATION = 45;

/**
 * A pool of connections to `url` that hold Rotor's value representation
 * ([note: value-representation]), one statement per request, and run `setup` once each.
 */
export function createPool(url: string, connectionLimit: number, setup: ReadonlyArray<string>): mysql.Pool {
  const u = new URL(url);
  const pool = mysql.createPool({
    host: u.hostname, port: Number(u.port || 3306),
    user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
    database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
    ...upqueryConnectionOptions, multipleStatements: false, charset: 'UTF8MB4_GENERAL_CI', connectionLimit,
  });
  // Once per pooled connection, ahead of anything it runs (mysql2 runs a connection's commands in
  // order, and the event fires before the connection is handed out). The event hands over mysql2's
  // callback connection, whatever the promise pool's types say.
  pool.on('connection', (conn) => {
    const core = conn as unknown as CorePoolConnection;
    for (const sql of setup) {
      core.query(sql, (err) => {
        if (err) core.destroy();
      });
    }
  });
  return pool;
}
