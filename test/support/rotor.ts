/**
 * A whole Rotor, in process, in front of the private MariaDB: for end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { pino } from 'pino';
import { buildConfig } from '../../src/config.js';
import { startRotor, type Rotor } from '../../src/index.js';
import type { CacheInfo } from '../../src/views/cache.js';
import type { TestDatabase } from './servers.js';
import { until } from './until.js';

export interface TestRotor {
  readonly rotor: Rotor;
  /** mysql2 options for a client connecting through Rotor to the test database. */
  readonly clientOptions: mysql.ConnectionOptions;
  readonly adminUrl: string;
  /** A client connection through Rotor. */
  connect(extra?: mysql.ConnectionOptions): Promise<mysql.Connection>;
  /** Resolves once Rotor has applied every binlog event the upstream has written so far. */
  caughtUp(): Promise<void>;
  /** JSON from the admin API (with the admin token, when Rotor has one). */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Registers `sql` over the test database through the admin API (asserting 201); its cache id. */
  register(sql: string): Promise<string>;
  /** How many reads a cache has answered from memory. */
  hits(cacheId: string): Promise<number>;
  /** `GET /api/caches/:id`. */
  cache(cacheId: string): Promise<CacheInfo>;
  /** The cache once its whole fill has ended, however it ended ([note: complete-state]; at most 20 s). */
  wholeFillEnded(cacheId: string): Promise<CacheInfo>;
  stop(): Promise<void>;
}

/** Rotor's options a test may set (the rest are chosen by startTestRotor). */
export interface TestRotorOptions {
  dataDir?: string; maxStaleness?: string; consistency?: string; privilegeRefresh?: string; memoryLimit?: string; missPolicy?: string;
  adminToken?: string; redis?: string; warmKeys?: string; warmRate?: string; transactionReads?: string; httpRead?: string;
  tlsCert?: string; tlsKey?: string; deferBegin?: string; completeRows?: string;
}

/**
 * Rotor in front of `db`, on free ports, with its own replication server id. `missPolicy` is `fill`
 * unless given, so a first read is answered from its fill (test/e2e/miss-policy.test.ts: `relay`).
 * `redis`: the shared registry's URL (test/e2e/shared-registry.test.ts).
 */
export async function startTestRotor(db: TestDatabase, opts: TestRotorOptions = {}): Promise<TestRotor> {
  const config = buildConfig({
    upstream: db.url.replace(/^mysql:/, 'mysql:'),
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    dataDir: opts.dataDir,
    redis: opts.redis,
    maxStaleness: opts.maxStaleness,
    consistency: opts.consistency,
    missPolicy: opts.missPolicy ?? 'fill',
    privilegeRefresh: opts.privilegeRefresh,
    memoryLimit: opts.memoryLimit,
    adminToken: opts.adminToken,
    warmKeys: opts.warmKeys,
    warmRate: opts.warmRate,
    transactionReads: opts.transactionReads,
    httpRead: opts.httpRead,
    tlsCert: opts.tlsCert,
    tlsKey: opts.tlsKey,
    // ROTOR_TEST_DEFER_BEGIN=on runs a suite with deferred BEGINs. [note: deferred-begin]
    deferBegin: opts.deferBegin ?? process.env.ROTOR_TEST_DEFER_BEGIN,
    // Caches fill key by key unless a test asks for whole fills (or ROTOR_TEST_COMPLETE_ROWS runs a suite with them). [note: complete-state]
    completeRows: opts.completeRows ?? process.env.ROTOR_TEST_COMPLETE_ROWS ?? '0',
    serverId: String(10_000 + Math.floor(Math.random() * 100_000)),
  });
  const rotor = await startRotor(config, pino({ level: process.env.ROTOR_TEST_LOG ?? 'silent' }));
  const clientOptions: mysql.ConnectionOptions = {
    host: rotor.listen.host, port: rotor.listen.port, user: db.user, password: db.password, database: db.name,
  };
  const adminUrl = `http://${rotor.admin.host}:${rotor.admin.port}`;
  const api = async <T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (opts.adminToken !== undefined) headers.authorization = `Bearer ${opts.adminToken}`;
    const res = await fetch(adminUrl + path, {
      method, headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  return {
    rotor,
    clientOptions,
    adminUrl,
    connect: (extra = {}) => mysql.createConnection({ ...clientOptions, ...extra }),
    async caughtUp() {
      // Its own connection: a test may restart the server under db.admin.
      const conn = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
      const [rows] = await conn.query('SHOW MASTER STATUS').finally(() => conn.end());
      const { File, Position } = (rows as Array<{ File: string; Position: number }>)[0];
      const target = { file: File, position: Number(Position) };
      if (await rotor.binlog.waitForPosition(target, 20_000)) return;
      throw new Error(`binlog did not catch up to ${File}:${Position} (status ${JSON.stringify(rotor.binlog.status())})`);
    },
    api,
    async register(sql) {
      const reg = await api<{ id: string }>('POST', '/api/caches', { sql, database: db.name });
      if (reg.status !== 201 && reg.status !== 200) throw new Error(`registering ${sql}: ${reg.status} ${JSON.stringify(reg.body)}`);
      return reg.body.id;
    },
    async hits(cacheId) {
      return (await api<{ stats: { hits: number } }>('GET', `/api/caches/${cacheId}`)).body.stats.hits;
    },
    cache: async (cacheId) => (await api<CacheInfo>('GET', `/api/caches/${cacheId}`)).body,
    wholeFillEnded: (cacheId) => until(`cache ${cacheId} filled whole`, 20_000, async () => {
      const c = (await api<CacheInfo>('GET', `/api/caches/${cacheId}`)).body;
      return c.wholeFill !== 'filling' && c;
    }),
    stop: () => rotor.stop(),
  };
}

/** `bin/rotor.js` run as a child process (`--workers`, signals): its ports once it listens. */
export interface SpawnedRotor {
  readonly child: ChildProcess;
  /** The MySQL listen port. */
  readonly port: number;
  /** `http://host:port` of the admin API. */
  readonly admin: string;
}

/**
 * Runs `bin/rotor.js start` with `args` (plus `--listen`/`--admin` on free ports and the test log
 * level) and resolves once it prints where it listens; rejects if it exits first.
 */
export async function spawnRotor(args: readonly string[]): Promise<SpawnedRotor> {
  const bin = fileURLToPath(new URL('../../bin/rotor.js', import.meta.url));
  // As startTestRotor: key-by-key fills unless asked (`args` may give --complete-rows again: the last one counts).
  const child = spawn(process.execPath, [bin, 'start', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0',
    '--log-level', process.env.ROTOR_TEST_LOG ?? 'warn', '--complete-rows', process.env.ROTOR_TEST_COMPLETE_ROWS ?? '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const m = await new Promise<RegExpMatchArray>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const hit = /rotor listening on [\d.]+:(\d+), admin on ([\d.]+):(\d+)/.exec(out);
      if (hit) resolve(hit);
    });
    child.once('exit', (code) => reject(new Error(`rotor exited (${code}): ${out}`)));
  });
  return { child, port: Number(m[1]), admin: `http://${m[2]}:${m[3]}` };
}
