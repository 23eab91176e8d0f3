/**
 * The servers a benchmark runs against: the given `--upstream`/`--redis` URLs, or the project's
 * private MariaDB/Redis named `bench` (started if needed, never the machine's standard ports).
 */
import mysql from 'mysql2/promise';
import { startMariaDb, startRedis } from '../../scripts/private-server.js';

export interface BenchServers {
  readonly upstreamUrl: string;
  /** PID of the MariaDB server when it is ours (for CPU accounting), else null. */
  readonly mariadbPid: number | null;
  readonly redisUrl: string | null;
}

/** Resolves the upstream and (when `needRedis`) Redis URLs, starting private servers as needed. */
export async function benchServers(opts: { upstream?: string; redis?: string; needRedis: boolean; name?: string }): Promise<BenchServers> {
  const name = opts.name ?? 'bench';
  let upstreamUrl = opts.upstream;
  let mariadbPid: number | null = null;
  if (!upstreamUrl) {
    const m = await startMariaDb(name);
    upstreamUrl = m.url;
    mariadbPid = m.pid;
  }
  let redisUrl: string | null = opts.redis ?? null;
  if (!redisUrl && opts.needRedis) redisUrl = (await startRedis(name)).url;
  return { upstreamUrl, mariadbPid, redisUrl };
}

/** mysql2 options for a mysql:// URL. */
export function connectionOptions(url: string, extra: mysql.ConnectionOptions = {}): mysql.ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password), database: u.pathname.slice(1) || undefined,
    supportBigNumbers: true, connectTimeout: 60_000, ...extra,
  };
}

/** One connection to `url` (multi-statements on, for setup scripts). */
export async function connect(url: string): Promise<mysql.Connection> {
  return mysql.createConnection(connectionOptions(url, { multipleStatements: true }));
}

/** The same URL pointing at another host:port (e.g. Rotor in front of the upstream). */
export function withEndpoint(url: string, host: string, port: number): string {
  const u = new URL(url);
  return `mysql://${u.username}:${u.password}@${host}:${port}${u.pathname}`;
}

/** The first column of the first row of a query result, as a number (NaN when there is none). */
export async function scalar(conn: mysql.Connection, sql: string): Promise<number> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(sql);
  const first = rows[0];
  return first ? Number(Object.values(first)[0]) : NaN;
}
