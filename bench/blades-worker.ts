/**
 * A load worker of the rotating-blades benchmark: owns a share of the clients, each an independent
 * mysql2 connection running its iterations one after another like a web request handler.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { connectionOptions } from './lib/servers.js';
import { Histogram, type HistogramData } from './lib/stats.js';
import { serveWorker, type Progress } from './lib/workers.js';
import {
  becomeFanSql, checkFanSql, readCountSql, RETRYABLE_ERRNOS, ttlKey, type Contender, type QueryName,
} from './blades-queries.js';

export interface BladesWorkerInit {
  readonly contender: Contender;
  /** Where clients connect: MariaDB, or Rotor for the Rotor contenders. */
  readonly url: string;
  readonly redisUrl: string | null;
  readonly item: number;
  /** One entry per client: its first user id and its number of iterations. */
  readonly clients: ReadonlyArray<{ readonly firstUser: number; readonly iterations: number }>;
  readonly ttlSeconds: number;
  /**
   * Open loop (`--rate`): each client starts an iteration every `everyMs` ms on its own schedule
   * (staggered across clients), at once when it is behind; null: back to back.
   */
  readonly everyMs: number | null;
}

export interface BladesWorkerResult {
  readonly done: number;
  readonly retries: number;
  readonly alreadyFan: number;
  readonly ttlHits: number;
  readonly queries: Readonly<Record<QueryName, HistogramData>>;
  /**
   * How late this worker's event loop ran a due callback over the run, ms: the queue a response
   * waits in on the application's side before its client sees it.
   */
  readonly loopDelayMs: { readonly p50: number; readonly p99: number };
}

function errno(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'errno' in err ? (err as { errno: number }).errno : undefined;
}

async function openAll(url: string, n: number): Promise<mysql.Connection[]> {
  const opts = connectionOptions(url);
  const conns: mysql.Connection[] = [];
  const batch = 25; // connect a few at a time: thousands at once overflow accept backlogs
  for (let i = 0; i < n; i += batch) {
    conns.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => mysql.createConnection(opts)))));
  }
  return conns;
}

serveWorker<BladesWorkerInit, BladesWorkerResult>(async (init) => {
  const conns = await openAll(init.url, init.clients.length);
  const redis = init.redisUrl ? new Redis(init.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 }) : null;
  if (redis) await redis.connect();
  const hist: Record<QueryName, Histogram> = { read_count: new Histogram(), check_fan: new Histogram(), become_fan: new Histogram() };
  const { contender, item } = init;
  const readSql = readCountSql(contender, item);
  const key = ttlKey(item);
  let done = 0;
  let retries = 0;
  let alreadyFan = 0;
  let ttlHits = 0;

  async function readCount(conn: mysql.Connection): Promise<void> {
    if (redis) {
      const cached = await redis.get(key);
      if (cached !== null) {
        ttlHits++;
        return;
      }
      const [rows] = await conn.query<mysql.RowDataPacket[]>(readSql);
      await redis.set(key, String(rows[0]?.fans ?? 0), 'EX', init.ttlSeconds);
      return;
    }
    await conn.query(readSql);
  }

  async function client(conn: mysql.Connection, firstUser: number, iterations: number, index: number): Promise<void> {
    const every = init.everyMs;
    const start = performance.now() + (every === null ? 0 : (every * index) / init.clients.length);
    for (let k = 0; k < iterations; k++) {
      if (every !== null) {
        const wait = start + k * every - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const user = firstUser + k;
      const tx = becomeFanSql(contender, user, item);
      const check = checkFanSql(user, item);
      while (true) {
        let t = performance.now();
        await readCount(conn);
        let t2 = performance.now();
        hist.read_count.record(t2 - t);
        t = t2;
        const [rows] = await conn.query<mysql.RowDataPacket[]>(check);
        t2 = performance.now();
        hist.check_fan.record(t2 - t);
        if (rows.length > 0) {
          alreadyFan++; // cannot happen with exclusive user ranges; the final count will then fail
          break;
        }
        t = t2;
        try {
          await conn.query('BEGIN');
          for (const sql of tx) await conn.query(sql);
          await conn.query('COMMIT');
        } catch (err) {
          const no = errno(err);
          if (no !== undefined && RETRYABLE_ERRNOS.has(no)) {
            await conn.query('ROLLBACK').catch(() => undefined);
            retries++;
            continue;
          }
          throw err;
        }
        hist.become_fan.record(performance.now() - t);
        break;
      }
      done++;
    }
  }

  return {
    async run(report: (p: Progress) => void) {
      const timer = setInterval(() => report({ done, retries, ttlHits }), 200);
      const loop = monitorEventLoopDelay({ resolution: 2 });
      loop.enable();
      try {
        await Promise.all(init.clients.map((c, i) => client(conns[i], c.firstUser, c.iterations, i)));
      } finally {
        loop.disable();
        clearInterval(timer);
        report({ done, retries, ttlHits });
        await Promise.all(conns.map((c) => c.end().catch(() => undefined)));
        redis?.disconnect();
      }
      return {
        done, retries, alreadyFan, ttlHits,
        queries: { read_count: hist.read_count.toData(), check_fan: hist.check_fan.toData(), become_fan: hist.become_fan.toData() },
        // The histogram's values include the sampling interval itself: lateness is above its least.
        loopDelayMs: { p50: (loop.percentile(50) - loop.min) / 1e6, p99: (loop.percentile(99) - loop.min) / 1e6 },
      };
    },
  };
});
