/**
 * A load worker of the vote benchmark: closed-loop clients, each its own mysql2 connection, drawing
 * articles from a Zipf distribution and reading (the natural query, its denormalized form, or via
 * Redis lookaside) or voting, until the coordinator says stop.
 */
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { connectionOptions } from './lib/servers.js';
import { Histogram, type HistogramData } from './lib/stats.js';
import { serveWorker, type Progress } from './lib/workers.js';
import { seededRandom, Zipf } from './lib/zipf.js';
import { readSql, writeSql, type VoteContender } from './vote-queries.js';

export interface VoteWorkerInit {
  readonly contender: VoteContender;
  readonly url: string;
  readonly redisUrl: string | null;
  /** Key prefix for the lookaside cache (unique per run). */
  readonly redisPrefix: string;
  readonly articles: number;
  readonly skew: number;
  readonly readShare: number;
  readonly clients: number;
  /** First user id this worker may vote as; ids are never reused. */
  readonly userBase: number;
  readonly seed: number;
}

/** Per second since start: operations, reads, summed read latency, lookaside hits. */
export interface SecondBucket {
  ops: number;
  reads: number;
  readMs: number;
  hits: number;
}

export interface VoteWorkerResult {
  readonly reads: HistogramData;
  readonly writes: HistogramData;
  readonly hits: number;
  readonly seconds: ReadonlyArray<SecondBucket>;
}

serveWorker<VoteWorkerInit, VoteWorkerResult>(async (init) => {
  const opts = connectionOptions(init.url);
  const conns: mysql.Connection[] = [];
  for (let i = 0; i < init.clients; i += 25) {
    conns.push(...(await Promise.all(Array.from({ length: Math.min(25, init.clients - i) }, () => mysql.createConnection(opts)))));
  }
  const redis = init.contender === 'lookaside' && init.redisUrl ? new Redis(init.redisUrl, { lazyConnect: true }) : null;
  if (redis) await redis.connect();
  const random = seededRandom(init.seed);
  const zipf = new Zipf(init.articles, init.skew, random);
  const reads = new Histogram();
  const writes = new Histogram();
  const seconds: SecondBucket[] = [];
  let nextUser = init.userBase;
  let hits = 0;
  let ops = 0;
  let start = 0;

  function bucket(now: number): SecondBucket {
    const s = Math.floor((now - start) / 1000);
    while (seconds.length <= s) seconds.push({ ops: 0, reads: 0, readMs: 0, hits: 0 });
    return seconds[s];
  }

  async function read(conn: mysql.Connection, id: number): Promise<boolean> {
    if (!redis) {
      await conn.query(readSql(init.contender, id));
      return false;
    }
    const key = `${init.redisPrefix}${id}`;
    if ((await redis.get(key)) !== null) return true;
    const [rows] = await conn.query<mysql.RowDataPacket[]>(readSql(init.contender, id));
    await redis.set(key, JSON.stringify(rows));
    return false;
  }

  async function client(conn: mysql.Connection, stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      const id = zipf.next();
      const t = performance.now();
      if (random() < init.readShare) {
        const hit = await read(conn, id);
        const now = performance.now();
        reads.record(now - t);
        const b = bucket(now);
        b.ops++;
        b.reads++;
        b.readMs += now - t;
        if (hit) {
          b.hits++;
          hits++;
        }
      } else {
        for (const sql of writeSql(init.contender, id, nextUser++)) await conn.query(sql);
        if (redis) await redis.del(`${init.redisPrefix}${id}`);
        const now = performance.now();
        writes.record(now - t);
        bucket(now).ops++;
      }
      ops++;
    }
  }

  return {
    async run(report: (p: Progress) => void, stopped: () => boolean) {
      start = performance.now();
      const timer = setInterval(() => report({ done: ops, retries: 0 }), 250);
      try {
        await Promise.all(conns.map((c) => client(c, stopped)));
      } finally {
        clearInterval(timer);
        await Promise.all(conns.map((c) => c.end().catch(() => undefined)));
        redis?.disconnect();
      }
      return { reads: reads.toData(), writes: writes.toData(), hits, seconds };
    },
  };
});
