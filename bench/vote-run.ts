/**
 * Runs the vote benchmark: preloads articles and Zipf-distributed votes once,
 * then runs each contender for a fixed duration with closed-loop clients in worker processes,
 * recording throughput, per-operation latency, hit rate, Rotor's memory and the cold start.
 */
import { fileURLToPath } from 'node:url';
import type mysql from 'mysql2/promise';
import { CpuMeter } from './lib/proc.js';
import { note, ProgressBar } from './lib/progress.js';
import { RotorApiError, rotorUnavailable, startRotor, type RotorProcess } from './lib/rotor.js';
import { connect } from './lib/servers.js';
import { Histogram, round, roundSummary, type LatencySummary } from './lib/stats.js';
import { split, startWorkers, type Progress } from './lib/workers.js';
import { seededRandom, Zipf } from './lib/zipf.js';
import { DENORM_SETUP, READ_SQL, VOTE_SCHEMA, type VoteContender } from './vote-queries.js';
import type { SecondBucket, VoteWorkerInit, VoteWorkerResult } from './vote-worker.js';

const WORKER = fileURLToPath(new URL('./vote-worker.ts', import.meta.url));

export interface VoteParams {
  readonly articles: number;
  readonly votes: number;
  readonly skew: number;
  readonly readShare: number;
  readonly durationSec: number;
  readonly coldSeconds: number;
  readonly clients: number;
  readonly workers: number;
  readonly contenders: ReadonlyArray<VoteContender>;
  readonly seed: number;
  readonly upstreamUrl: string;
  readonly redisUrl: string | null;
  readonly mariadbPid: number | null;
}

/** One second of the cold start. */
export interface ColdSecond {
  readonly second: number;
  readonly opsPerSec: number;
  /** null when no read completed in that second. */
  readonly readAvgMs: number | null;
  readonly hitRate: number | null;
}

export interface VoteContenderResult {
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly reason?: string;
  readonly totalMs: number;
  readonly opsPerSec: number;
  readonly ops: { readonly read: LatencySummary; readonly write: LatencySummary };
  readonly hitRate: number | null;
  readonly rotorRssBytes: number | null;
  readonly cpuMs: Readonly<Record<string, number>>;
  readonly clientCores: number;
  readonly coldStart: ReadonlyArray<ColdSecond>;
  readonly throughput: ReadonlyArray<readonly [number, number]>;
}

export interface VoteReport {
  readonly params: Record<string, unknown>;
  readonly contenders: Readonly<Record<string, VoteContenderResult>>;
}

const EMPTY: LatencySummary = { count: 0, min: 0, avg: 0, p50: 0, p95: 0, p99: 0, max: 0 };
function blank(status: 'failed' | 'skipped', reason: string): VoteContenderResult {
  return {
    status, reason, totalMs: 0, opsPerSec: 0, ops: { read: EMPTY, write: EMPTY }, hitRate: null, rotorRssBytes: null,
    cpuMs: {}, clientCores: 0, coldStart: [], throughput: [],
  };
}

/** Creates the tables and loads `articles` articles and `votes` Zipf-distributed votes. */
export async function preloadVote(conn: mysql.Connection, p: Pick<VoteParams, 'articles' | 'votes' | 'skew' | 'seed'>): Promise<void> {
  for (const sql of VOTE_SCHEMA) await conn.query(sql);
  const bar = new ProgressBar('preload', p.articles + p.votes);
  const batch = 5000;
  for (let i = 1; i <= p.articles; i += batch) {
    const rows: string[] = [];
    for (let id = i; id < Math.min(i + batch, p.articles + 1); id++) rows.push(`(${id},'Article #${id}')`);
    await conn.query(`INSERT INTO article VALUES ${rows.join(',')}`);
    bar.update(i + rows.length - 1, 'articles');
  }
  const zipf = new Zipf(p.articles, p.skew, seededRandom(p.seed));
  for (let i = 0; i < p.votes; i += batch) {
    const rows: string[] = [];
    for (let k = i; k < Math.min(i + batch, p.votes); k++) rows.push(`(${zipf.next()},${k + 1})`);
    await conn.query(`INSERT INTO vote VALUES ${rows.join(',')}`);
    bar.update(p.articles + i + rows.length, 'votes');
  }
  bar.done(p.articles + p.votes);
}

async function cacheCounts(rotor: RotorProcess, id: string): Promise<{ hits: number; misses: number } | null> {
  const s = (await rotor.cache(id).catch(() => ({ stats: undefined }))).stats;
  return s && typeof s.hits === 'number' ? { hits: s.hits, misses: typeof s.misses === 'number' ? s.misses : 0 } : null;
}

async function runContender(p: VoteParams, contender: VoteContender, index: number): Promise<VoteContenderResult> {
  const admin = await connect(p.upstreamUrl);
  let rotor: RotorProcess | null = null;
  try {
    if (contender === 'denormalized') for (const sql of DENORM_SETUP) await admin.query(sql);
    if (contender === 'lookaside' && !p.redisUrl) return blank('skipped', 'no Redis URL');
    let url = p.upstreamUrl;
    let cacheId: string | null = null;
    if (contender === 'rotor') {
      const why = rotorUnavailable();
      if (why) return blank('skipped', why);
      try {
        rotor = await startRotor(p.upstreamUrl);
      } catch (e) {
        return blank('skipped', `Rotor did not start: ${(e as Error).message.split('\n')[0]}`);
      }
      try {
        cacheId = await rotor.registerCache(READ_SQL, new URL(p.upstreamUrl).pathname.slice(1) || undefined);
      } catch (e) {
        if (e instanceof RotorApiError && e.status === 422) return blank('skipped', `not supported yet (Rotor answered 422: ${e.message})`);
        throw e;
      }
      url = rotor.url;
    }
    const perWorker = split(p.clients, Math.min(p.workers, p.clients));
    const inits: VoteWorkerInit[] = perWorker.map((clients, w) => ({
      contender, url, redisUrl: p.redisUrl, redisPrefix: `vote:${Date.now()}:${contender}:`, articles: p.articles, skew: p.skew,
      readShare: p.readShare, clients, userBase: 1e10 * (index + 1) + 1e8 * w, seed: p.seed + 1000 * (index + 1) + w,
    }));
    const progress: Progress[] = inits.map(() => ({ done: 0, retries: 0 }));
    note(`${contender}: connecting ${p.clients} clients from ${inits.length} worker processes…`);
    const workers = await startWorkers<VoteWorkerInit, VoteWorkerResult>(WORKER, inits, (i, pr) => {
      progress[i] = pr;
    });
    const bar = new ProgressBar(contender, p.durationSec);
    const cpu = new CpuMeter({ mariadb: p.mariadbPid ?? undefined, rotor: rotor?.pid });
    const rotorSeconds: { hits: number; misses: number }[] = [];
    const first = rotor && cacheId ? await cacheCounts(rotor, cacheId) : null;
    let prev = first;
    const throughput: [number, number][] = [];
    let lastOps = 0;
    const t0 = performance.now();
    const selfCpu = process.cpuUsage();
    cpu.start();
    workers.go();
    const ticker = setInterval(() => {
      const ops = progress.reduce((s, x) => s + x.done, 0);
      const secs = (performance.now() - t0) / 1000;
      throughput.push([round(secs, 1), ops - lastOps]);
      lastOps = ops;
      bar.update(Math.min(p.durationSec, Math.floor(secs)), `${Math.round(ops / Math.max(0.001, secs))} ops/s`);
      if (rotor && cacheId) {
        void cacheCounts(rotor, cacheId).then((c) => {
          if (c && prev) rotorSeconds.push({ hits: c.hits - prev.hits, misses: c.misses - prev.misses });
          prev = c;
        });
      }
    }, 1000);
    const stopTimer = setTimeout(() => workers.stop(), p.durationSec * 1000);
    let results;
    try {
      results = await workers.results;
    } catch (e) {
      workers.kill();
      throw e;
    } finally {
      clearInterval(ticker);
      clearTimeout(stopTimer);
    }
    const totalMs = performance.now() - t0;
    bar.done(p.durationSec);
    const cpuMs = Object.fromEntries(Object.entries(cpu.stop()).map(([k, v]) => [k, round(v / 1000, 1)]));
    const self = process.cpuUsage(selfCpu);
    const clientUs = results.reduce((s, r) => s + r.cpuMicros, 0) + self.user + self.system;
    cpuMs.client = round(clientUs / 1000, 1);

    const reads = new Histogram();
    const writes = new Histogram();
    let hits = 0;
    const seconds: SecondBucket[] = [];
    for (const { result } of results) {
      reads.merge(result.reads);
      writes.merge(result.writes);
      hits += result.hits;
      result.seconds.forEach((b, i) => {
        seconds[i] ??= { ops: 0, reads: 0, readMs: 0, hits: 0 };
        seconds[i].ops += b.ops;
        seconds[i].reads += b.reads;
        seconds[i].readMs += b.readMs;
        seconds[i].hits += b.hits;
      });
    }
    let hitRate: number | null = null;
    if (contender === 'lookaside') hitRate = reads.count ? hits / reads.count : null;
    const last = rotor && cacheId ? await cacheCounts(rotor, cacheId) : null;
    if (first && last && last.hits + last.misses > first.hits + first.misses) {
      hitRate = (last.hits - first.hits) / (last.hits + last.misses - first.hits - first.misses);
    }
    const coldStart: ColdSecond[] = seconds.slice(0, p.coldSeconds).map((b, i) => {
      let hr: number | null = null;
      if (contender === 'lookaside') hr = b.reads ? b.hits / b.reads : null;
      else if (rotor && rotorSeconds[i]) {
        const r = rotorSeconds[i];
        hr = r.hits + r.misses ? r.hits / (r.hits + r.misses) : null;
      }
      return { second: i + 1, opsPerSec: b.ops, readAvgMs: b.reads ? round(b.readMs / b.reads) : null, hitRate: hr === null ? null : round(hr, 4) };
    });
    const totalOps = reads.count + writes.count;
    return {
      status: 'ok', totalMs: round(totalMs, 1), opsPerSec: round((totalOps * 1000) / totalMs, 1),
      ops: { read: roundSummary(reads.summary()), write: roundSummary(writes.summary()) },
      hitRate: hitRate === null ? null : round(hitRate, 4), rotorRssBytes: rotor ? await rotor.rss() : null,
      cpuMs, clientCores: round(clientUs / 1000 / totalMs, 2), coldStart, throughput,
    };
  } finally {
    await rotor?.stop();
    await admin.end().catch(() => undefined);
  }
}

/** Preloads, then runs each contender back to back; failures are recorded, not thrown. */
export async function runVote(p: VoteParams): Promise<VoteReport> {
  const admin = await connect(p.upstreamUrl);
  let directPlan: unknown = null;
  try {
    await preloadVote(admin, p);
    await admin.query('ANALYZE TABLE article, vote');
    // Recorded because it explains the direct contender: MariaDB may materialize the whole derived COUNT per read.
    [directPlan] = await admin.query(`EXPLAIN ${READ_SQL.replace('?', '1')}`);
  } finally {
    await admin.end();
  }
  const contenders: Record<string, VoteContenderResult> = {};
  for (const [i, c] of p.contenders.entries()) {
    try {
      contenders[c] = await runContender(p, c, i);
    } catch (e) {
      contenders[c] = blank('failed', (e as Error).message.split('\n')[0]);
    }
    if (contenders[c].status !== 'ok') note(`${c}: ${contenders[c].status.toUpperCase()}: ${contenders[c].reason}`);
  }
  const { upstreamUrl: _u, redisUrl: _r, mariadbPid: _m, ...rest } = p;
  return { params: { ...rest, finishedAt: new Date().toISOString(), directPlan }, contenders };
}
