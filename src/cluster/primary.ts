/**
 * The primary process of `rotor start --workers N` ([note: workers]; a worker is worker.ts). It
 * owns no client traffic and no engine: node:cluster hands the listen port's connections to the
 * workers round-robin; the primary holds the shared registry (unless `--redis`), serves the one
 * admin port by asking the workers over IPC (summing what adds up, aggregate.ts; `/metrics`
 * through prom-client's AggregatorRegistry), restarts a worker that dies (with backoff), and stops
 * every worker on SIGINT/SIGTERM.
 *
 * Worker 0 starts first, alone: with `--data-dir` it loads the caches' files and seeds the
 * registry with them before any other worker reads it.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { RotorConfig } from '../config.js';
import { isRegistryCall, RegistryHost, type RegistryChanged, type RegistryReply } from '../views/cluster-registry.js';
import { aggregateCache, aggregateCaches, aggregateHistory, aggregateQueries, aggregateStatus, type QuerySort, type WorkerView } from './aggregate.js';
import { isAdminReply, isWorkerReady, WORKER_INDEX_ENV, type AdminCall, type AdminReply } from './messages.js';

/** A worker's answer to one admin request, at most this long in coming. */
const ADMIN_TIMEOUT_MS = 10_000;
/** A request body the primary reads before handing it on (the workers' limit is 1 MiB). */
const MAX_BODY = 2 * 1024 * 1024;
/** A worker that ran this long before dying restarts at once; faster deaths back off. */
const HEALTHY_MS = 60_000;
const BACKOFF_MS = [250, 500, 1_000, 2_000, 5_000, 10_000, 30_000];

interface Slot {
  readonly index: number;
  worker: Worker | null;
  ready: boolean;
  restarts: number;
  failures: number;
  startedAt: number;
  /** The initial start, waiting for this worker to serve. */
  starting: { resolve(listen: { host: string; port: number }): void; reject(e: Error): void } | null;
}

export interface Primary {
  readonly listen: { host: string; port: number };
  readonly admin: { host: string; port: number };
  stop(): Promise<void>;
}

export async function startPrimary(config: RotorConfig, log: Logger): Promise<Primary> {
  const startedAt = Date.now();
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.setupPrimary({ serialization: 'advanced' });
  const metrics = new AggregatorRegistry();
  const slots: Slot[] = Array.from({ length: config.workers }, (_, index) => ({ index, worker: null, ready: false, restarts: 0, failures: 0, startedAt: 0, starting: null }));
  let stopping = false;
  let nextReq = 1;
  const pending = new Map<number, (r: AdminReply | null) => void>();
  const registry = new RegistryHost((id) => {
    const m: RegistryChanged = { rotor: 'registry-changed', id };
    for (const s of slots) if (s.worker?.isConnected()) s.worker.send(m);
  });

  const fork = (slot: Slot): Worker => {
    const w = cluster.fork({ [WORKER_INDEX_ENV]: String(slot.index), ROTOR_SERVER_ID: String(config.serverId) });
    slot.worker = w;
    slot.ready = false;
    slot.startedAt = Date.now();
    w.on('message', (m: unknown) => {
      if (isRegistryCall(m)) {
        const reply: RegistryReply = { rotor: 'registry-reply', req: m.req, result: registry.answer(m.command) };
        if (w.isConnected()) w.send(reply);
      } else if (isAdminReply(m)) {
        pending.get(m.req)?.(m);
        pending.delete(m.req);
      } else if (isWorkerReady(m)) {
        slot.ready = true;
        log.info({ worker: slot.index, pid: w.process.pid }, 'worker serving');
        slot.starting?.resolve(m.listen);
      }
    });
    w.on('exit', (code, signal) => {
      const wasReady = slot.ready;
      slot.ready = false;
      if (slot.worker === w) slot.worker = null;
      if (stopping) return;
      if (!wasReady && slot.starting !== null) {
        slot.starting.reject(new Error(`worker ${slot.index} exited before serving (code ${code ?? signal})`));
        return;
      }
      slot.failures = Date.now() - slot.startedAt > HEALTHY_MS ? 0 : slot.failures + 1;
      const delay = slot.failures === 0 ? 0 : BACKOFF_MS[Math.min(slot.failures - 1, BACKOFF_MS.length - 1)];
      log.warn({ worker: slot.index, pid: w.process.pid, code, signal, restartInMs: delay }, 'worker died: restarting it');
      setTimeout(() => {
        if (stopping) return;
        slot.restarts++;
        fork(slot);
      }, delay).unref();
    });
    return w;
  };

  /** Starts one worker and waits until it serves (the initial start only). */
  const startOne = (slot: Slot): Promise<{ host: string; port: number }> => new Promise<{ host: string; port: number }>((resolve, reject) => {
    slot.starting = { resolve, reject };
    fork(slot);
  }).finally(() => { slot.starting = null; });

  const ask = (slot: Slot, call: Omit<AdminCall, 'rotor' | 'req'>): Promise<AdminReply | null> => {
    const w = slot.worker;
    if (w === null || !slot.ready || !w.isConnected()) return Promise.resolve(null);
    const req = nextReq++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { pending.delete(req); resolve(null); }, ADMIN_TIMEOUT_MS);
      pending.set(req, (r) => { clearTimeout(timer); resolve(r); });
      const m: AdminCall = { rotor: 'admin', req, ...call };
      w.send(m);
    });
  };

  const send = (res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | Uint8Array | string): void => {
    res.writeHead(status, headers);
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, doc: unknown): void => send(res, status, { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify(doc));
  const unavailable = (res: ServerResponse): void => json(res, 503, { code: 'ERR_ADMIN_UNAVAILABLE', message: 'no worker is serving', errno: 1105, sqlState: 'HY000' });

  /** Asks every serving worker; the first non-200 answer is the answer, else `combine` of all. */
  const askAll = async (res: ServerResponse, call: Omit<AdminCall, 'rotor' | 'req'>, combine: (docs: unknown[], replies: AdminReply[]) => void): Promise<void> => {
    const replies = (await Promise.all(slots.map((s) => ask(s, call)))).filter((r): r is AdminReply => r !== null);
    if (replies.length === 0) return unavailable(res);
    const bad = replies.find((r) => r.status !== 200);
    if (bad !== undefined) return send(res, bad.status, bad.headers, bad.body);
    combine(replies.map((r) => JSON.parse(Buffer.from(r.body).toString('utf8')) as unknown), replies);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer | null): Promise<void> => {
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    const method = (req.method ?? 'GET') as AdminCall['method'];
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    const call = { method, url, headers, body };
    if (method === 'GET' && path === '/health') {
      return slots.some((s) => s.ready) && !stopping ? json(res, 200, { status: 'ok' }) : json(res, 503, { status: 'unavailable' });
    }
    if (method === 'GET' && path === '/metrics') {
      const text = await metrics.clusterMetrics();
      return send(res, 200, { 'content-type': metrics.contentType }, text);
    }
    if (method === 'GET' && path === '/api/status') {
      // Every slot is listed, serving or not; the answers are each worker's own status.
      const replies = await Promise.all(slots.map((s) => ask(s, call)));
      const bad = replies.find((r) => r !== null && r.status !== 200);
      if (bad) return send(res, bad.status, bad.headers, bad.body);
      const views: WorkerView[] = slots.map((s, i) => ({
        id: s.index, pid: s.worker?.process.pid ?? null, ready: s.ready, restarts: s.restarts,
        status: replies[i] === null ? null : (JSON.parse(Buffer.from((replies[i] as AdminReply).body).toString('utf8')) as Record<string, unknown>),
      }));
      const restarts = slots.reduce((n, s) => n + s.restarts, 0);
      return json(res, 200, aggregateStatus(views, { pid: process.pid, uptimeSec: Math.round((Date.now() - startedAt) / 1000), restarts }));
    }
    if (method === 'GET' && path === '/api/caches') {
      return askAll(res, call, (docs) => json(res, 200, aggregateCaches(docs as Array<Array<Record<string, unknown>>>)));
    }
    if (method === 'GET' && /^\/api\/caches\/[^/]+$/.test(path)) {
      return askAll(res, call, (docs) => json(res, 200, aggregateCache(docs as Array<Record<string, unknown>>)));
    }
    if (method === 'POST' && /^\/api\/caches\/[^/]+\/evict$/.test(path)) {
      // Each worker holds its own keys: evicted on every one.
      return askAll(res, call, (docs) => json(res, 200, { evicted: docs.reduce((n: number, d) => n + Number((d as { evicted?: number }).evicted ?? 0), 0) }));
    }
    if (method === 'GET' && path === '/api/history') {
      return askAll(res, call, (docs) => json(res, 200, aggregateHistory(docs as Array<Record<string, unknown>>)));
    }
    if (method === 'GET' && path === '/api/queries') {
      // Each worker validates the query string (a bad one is its 400); the merge sorts and cuts again.
      const q = new URL(url, 'http://admin').searchParams;
      const sort = (q.get('sort') ?? 'total') as QuerySort;
      const limit = q.get('limit') === null ? 100 : Number(q.get('limit'));
      return askAll(res, call, (docs) => json(res, 200, aggregateQueries(docs as Array<Array<Record<string, unknown>>>, sort, limit)));
    }
    // Everything else once, on the first serving worker: registrations and drops reach every
    // worker through the registry; the dashboard's files are the same on every worker.
    const slot = slots.find((s) => s.ready);
    const r = slot === undefined ? null : await ask(slot, call);
    if (r === null) return unavailable(res);
    send(res, r.status, r.headers, r.body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        json(res, 413, { code: 'ERR_ADMIN_BODY_TOO_LARGE', message: 'request body too large', errno: 1153, sqlState: '08S01' });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      handle(req, res, chunks.length === 0 ? null : Buffer.concat(chunks)).catch((err: unknown) => {
        log.error({ err }, 'admin request failed');
        if (!res.headersSent) json(res, 500, { code: 'ERR_INTERNAL', message: 'Internal error', errno: 1105, sqlState: 'HY000' });
      });
    });
  });

  const stopAll = async (): Promise<void> => {
    stopping = true;
    const exits = slots.map((s) => s.worker).filter((w): w is Worker => w !== null).map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once('exit', () => resolve());
      w.process.kill('SIGTERM');
      setTimeout(() => { if (!w.isDead()) w.process.kill('SIGKILL'); }, 30_000).unref();
    }));
    await Promise.all(exits);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  let listen: { host: string; port: number };
  try {
    listen = await startOne(slots[0]);
    await Promise.all(slots.slice(1).map(startOne));
  } catch (e) {
    await stopAll();
    throw e;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.admin.port, config.admin.host, () => resolve());
  });
  const addr = server.address();
  const admin = { host: config.admin.host, port: typeof addr === 'object' && addr ? addr.port : config.admin.port };
  log.info({ listen, admin, workers: config.workers, caches: registry.size }, 'rotor is serving');

  let stopped: Promise<void> | null = null;
  return {
    listen, admin,
    stop: () => (stopped ??= stopAll().then(() => log.info('rotor stopped'))),
  };
}
