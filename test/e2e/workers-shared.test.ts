/**
 * `rotor start --workers 2 --redis URL --data-dir DIR` as a child process in front of the private
 * MariaDB and a private Redis of this file's own ([note: workers]): a cache created over SQL on one
 * worker is installed on both and served with hits by both; the admin port's /api/queries and
 * /api/history add the workers up; at a clean stop every worker leaves its own hot keys in Redis
 * (named by its server id) and worker 0 writes the data dir; started again, the caches come back
 * and every worker warms, so the keys read before the stop are hits on both workers at once.
 * Everything is polled with deadlines; nothing is timed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { startRedis, stopServer } from '../../scripts/private-server.js';
import { spawnRotor, type SpawnedRotor } from '../support/rotor.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { until } from '../support/until.js';

const REDIS_NAME = 'e2e-workers-shared';
const KEYS = 10;

interface Warm { keys: number; filled: number; done: boolean }
interface WorkerRow { id: number; pid: number | null; ready: boolean; serverId: number | null; clients: number; hits: number; warm: Warm | null }
interface Status { status: string; workers: WorkerRow[] }
interface CacheRow { id: string; name: string; workers: number; stats: { hits: number; misses: number } }
interface Query { id: string; query: string; count: number }

let db: TestDatabase;
let redis: Redis;
let redisUrl: string;
let dataDir: string;
const baseId = 20_000 + Math.floor(Math.random() * 100_000);
const conns: mysql.Connection[] = [];

let rotor: SpawnedRotor;

function start(): Promise<SpawnedRotor> {
  return spawnRotor(['--upstream', db.url, '--workers', '2', '--server-id', String(baseId), '--redis', redisUrl, '--data-dir', dataDir, '--miss-policy', 'fill']);
}

async function stop(r: SpawnedRotor): Promise<number | null> {
  for (const c of conns.splice(0)) await c.end().catch(() => c.destroy());
  if (r.child.exitCode !== null) return r.child.exitCode;
  const exited = new Promise<number | null>((resolve) => r.child.once('exit', (code) => resolve(code)));
  r.child.kill('SIGTERM');
  return exited;
}

async function get<T>(path: string): Promise<T> {
  const res = await fetch(rotor.admin + path);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

const status = (): Promise<Status> => get<Status>('/api/status');
const connect = (): Promise<mysql.Connection> => mysql.createConnection({ host: '127.0.0.1', port: rotor.port, user: db.user, password: db.password, database: db.name });

/** Opens connections until every worker has been handed one; they stay open. */
async function reachEveryWorker(): Promise<void> {
  await until('a connection on every worker', 30_000, async () => {
    conns.push(await connect());
    const s = await status();
    return s.workers.length === 2 && s.workers.every((w) => w.ready && w.clients > 0);
  });
}

before(async () => {
  const server = await startRedis(REDIS_NAME);
  redisUrl = server.url;
  redis = new Redis(redisUrl);
  await redis.flushdb();
  dataDir = await mkdtemp(join(tmpdir(), 'rotor-workers-shared-'));
  db = await freshDatabase('e2e_workers_shared');
  await db.admin.query(`CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(20) NOT NULL);
    INSERT INTO kv VALUES ${Array.from({ length: 50 }, (_, i) => `(${i + 1}, 'v${i + 1}')`).join(', ')}`);
  rotor = await start();
});

after(async () => {
  for (const c of conns) c.destroy();
  if (rotor?.child.exitCode === null) rotor.child.kill('SIGKILL');
  redis?.disconnect();
  await rm(dataDir, { recursive: true, force: true });
  await db?.drop();
  await stopServer('redis', REDIS_NAME, { wipe: true });
});

let cacheId = '';

test('a cache created over SQL on one worker is served with hits by both', async () => {
  await reachEveryWorker();
  await conns[0].query('CREATE CACHE kv_by_k FROM SELECT v FROM kv WHERE k = ?');
  const cache = await until('the cache on both workers', 10_000, async () => (await get<CacheRow[]>('/api/caches')).find((c) => c.name === 'kv_by_k' && c.workers === 2));
  cacheId = cache.id;
  // Every connection reads every key twice: a fill, then hits, on both workers.
  await until('hits on both workers', 30_000, async () => {
    for (const c of conns) for (let k = 1; k <= KEYS; k++) {
      const [rows] = await c.query(`SELECT v FROM kv WHERE k = ${k}`);
      assert.deepEqual(rows, [{ v: `v${k}` }]);
    }
    return (await status()).workers.every((w) => w.hits > 0);
  });
});

test('/api/queries and /api/history add the workers up', async () => {
  const marker = `SELECT COUNT(*) AS n FROM kv WHERE v <> 'marker'`;
  for (const c of conns) for (let i = 0; i < 3; i++) await c.query(marker);
  const queries = await get<Query[]>('/api/queries?sort=count&limit=1000');
  const mine = queries.filter((q) => q.query.includes("'marker'") || q.query.includes('<> ?'));
  assert.equal(mine.length, 1, JSON.stringify(queries.map((q) => q.query)));
  // Each connection's statements were counted by its own worker: the whole counts all of them.
  assert.equal(mine[0].count, conns.length * 3);
  const history = await until('a history sample', 10_000, async () => {
    const h = await get<{ intervalMs: number; samples: Array<{ servedPerSec: number; lagMs: number | null }> }>('/api/history');
    return h.samples.length > 0 ? h : undefined;
  });
  assert.equal(typeof history.intervalMs, 'number');
});

test('each worker leaves its hot keys in Redis at a clean stop, and both start warm', async () => {
  assert.equal(await stop(rotor), 0);
  const contributions = await redis.hgetall(`rotor:hot:${cacheId}`);
  assert.deepEqual(Object.keys(contributions).sort(), [String(baseId), String(baseId + 1)].sort());
  assert.ok(existsSync(join(dataDir, 'hot', `${cacheId}.json`)), 'worker 0 mirrors its hot keys in the data dir');

  await db.admin.query(`UPDATE kv SET v = 'changed' WHERE k = 1`);
  rotor = await start();
  const s = await until('both workers warmed', 30_000, async () => {
    const x = await status();
    return x.workers.length === 2 && x.workers.every((w) => w.ready && w.warm !== null && w.warm.done && w.warm.filled >= KEYS) ? x : undefined;
  });
  assert.equal(s.workers.length, 2);
  await reachEveryWorker();
  for (const c of conns) for (let k = 1; k <= KEYS; k++) {
    const [rows] = await c.query(`SELECT v FROM kv WHERE k = ${k}`);
    assert.deepEqual(rows, [{ v: k === 1 ? 'changed' : `v${k}` }]);
  }
  const cache = (await get<CacheRow[]>('/api/caches')).find((c) => c.id === cacheId);
  assert.ok(cache, 'the cache came back');
  assert.equal(cache.workers, 2);
  assert.equal(cache.stats.misses, 0, 'every key read was warm on both workers');
  assert.equal(cache.stats.hits, conns.length * KEYS);
  assert.equal(await stop(rotor), 0);
});
