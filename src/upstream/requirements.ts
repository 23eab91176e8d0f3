/**
 * Startup checks against the upstream: that it answers at all ({@link reachUpstream}), and what
 * Rotor needs from its binlog and its user, refused with one line that says exactly what to set
 * and how (the README's "Upstream requirements" lists them; {@link checkUpstream} also tells the flavor).
 */
import type mysql from 'mysql2/promise';
import { RotorError } from '../errors.js';
import { connectTo, type UpstreamAccount } from './connections.js';

export type UpstreamFlavor = 'mariadb' | 'mysql';

export interface UpstreamInfo {
  readonly flavor: UpstreamFlavor;
  readonly version: string;
}

interface Probe {
  readonly version: string;
  readonly vars: ReadonlyMap<string, string>;
  readonly grants: ReadonlyArray<string>;
}

const VARIABLES = [
  'log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata',
  'binlog_transaction_compression', 'binlog_row_value_options',
];

async function probe(url: string): Promise<Probe> {
  const conn = await connectTo(url, 10_000);
  try {
    const [[v]] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version');
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${VARIABLES.map(() => '?').join(', ')})`, VARIABLES);
    const vars = new Map<string, string>(rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]));
    const [grantRows] = await conn.query<mysql.RowDataPacket[]>({ sql: 'SHOW GRANTS FOR CURRENT_USER()', rowsAsArray: true });
    const grants = (grantRows as unknown as unknown[][]).map((r) => String(r[0]));
    return { version: String(v.version), vars, grants };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const a = Number(m[1]), b = Number(m[2]);
  return a > major || (a === major && b >= minor);
}

/** The privileges the user holds: on `*.*`, and (for SELECT) on any database. */
function privileges(grants: ReadonlyArray<string>): { global: Set<string>; anySelect: boolean } {
  const global = new Set<string>();
  let anySelect = false;
  for (const g of grants) {
    const m = /^GRANT\s+(.+?)\s+ON\s+(\S+)\s+TO\s/i.exec(g);
    if (!m) continue;
    const privs = m[1].split(',').map((p) => p.trim().toUpperCase().replace(/\s*\(.*$/, ''));
    const onAll = m[2].replace(/`/g, '') === '*.*';
    for (const p of privs) {
      if (p === 'SELECT' || p === 'ALL' || p === 'ALL PRIVILEGES') anySelect = true;
      if (onAll) global.add(p === 'ALL' ? 'ALL PRIVILEGES' : p);
    }
  }
  return { global, anySelect };
}

/** Returns every unmet requirement as "what is wrong; what to do". */
export function unmetRequirements(flavor: UpstreamFlavor, p: Probe): string[] {
  const section = flavor === 'mariadb' ? '[mariadbd]' : '[mysqld]';
  const out: string[] = [];
  const v = (name: string): string => (p.vars.get(name) ?? '').toUpperCase();
  const setting = (name: string, want: string, dynamic = true): void => {
    const have = v(name);
    if (have === want) return;
    const how = dynamic
      ? `run SET GLOBAL ${name}=${want} and add ${name}=${want} under ${section} in my.cnf`
      : `add ${name}=${want} under ${section} in my.cnf and restart the server`;
    out.push(`${name} is ${have || 'not available'} but must be ${want}: ${how}`);
  };

  if (flavor === 'mariadb' ? !versionAtLeast(p.version, 10, 5) : !versionAtLeast(p.version, 8, 0)) {
    out.push(`${flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${p.version} is too old: Rotor needs MariaDB 10.5+ or MySQL 8.0+ (binlog_row_metadata=FULL)`);
  }
  if (v('log_bin') !== 'ON' && v('log_bin') !== '1') {
    out.push(`the binary log is off: add log_bin=${flavor === 'mariadb' ? 'mariadb-bin' : 'binlog'} and server_id=1 under ${section} in my.cnf and restart the server`);
  } else {
    setting('binlog_format', 'ROW');
    setting('binlog_row_image', 'FULL');
    setting('binlog_row_metadata', 'FULL');
    if (flavor === 'mysql') {
      setting('binlog_transaction_compression', 'OFF');
      if (v('binlog_row_value_options').includes('PARTIAL_JSON')) {
        out.push(`binlog_row_value_options is PARTIAL_JSON: run SET GLOBAL binlog_row_value_options='' and add binlog_row_value_options= under ${section} in my.cnf`);
      }
    }
  }

  const { global, anySelect } = privileges(p.grants);
  const has = (...names: string[]): boolean => global.has('ALL PRIVILEGES') || names.some((n) => global.has(n));
  const missing: string[] = [];
  if (!anySelect) missing.push('SELECT');
  if (!has('REPLICATION SLAVE', 'REPLICATION REPLICA')) missing.push('REPLICATION SLAVE');
  if (!has('REPLICATION CLIENT', 'BINLOG MONITOR', 'SUPER')) missing.push('REPLICATION CLIENT');
  if (missing.length > 0) {
    out.push(`the user lacks ${missing.join(', ')}: run GRANT ${missing.join(', ')} ON *.* TO <rotor's user>`);
  }
  return out;
}

/**
 * Checks the upstream at `url` (mysql://user:pass@host:port/db). Throws
 * `RotorError('ERR_BINLOG_REQUIREMENT')` naming every unmet requirement and the exact `SET GLOBAL`
 * or my.cnf line that fixes it; resolves with the flavor and version otherwise.
 */
export async function checkUpstream(url: string): Promise<UpstreamInfo> {
  const p = await probe(url);
  const flavor: UpstreamFlavor = /mariadb/i.test(p.version) ? 'mariadb' : 'mysql';
  const unmet = unmetRequirements(flavor, p);
  if (unmet.length > 0) throw new RotorError('ERR_BINLOG_REQUIREMENT', [unmet.join('; also ')]);
  return { flavor, version: p.version };
}

/**
 * Connects once (to no database) to learn the version; an unreachable upstream becomes one clear
 * error, `ERR_PROXY_UPSTREAM_CONNECT`.
 */
export async function reachUpstream(account: UpstreamAccount): Promise<string> {
  const { host, port } = account;
  let conn: mysql.Connection | undefined;
  try {
    conn = await connectTo(account, 5000);
    const [rows] = await conn.query('SELECT VERSION() AS v');
    return String((rows as Array<{ v: string }>)[0].v);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    throw new RotorError('ERR_PROXY_UPSTREAM_CONNECT', [`${host}:${port}: ${e.message ?? e.code ?? String(err)}`]);
  } finally {
    await conn?.end().catch(() => undefined);
  }
}
