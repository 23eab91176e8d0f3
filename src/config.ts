/**
 * Rotor's configuration: one typed object, built from CLI flags and ROTOR_* environment variables
 * (flags win), validated before anything starts. Every problem is one clear line.
 */
import { totalmem } from 'node:os';
import { RotorError } from './errors.js';
import { UPSTREAM_TLS_MODES, type UpstreamTlsOptions, type UpstreamTlsMode } from './proxy/upstream-tls.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface UpstreamConfig {
  /** The URL as given, e.g. mysql://rotor:secret@127.0.0.1:3306/app. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The database that unqualified table names in cache registrations resolve to. */
  readonly database: string | null;
}

export interface RotorConfig {
  readonly upstream: UpstreamConfig;
  readonly listen: HostPort;
  readonly admin: HostPort;
  readonly dataDir: string | null;
  /**
   * The shared registry: `redis://[:PASSWORD@]HOST:PORT[/DB]` (or `rediss://`), where the cache
   * definitions of every instance using it live; null: the registry is this instance's own (the
   * data dir, or memory). With both, the data dir mirrors the shared registry. [note: shared-registry]
   */
  readonly redis: string | null;
  readonly adminToken: string | null;
  /** Replication server id for the binlog connection; unique per Rotor instance. */
  readonly serverId: number;
  readonly backlog: number;
  readonly maxClients: number;
  /**
   * Cached reads go upstream while Rotor's view of the upstream may be older than this: nothing
   * has proved the binlog stream caught up for that long (it lags, or its connection is down).
   * [note: staleness-bound]
   */
  readonly maxStalenessMs: number;
  /** How often every user's grants are checked again through their next read. [note: cached-grants] */
  readonly privilegeRefreshMs: number;
  /** A cache nobody has read for this long is emptied (0: never). */
  readonly cacheIdleMs: number;
  /** The bytes every cache's state may take together; past it, the coldest keys are evicted. */
  readonly memoryLimitBytes: number;
  /** How the keys to evict are chosen (src/dataflow/usage.ts). */
  readonly evictionPolicy: EvictionPolicy;
  /**
   * `eventual`: cached reads show what the binlog has brought. `session`: after a session writes,
   * its next cached read first waits (up to 1 s, else it goes upstream) until the binlog has
   * brought the upstream's state as of that read, so a session reads its own writes.
   */
  readonly consistency: Consistency;
  /**
   * What a read of a key a cache does not hold does: `relay` (the statement goes to the client's
   * upstream session, and a key missed again is filled in the background) or `fill` (the client
   * waits for the fill and is answered from it).
   */
  readonly missPolicy: MissPolicy;
  /**
   * Reads inside a transaction: `upstream` (MariaDB's snapshot, always) or `cache` (every cache
   * serves them as a `CREATE CACHE ALWAYS` one does, while the transaction has changed no rows).
   * [note: transaction-reads]
   */
  readonly transactionReads: TransactionReads;
  /** How many statements SHOW PROXIED QUERIES keeps (0: none are counted). */
  readonly queryStats: number;
  /**
   * The most rows (offset + count) a read of a `LIMIT ?` cache is answered from it for; a read
   * asking for more goes upstream.
   */
  readonly maxLimitParam: number;
  /** How fills read the upstream: `snapshot` (a consistent snapshot, no lock) or `locking` (share locks). */
  readonly fillRead: 'locking' | 'snapshot';
  /**
   * A cache's state over a table of at most this many rows (its rows that pass the cache's
   * conditions, or an aggregate's groups) is filled whole in the background, so a key the table
   * does not hold is answered empty from memory (0: never). [note: complete-state]
   */
  readonly completeRows: number;
  /** Hot keys recorded per cache in the data dir and filled again at start (0: warm start off). */
  readonly warmKeys: number;
  /** Keys a warm start fills per second, at most. */
  readonly warmRate: number;
  readonly logLevel: string;
  readonly tls: { readonly cert: string; readonly key: string } | null;
  /** TLS between Rotor and each client's upstream session; `ca` (PEM) verifies upstream's certificate. */
  readonly upstreamTls: UpstreamTlsOptions;
  /**
   * Worker processes behind the one listen port (node:cluster; src/cluster/). 1: no cluster, one
   * process as always. More: each worker is a whole Rotor with its own views and binlog stream,
   * replication id `serverId + index`, and `memoryLimitBytes / workers` of the limit.
   */
  readonly workers: number;
  /**
   * Where caches are read by key over HTTP as JSON (src/proxy/http-read/), or null: off (the
   * default). Its own listener, apart from the admin API.
   */
  readonly httpRead: HostPort | null;
  /**
   * HTTP reads keep each key's JSON until the key changes ([note: derived-answer]); false encodes
   * it on every read (for the benchmark's comparison, `--http-json-memo off`).
   */
  readonly httpJsonMemo: boolean;
  /**
   * A plain BEGIN outside a transaction is answered at once and sent upstream with the session's
   * next command (`--defer-begin on`; off by default). [note: deferred-begin]
   */
  readonly deferBegin: boolean;
}

export const DEFAULTS = {
  listen: '127.0.0.1:3307',
  admin: '127.0.0.1:6033',
  backlog: 4096,
  maxClients: 9000,
  maxStalenessMs: 5000,
  privilegeRefreshMs: 10_000,
  cacheIdleMs: 0,
  consistency: 'eventual',
  missPolicy: 'relay',
  transactionReads: 'upstream',
  fillRead: 'locking',
  completeRows: 100_000,
  queryStats: 1000,
  maxLimitParam: 1000,
  warmKeys: 500,
  warmRate: 500,
  logLevel: 'info',
  upstreamTls: 'auto',
  workers: 1,
} as const;

/** The raw settings as strings, the way flags and environment variables deliver them. */
export interface RawConfig {
  upstream?: string;
  listen?: string;
  admin?: string;
  dataDir?: string;
  redis?: string;
  adminToken?: string;
  serverId?: string;
  backlog?: string;
  maxClients?: string;
  maxStaleness?: string;
  privilegeRefresh?: string;
  cacheIdle?: string;
  memoryLimit?: string;
  evictionPolicy?: string;
  consistency?: string;
  missPolicy?: string;
  transactionReads?: string;
  queryStats?: string;
  maxLimitParam?: string;
  fillRead?: string;
  completeRows?: string;
  warmKeys?: string;
  workers?: string;
  warmRate?: string;
  logLevel?: string;
  tlsCert?: string;
  tlsKey?: string;
  upstreamTls?: string;
  /** The CA certificate's PEM text (the CLI reads the file). */
  upstreamCa?: string;
  httpRead?: string;
  httpJsonMemo?: string;
  deferBegin?: string;
}

export type Consistency = 'eventual' | 'session';

function parseConsistency(value: string | undefined): Consistency {
  if (value === undefined || value === '') return DEFAULTS.consistency;
  if (value === 'eventual' || value === 'session') return value;
  throw invalid(`--consistency must be eventual or session, not "${value}"`);
}

/** `relay` (the default): a miss is answered by the client's upstream session; `fill`: from the fill. */
export type MissPolicy = 'relay' | 'fill';

export const MISS_POLICIES: ReadonlyArray<MissPolicy> = ['relay', 'fill'];

function parseMissPolicy(value: string | undefined): MissPolicy {
  if (value === undefined || value === '') return DEFAULTS.missPolicy;
  const p = MISS_POLICIES.find((x) => x === value);
  if (p === undefined) throw invalid(`--miss-policy must be relay or fill, not "${value}"`);
  return p;
}

/** Where reads inside a transaction go: `upstream` (the default) or, from caches that can, `cache`. [note: transaction-reads] */
export type TransactionReads = 'upstream' | 'cache';

function parseTransactionReads(value: string | undefined): TransactionReads {
  if (value === undefined || value === '') return DEFAULTS.transactionReads;
  if (value === 'upstream' || value === 'cache') return value;
  throw invalid(`--transaction-reads must be upstream or cache, not "${value}"`);
}

function parseFillRead(value: string | undefined): 'locking' | 'snapshot' {
  if (value === undefined || value === '') return DEFAULTS.fillRead;
  if (value === 'snapshot' || value === 'locking') return value;
  throw invalid(`--fill-read must be locking or snapshot, not "${value}"`);
}

/** pino's levels, quietest last. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function parseLogLevel(value: string | undefined): string {
  if (value === undefined || value === '') return DEFAULTS.logLevel;
  const level = LOG_LEVELS.find((x) => x === value.toLowerCase());
  if (level === undefined) throw invalid(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not "${value}"`);
  return level;
}

function parseUpstreamTls(mode: string | undefined, ca: string | undefined): UpstreamTlsOptions {
  const m = mode === undefined || mode === '' ? DEFAULTS.upstreamTls : mode;
  if (!UPSTREAM_TLS_MODES.includes(m as UpstreamTlsMode)) throw invalid(`--upstream-tls must be off, auto or required, not "${m}"`);
  if (ca && m === 'off') throw invalid('--upstream-ca needs --upstream-tls auto or required');
  return { mode: m as UpstreamTlsMode, ca: ca || null };
}

function parseRedis(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw invalid('--redis is not a URL (expected redis://HOST:PORT[/DB])');
  }
  // The URL may hold a password: never repeated in a message.
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw invalid(`--redis must start with redis:// or rediss:// (got "${u.protocol}//")`);
  if (!/^\/?(\d{1,2})?$/.test(u.pathname)) throw invalid('--redis may name a database number only (redis://HOST:PORT/DB)');
  return value;
}

function invalid(msg: string): RotorError {
  return new RotorError('ERR_CONFIG_INVALID', [msg]);
}

export function parseHostPort(value: string, what: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw invalid(`${what} must be HOST:PORT (got "${value}")`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export function parseUpstream(value: string | undefined): UpstreamConfig {
  if (!value) throw invalid('--upstream is required: mysql://USER:PASS@HOST:PORT/DB (or ROTOR_UPSTREAM)');
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw invalid(`--upstream is not a URL: "${value}" (expected mysql://USER:PASS@HOST:PORT/DB)`);
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw invalid(`--upstream must start with mysql:// (got "${u.protocol}//")`);
  }
  if (!u.username) throw invalid('--upstream needs a user: mysql://USER:PASS@HOST:PORT/DB');
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || null;
  return {
    url: value,
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
  };
}

function parseInteger(value: string | undefined, what: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(`${what} must be an integer from ${min} to ${max} (got "${value}")`);
  return n;
}

function parseEvictionPolicy(value: string | undefined): EvictionPolicy {
  if (value === undefined || value === '') return 'admission';
  const p = EVICTION_POLICIES.find((x) => x === value);
  if (p === undefined) throw invalid(`--eviction-policy must be one of ${EVICTION_POLICIES.join(', ')} (got "${value}")`);
  return p;
}

/** How the memory budget picks keys to evict: `admission` (the default), `lru` (no admission), `random` (for comparison). */
export type EvictionPolicy = 'admission' | 'lru' | 'random';

export const EVICTION_POLICIES: ReadonlyArray<EvictionPolicy> = ['admission', 'lru', 'random'];

/** The default memory limit: 1 GiB, or a quarter of the machine's memory when that is smaller. */
export function defaultMemoryLimit(): number {
  return Math.min(1024 ** 3, Math.floor(totalmem() / 4));
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** Bytes, or a size with a binary unit: `1048576`, `512MiB`, `2GiB`, `64m`. At least 1 MiB. */
export function parseSize(value: string | undefined, what: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m === null ? undefined : SIZE_UNITS[m[2].toLowerCase()];
  const n = m === null || unit === undefined ? NaN : Math.floor(Number(m[1]) * unit);
  if (!Number.isFinite(n) || n < 1024 ** 2 || n > 2 ** 52) throw invalid(`${what} must be a size of at least 1MiB, in bytes or with KiB, MiB or GiB (got "${value}")`);
  return n;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Validates raw settings into a config, or throws one ERR_CONFIG_INVALID saying what is wrong. */
export function buildConfig(raw: RawConfig): RotorConfig {
  const upstream = parseUpstream(raw.upstream);
  const listen = parseHostPort(raw.listen ?? DEFAULTS.listen, '--listen');
  const admin = parseHostPort(raw.admin ?? DEFAULTS.admin, '--admin');
  const adminToken = raw.adminToken || null;
  if (!isLoopback(admin.host) && !adminToken) {
    throw invalid(`refusing to bind the admin server to ${admin.host} without --admin-token (or ROTOR_ADMIN_TOKEN)`);
  }
  if ((raw.tlsCert && !raw.tlsKey) || (!raw.tlsCert && raw.tlsKey)) {
    throw invalid('--tls-cert and --tls-key go together');
  }
  const httpRead = raw.httpRead ? parseHostPort(raw.httpRead, '--http-read') : null;
  const workers = parseInteger(raw.workers, '--workers', DEFAULTS.workers, 1, 64);
  // Read tokens and public marks live in one process's memory: workers would each hold their own.
  if (httpRead !== null && workers > 1) throw invalid('--http-read is not available with --workers above 1 yet');
  if (raw.httpJsonMemo && raw.httpJsonMemo !== 'on' && raw.httpJsonMemo !== 'off') throw invalid(`--http-json-memo must be on or off, not "${raw.httpJsonMemo}"`);
  if (raw.deferBegin && raw.deferBegin !== 'on' && raw.deferBegin !== 'off') throw invalid(`--defer-begin must be on or off, not "${raw.deferBegin}"`);
  return {
    upstream,
    listen,
    admin,
    dataDir: raw.dataDir || null,
    redis: parseRedis(raw.redis),
    adminToken,
    // Distinct from the upstream's own id (commonly 1) and from typical replicas.
    serverId: parseInteger(raw.serverId, '--server-id', 4000 + (process.pid % 10000), 1, 4294967295),
    backlog: parseInteger(raw.backlog, '--backlog', DEFAULTS.backlog, 1, 65535),
    maxClients: parseInteger(raw.maxClients, '--max-clients', DEFAULTS.maxClients, 1, 1_000_000),
    maxStalenessMs: parseInteger(raw.maxStaleness, '--max-staleness', DEFAULTS.maxStalenessMs, 1, 86_400_000),
    privilegeRefreshMs: parseInteger(raw.privilegeRefresh, '--privilege-refresh', DEFAULTS.privilegeRefreshMs, 100, 3_600_000),
    cacheIdleMs: parseInteger(raw.cacheIdle, '--cache-idle', DEFAULTS.cacheIdleMs, 0, 31_536_000_000),
    memoryLimitBytes: parseSize(raw.memoryLimit, '--memory-limit', defaultMemoryLimit()),
    evictionPolicy: parseEvictionPolicy(raw.evictionPolicy),
    consistency: parseConsistency(raw.consistency),
    missPolicy: parseMissPolicy(raw.missPolicy),
    transactionReads: parseTransactionReads(raw.transactionReads),
    queryStats: parseInteger(raw.queryStats, '--query-stats', DEFAULTS.queryStats, 0, 1_000_000),
    maxLimitParam: parseInteger(raw.maxLimitParam, '--max-limit-param', DEFAULTS.maxLimitParam, 1, 10_000),
    fillRead: parseFillRead(raw.fillRead),
    completeRows: parseInteger(raw.completeRows, '--complete-rows', DEFAULTS.completeRows, 0, 10_000_000),
    warmKeys: parseInteger(raw.warmKeys, '--warm-keys', DEFAULTS.warmKeys, 0, 100_000),
    warmRate: parseInteger(raw.warmRate, '--warm-rate', DEFAULTS.warmRate, 1, 1_000_000),
    logLevel: parseLogLevel(raw.logLevel),
    tls: raw.tlsCert && raw.tlsKey ? { cert: raw.tlsCert, key: raw.tlsKey } : null,
    upstreamTls: parseUpstreamTls(raw.upstreamTls, raw.upstreamCa),
    workers,
    httpRead,
    httpJsonMemo: raw.httpJsonMemo !== 'off',
    deferBegin: raw.deferBegin === 'on',
  };
}
