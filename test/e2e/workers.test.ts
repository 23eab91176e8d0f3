/**
 * `rotor start --workers 2` as a child process in front of the private MariaDB ([note: workers]):
 * both workers answer on one port, a cache registered over the admin API is installed and served
 * by both, /api/status and /metrics add the workers up, and a worker killed with SIGKILL comes back
 * with the registry and serves again. Everything is polled with deadlines; nothing is timed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { spawnRotor } from '../support/rotor.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';


interface WorkerRow { id: number; pid: number | null; ready: boolean; restarts: number; serverId: number | null; clients: number; connectionsTotal: number; hits: number }
interface Status { status: string; clients: number; connectionsTotal: number; queries: { servedFromCache: number; cacheHits: number }; workers: WorkerRow[]; restarts: number }
interface CacheRow { id: string; workers: number; stats: { hits: number } }

let db: TestDatabase;
let child: ChildProcess;
let admin: string;
let port: number;
const baseId = 20_000 + Math.floor(Math.random() * 100_000);
const conns: mysql.Connection[] = [];

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(admin + path, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T };
}

const status = async (): Promise<Status> => (await api<Status>('GET', '/api/status')).body;
const connect = (): Promise<mysql.Connection> => mysql.createConnection({ host: '127.0.0.1', port, user: db.user, password: db.password, database: db.name });

before(async () => {
  db = await freshDatabase('e2e_workers');
  await db.admin.query(`CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(20) NOT NULL); INSERT INTO kv VALUES (1, 'one'), (2, 'two')`);
  const r = await spawnRotor(['--upstream', db.url, '--workers', '2', '--server-id', String(baseId), '--miss-policy', 'fill']);
  child = r.child;
  port = r.port;
  admin = r.admin;
});

after(async () => {
  for (const c of conns) c.destroy();
  if (child.exitCode === null) {
    child.kill('SIGKILL');
  }
  await db?.drop();
});

/** Opens connections until every worker has been handed one; they stay open. */
async function reachEveryWorker(): Promise<Status> {
  return until('a connection on every worker', async () => {
    conns.push(await connect());
    const s = await status();
    return s.workers.every((w) => w.ready && w.clients > 0) ? s : undefined;
  });
}

test('two workers with distinct replication ids serve one port', async () => {
  const s = await until('both workers ready', async () => { const x = await status(); return x.workers.every((w) => w.ready) ? x : undefined; });
  assert.equal(s.workers.length, 2);
  assert.notEqual(s.workers[0].pid, s.workers[1].pid);
  assert.deepEqual(s.workers.map((w) => w.serverId), [baseId, baseId + 1]);
  const both = await reachEveryWorker();
  assert.equal(both.clients, both.workers[0].clients + both.workers[1].clients);
  assert.ok(both.workers.every((w) => w.clients > 0));
});

test('a cache registered over the admin API is served by both workers, and the totals add up', async () => {
  const reg = await api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT v FROM kv WHERE k = ?', database: db.name });
  assert.equal(reg.status, 201);
  const id = reg.body.id;
  await until('the cache on both workers', async () => (await api<CacheRow>('GET', `/api/caches/${id}`)).body.workers === 2);
  // Reads through every open connection until each worker has answered from its cache.
  const s = await until('hits on every worker', async () => {
    for (const c of conns) {
      const [rows] = await c.query('SELECT v FROM kv WHERE k = 1');
      assert.deepEqual(rows, [{ v: 'one' }]);
    }
    const x = await status();
    return x.workers.every((w) => w.hits > 0) ? x : undefined;
  });
  assert.equal(s.queries.cacheHits, s.workers[0].hits + s.workers[1].hits);
  const list = (await api<CacheRow[]>('GET', '/api/caches')).body;
  assert.equal(list.length, 1);
  assert.equal(list[0].workers, 2);
  assert.equal(list[0].stats.hits, s.queries.cacheHits);
  // Prometheus: one series per cache, summed over the workers.
  const metrics = (await api<string>('GET', '/metrics')).body;
  const hits = /rotor_cache_hits_total\{cache="([^"]+)"\} (\d+)/.exec(metrics);
  assert.ok(hits, metrics.slice(0, 2000));
  assert.equal(Number(hits[2]), list[0].stats.hits);
  const clients = /^rotor_clients (\d+)/m.exec(metrics);
  assert.equal(Number(clients?.[1]), s.clients, metrics.split("\n").filter((l) => l.includes("clients")).join("\n"));
});

test('a worker killed with SIGKILL is restarted, gets the registry and serves again', async () => {
  const before = await status();
  const victim = before.workers[1];
  assert.ok(victim.pid !== null);
  process.kill(victim.pid, 'SIGKILL');
  const back = await until('the worker back', async () => {
    const x = await status();
    const w = x.workers[1];
    return w.ready && w.pid !== victim.pid && w.restarts === victim.restarts + 1 ? x : undefined;
  });
  assert.equal(back.restarts, before.restarts + 1);
  const list = await until('the cache on the restarted worker', async () => {
    const l = (await api<CacheRow[]>('GET', '/api/caches')).body;
    return l.length === 1 && l[0].workers === 2 ? l : undefined;
  });
  assert.equal(list.length, 1);
  // Its clients were closed with it; new connections reach it, and it answers from its cache.
  for (const c of conns.splice(0)) c.destroy();
  await until('hits on the restarted worker', async () => {
    const c = await connect();
    conns.push(c);
    for (let i = 0; i < 3; i++) assert.deepEqual((await c.query('SELECT v FROM kv WHERE k = 2'))[0], [{ v: 'two' }]);
    return (await status()).workers[1].hits > 0;
  });
});

test('SIGTERM stops every worker and the primary cleanly', async () => {
  const pids = (await status()).workers.map((w) => w.pid as number);
  for (const c of conns.splice(0)) await c.end().catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  for (const pid of pids) {
    await until(`worker ${pid} gone`, async () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 10_000);
  }
});
