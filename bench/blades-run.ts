/**
 * Runs the rotating-blades benchmark for a list of contenders, back to back on
 * the same servers, and builds its report. Used by `npm run bench:blades` and `npm run demo`.
 *
 * Per contender: empty tables, (Rotor started and caches registered), workers connect their
 * clients, all start together; the clock stops when every iteration is done and, for Rotor
 * contenders, when Rotor serves the final count N.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import {
  CHECK_FAN_CACHE, QUERY_NAMES, READ_COUNT_CACHE, readCountSql, SCHEMA, ttlKey, viaRotor, type Contender, type QueryName,
} from './blades-queries.js';
import type { BladesWorkerInit, BladesWorkerResult } from './blades-worker.js';
import { CpuMeter } from './lib/proc.js';
import { note, ProgressBar } from './lib/progress.js';
import { pipeInFrontOf, type PipeRelay } from './lib/pipe-relay.js';
import { RotorApiError, rotorUnavailable, startRotor, type RotorProcess } from './lib/rotor.js';
import { connect, scalar } from './lib/servers.js';
import { Histogram, round, roundSummary, spread, type LatencySummary } from './lib/stats.js';
import { split, startWorkers, type Progress } from './lib/workers.js';

const WORKER = fileURLToPath(new URL('./blades-worker.ts', import.meta.url));

export interface BladesParams {
  readonly clients: number;
  readonly iterations: number;
  readonly item: number;
  readonly contenders: ReadonlyArray<Contender>;
  readonly workers: number;
  readonly ttlSeconds: number;
  /** Abort a contender when no iteration or retry completes for this long. */
  readonly stallSeconds: number;
  /**
   * InnoDB deadlock detection during the run. Off by default: with thousands of transactions queued
   * on the one fan_count row the detector's work grows with the square of the waiters and stalls the
   * server (measured: 8,000 clients made no progress in a minute). This workload cannot deadlock
   * (every transaction takes the hot row lock last), so lock waits resolve in order without it.
   */
  readonly deadlockDetect: boolean;
  /** Iterations per second in all, on a schedule (open loop); null: each client's back to back. */
  readonly rate: number | null;
  readonly upstreamUrl: string;
  readonly redisUrl: string | null;
  readonly mariadbPid: number | null;
  /** `--pin`: where each process runs ({@link Pin}); null: wherever the scheduler puts it. */
  readonly pin: Pin | null;
}

/**
 * `--pin` topologies on a 2-core machine, for every contender (taskset):
 * - `db`: MariaDB, the load generator and this process on CPU 0; the relay (Rotor, the pipe) or
 *   Redis alone on CPU 1 (direct leaves CPU 1 idle): Rotor as on a machine of its own in front of
 *   the database;
 * - `app`: MariaDB alone on CPU 0; the load generator, this process and the relay or Redis on CPU 1:
 *   the database on a machine of its own, Rotor beside the application (as a sidecar proxy runs).
 */
export type Pin = 'db' | 'app';

export type Spread = { p50: number; p99: number; max: number } | null;

export interface BladesContenderResult {
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly reason?: string;
  readonly totalMs: number;
  readonly iterationsPerSec: number;
  readonly retries: number;
  readonly finalCount: number | null;
  readonly queries: Readonly<Record<QueryName, LatencySummary>>;
  /** Rotor's binlog lag as reported by /api/status, sampled through the run. */
  readonly replicationDelayMs: Spread;
  /** Measured by the benchmark: a commit to a probe row until Rotor's cached read shows it. */
  readonly commitToVisibleMs: Spread;
  /** Time after the last commit until Rotor served N (part of totalMs). */
  readonly catchUpMs: number | null;
  readonly cacheStats: Readonly<Record<string, unknown>> | null;
  /** Query-1 reads the benchmark itself sent through Rotor (probe and final catch-up), included in cacheStats. */
  readonly benchReads: number;
  readonly ttlHits: number | null;
  readonly cpuMs: Readonly<Record<string, number>>;
  /** The relay's (Rotor's, or the pipe's) CPU time over the measured run (start-up and registration excluded) per iteration, µs. */
  readonly rotorCpuUsPerIteration: number | null;
  /**
   * The same over the iterations after the first half was done: Rotor warmed up (its JIT compiles
   * the hot paths during the first seconds, a third of a short run's CPU), the steady-state cost.
   */
  readonly rotorCpuUsPerIterationWarm: number | null;
  /** Load generator CPU over wall time, in cores: near the core count means the client was the limit. */
  readonly clientCores: number;
  readonly rotorRssBytes: number | null;
  /**
   * Rotor's own time for the reads it answered from a cache (the command's arrival to its answer
   * written, Rotor's `rotor_query_duration_seconds{destination="cache"}`; the benchmark's probe
   * reads included), as the histogram's bucket bounds: what of a read's latency is Rotor's once it
   * read the command (not the wait in the socket for its event loop).
   */
  readonly rotorAnswerMs: { readonly p50: number; readonly p99: number } | null;
  /**
   * How late event loops ran due callbacks over the run (ms, p50/p99): the load generator's
   * workers (the worst of them), and Rotor's (its nodejs_eventloop_lag metrics, reset as the run
   * starts). A read waits in both queues besides the one it is answered by.
   */
  readonly loopDelayMs: { readonly client: { readonly p50: number; readonly p99: number }; readonly rotor: { readonly p50: number; readonly p99: number } | null };
  readonly series: {
    readonly throughput: ReadonlyArray<readonly [number, number]>;
    readonly lag: ReadonlyArray<readonly [number, number]>;
    readonly commitToVisible: ReadonlyArray<readonly [number, number]>;
  };
}

export interface BladesReport {
  readonly params: Record<string, unknown>;
  readonly contenders: Readonly<Record<string, BladesContenderResult>>;
}

const EMPTY: LatencySummary = { count: 0, min: 0, avg: 0, p50: 0, p95: 0, p99: 0, max: 0 };

function blank(status: 'failed' | 'skipped', reason: string): BladesContenderResult {
  return {
    status, reason, totalMs: 0, iterationsPerSec: 0, retries: 0, finalCount: null,
    queries: { read_count: EMPTY, check_fan: EMPTY, become_fan: EMPTY }, replicationDelayMs: null, commitToVisibleMs: null,
    catchUpMs: null, cacheStats: null, benchReads: 0, ttlHits: null, cpuMs: {}, clientCores: 0, rotorRssBytes: null, rotorAnswerMs: null, loopDelayMs: { client: { p50: 0, p99: 0 }, rotor: null }, rotorCpuUsPerIteration: null, rotorCpuUsPerIterationWarm: null,
    series: { throughput: [], lag: [], commitToVisible: [] },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Client ranges: client i owns users [firstUser, firstUser + iterations). */
function clientRanges(clients: number, iterations: number): { firstUser: number; iterations: number }[] {
  let next = 1;
  return split(iterations, clients).map((n) => {
    const r = { firstUser: next, iterations: n };
    next += n;
    return r;
  });
}

/** Polls Rotor until `sql` returns `want` (or the timeout passes); returns the last value seen. */
let benchReads = 0; // reads of query 1 the benchmark itself sends to Rotor (probe, catch-up): not the clients'

async function waitForValue(conn: mysql.Connection, sql: string, want: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  benchReads++;
  let v = await scalar(conn, sql);
  while (v !== want && performance.now() < deadline) {
    await sleep(1);
    benchReads++;
    v = await scalar(conn, sql);
  }
  return v;
}

/**
 * Measures commit → visible: commits one change to a probe item straight to MariaDB, then reads the
 * probe's count through Rotor until it shows the change.
 */
function startProbe(contender: Contender, direct: mysql.Connection, rotor: mysql.Connection, probeItem: number, t0: number) {
  const samples: [number, number][] = [];
  let stopped = false;
  const readSql = readCountSql(contender, probeItem);
  const done = (async () => {
    let n = 0;
    while (!stopped) {
      const write = contender === 'rotor-count'
        ? `INSERT INTO fan_of VALUES (${4e15 + n}, ${probeItem})`
        : `UPDATE fan_count SET fans = fans + 1 WHERE item_id = ${probeItem}`;
      await direct.query(write);
      n++;
      const committed = performance.now();
      const seen = await waitForValue(rotor, readSql, n, 30_000);
      const delay = performance.now() - committed;
      if (seen !== n) throw new Error(`probe: Rotor still served ${seen} for the probe item 30 s after it became ${n}`);
      samples.push([round((committed - t0) / 1000, 2), round(delay)]);
      await sleep(200);
    }
  })();
  return {
    samples,
    async stop(): Promise<void> {
      stopped = true;
      await done;
    },
  };
}

/** Samples Rotor's reported binlog lag every 250 ms. */
function startLagSampler(rotor: RotorProcess, t0: number) {
  const samples: [number, number][] = [];
  const timer = setInterval(() => {
    rotor.lagMs().then((lag) => {
      if (lag !== null) samples.push([round((performance.now() - t0) / 1000, 2), lag]);
    }, () => undefined);
  }, 250);
  return { samples, stop: () => clearInterval(timer) };
}

async function runContender(p: BladesParams, contender: Contender): Promise<BladesContenderResult> {
  const admin = await connect(p.upstreamUrl);
  let rotor: RotorProcess | null = null;
  let pipe: PipeRelay | null = null;
  let rotorConn: mysql.Connection | null = null;
  let redis: Redis | null = null;
  const probeItem = p.item + 1;
  benchReads = 0;
  try {
    for (const sql of SCHEMA) await admin.query(sql);
    if (contender !== 'rotor-count') await admin.query(`INSERT INTO fan_count VALUES (${p.item}, 0), (${probeItem}, 0)`);
    if (contender === 'ttl-cache') {
      if (!p.redisUrl) return blank('skipped', 'no Redis URL');
      redis = new Redis(p.redisUrl);
      await redis.del(ttlKey(p.item));
    }

    let clientUrl = p.upstreamUrl;
    if (contender === 'pipe') ({ relay: pipe, url: clientUrl } = await pipeInFrontOf(p.upstreamUrl));
    const cacheIds: Record<string, string> = {};
    if (viaRotor(contender)) {
      const why = rotorUnavailable();
      if (why) return blank('skipped', why);
      try {
        rotor = await startRotor(p.upstreamUrl);
      } catch (e) {
        return blank('skipped', `Rotor did not start: ${(e as Error).message.split('\n')[0]}`);
      }
      const db = new URL(p.upstreamUrl).pathname.slice(1) || undefined;
      try {
        cacheIds.read_count = await rotor.registerCache(READ_COUNT_CACHE[contender as 'rotor' | 'rotor-count'], db);
        cacheIds.check_fan = await rotor.registerCache(CHECK_FAN_CACHE, db);
      } catch (e) {
        const what = e instanceof RotorApiError && e.status === 422 ? 'not supported yet' : 'cache registration failed';
        return blank('skipped', `${what}: ${(e as Error).message}`);
      }
      clientUrl = rotor.url;
      rotorConn = await connect(rotor.url);
    }

    const ranges = clientRanges(p.clients, p.iterations);
    const perWorker = split(p.clients, Math.min(p.workers, p.clients));
    let offset = 0;
    const inits: BladesWorkerInit[] = perWorker.map((n) => {
      const clients = ranges.slice(offset, offset + n);
      offset += n;
      // Each client's share of the rate: one iteration every clients / rate seconds.
      const everyMs = p.rate === null ? null : (1000 * p.clients) / p.rate;
      return { contender, url: clientUrl, redisUrl: contender === 'ttl-cache' ? p.redisUrl : null, item: p.item, clients, ttlSeconds: p.ttlSeconds, everyMs };
    });

    const progress: Progress[] = inits.map(() => ({ done: 0, retries: 0 }));
    note(`${contender}: connecting ${p.clients} clients from ${inits.length} worker processes…`);
    const workers = await startWorkers<BladesWorkerInit, BladesWorkerResult>(WORKER, inits, (i, pr) => {
      progress[i] = pr;
    });
    if (p.pin !== null) {
      const clientCpu = p.pin === 'db' ? '0' : '1';
      pinTo(p.mariadbPid, '0');
      for (const pid of [process.pid, ...workers.pids]) pinTo(pid, clientCpu);
      pinTo(rotor?.pid ?? pipe?.pid ?? (redis ? await redisPid(redis) : null), '1');
    }
    const bar = new ProgressBar(contender, p.iterations);
    // The relay's CPU (Rotor's, or the pipe's) is counted as `rotor`.
    const cpu = new CpuMeter({ mariadb: p.mariadbPid ?? undefined, rotor: rotor?.pid ?? pipe?.pid });
    const throughput: [number, number][] = [];
    const t0 = performance.now();
    const selfCpu = process.cpuUsage();
    cpu.start();
    workers.go();
    // Rotor's loop-lag histogram restarts at each scrape: this one starts it with the run.
    if (rotor) await scrape(rotor.adminUrl).catch(() => null);
    const lag = rotor ? startLagSampler(rotor, t0) : null;
    const probe = rotor && rotorConn ? startProbe(contender, admin, rotorConn, probeItem, t0) : null;
    let lastDone = 0;
    let lastT = t0;
    let lastProgress = { done: 0, retries: 0, at: t0 };
    // Rotor's CPU when half the iterations were done (done -1: not yet).
    const half = { done: -1, rotorUs: 0 };
    let stalled!: (e: Error) => void;
    const stall = new Promise<never>((_, rej) => {
      stalled = rej;
    });
    const ticker = setInterval(() => {
      const done = progress.reduce((s, x) => s + x.done, 0);
      const retries = progress.reduce((s, x) => s + x.retries, 0);
      const now = performance.now();
      if (done !== lastProgress.done || retries !== lastProgress.retries) lastProgress = { done, retries, at: now };
      if (half.done < 0 && done * 2 >= p.iterations && done < p.iterations) {
        const rotorUs = cpu.stop().rotor;
        if (rotorUs !== undefined) Object.assign(half, { done, rotorUs });
      }
      else if (now - lastProgress.at > p.stallSeconds * 1000) {
        stalled(new Error(`no progress for ${p.stallSeconds} s at ${done}/${p.iterations} iterations (server overloaded?)`));
      }
      if (now - lastT >= 1000) {
        throughput.push([round((now - t0) / 1000, 2), Math.round(((done - lastDone) * 1000) / (now - lastT))]);
        lastDone = done;
        lastT = now;
      }
      const lastLag = lag?.samples.at(-1)?.[1];
      const rate = Math.round((done * 1000) / Math.max(1, now - t0));
      bar.update(done, `${rate} it/s, ${retries} retries${lastLag !== undefined ? `, lag ${lastLag} ms` : ''}`);
    }, 100);

    let results;
    try {
      results = await Promise.race([workers.results, stall]);
    } catch (e) {
      workers.kill();
      lag?.stop();
      void probe?.stop().catch(() => undefined);
      bar.done(progress.reduce((s, x) => s + x.done, 0), 'aborted');
      throw e;
    } finally {
      clearInterval(ticker);
    }
    const allDone = performance.now();
    let finalCount: number;
    let catchUpMs: number | null = null;
    if (rotorConn) {
      finalCount = await waitForValue(rotorConn, readCountSql(contender, p.item), p.iterations, 120_000);
      catchUpMs = round(performance.now() - allDone);
    } else {
      finalCount = await scalar(admin, readCountSql(contender, p.item));
    }
    const end = performance.now();
    const cpuMs = Object.fromEntries(Object.entries(cpu.stop()).map(([k, v]) => [k, round(v / 1000, 1)]));
    lag?.stop();
    await probe?.stop().catch((e: Error) => note(`${contender}: ${e.message}`));
    const totalMs = end - t0;
    const self = process.cpuUsage(selfCpu);
    const clientCpuUs = results.reduce((s, r) => s + r.cpuMicros, 0) + self.user + self.system;
    cpuMs.client = round(clientCpuUs / 1000, 1);

    const hist: Record<QueryName, Histogram> = { read_count: new Histogram(), check_fan: new Histogram(), become_fan: new Histogram() };
    let retries = 0;
    let alreadyFan = 0;
    let ttlHits = 0;
    for (const { result } of results) {
      for (const q of QUERY_NAMES) hist[q].merge(result.queries[q]);
      retries += result.retries;
      alreadyFan += result.alreadyFan;
      ttlHits += result.ttlHits;
    }
    bar.done(p.iterations, `${Math.round((p.iterations * 1000) / totalMs)} it/s, ${retries} retries`);

    const cacheStats: Record<string, unknown> = {};
    if (rotor) {
      for (const [name, id] of Object.entries(cacheIds)) {
        cacheStats[name] = (await rotor.cache(id).catch(() => ({ stats: undefined }))).stats ?? null;
      }
    }
    const rss = rotor ? await rotor.rss() : null;
    // One scrape for both: each scrape restarts Rotor's loop-lag histogram.
    const metrics = rotor ? await scrape(rotor.adminUrl).catch(() => null) : null;
    const rotorLoop = metrics === null ? null : loopLag(metrics);
    const rotorAnswerMs = metrics === null ? null : answerQuantiles(metrics);
    const loopDelayMs = {
      client: {
        p50: round(Math.max(...results.map((r) => r.result.loopDelayMs.p50)), 3),
        p99: round(Math.max(...results.map((r) => r.result.loopDelayMs.p99)), 3),
      },
      rotor: rotorLoop,
    };
    const upstreamCount = await scalar(admin, contender === 'rotor-count'
      ? `SELECT COUNT(*) FROM fan_of WHERE item_id = ${p.item}` : readCountSql(contender, p.item));

    let status: 'ok' | 'failed' = 'ok';
    let reason: string | undefined;
    if (finalCount !== p.iterations || upstreamCount !== p.iterations || alreadyFan > 0) {
      status = 'failed';
      reason = `final count ${finalCount}${rotor ? ' (through Rotor)' : ''}, upstream ${upstreamCount}, expected ${p.iterations}` +
        (alreadyFan ? `, ${alreadyFan} users already fans` : '');
    }
    return {
      status, reason, totalMs: round(totalMs, 1), iterationsPerSec: round((p.iterations * 1000) / totalMs, 1), retries, finalCount,
      queries: {
        read_count: roundSummary(hist.read_count.summary()),
        check_fan: roundSummary(hist.check_fan.summary()),
        become_fan: roundSummary(hist.become_fan.summary()),
      },
      replicationDelayMs: lag ? spread(lag.samples.map((s) => s[1])) : null,
      commitToVisibleMs: probe ? spread(probe.samples.map((s) => s[1])) : null,
      catchUpMs, cacheStats: rotor ? cacheStats : null, benchReads, ttlHits: contender === 'ttl-cache' ? ttlHits : null,
      cpuMs, clientCores: round(clientCpuUs / 1000 / totalMs, 2), rotorRssBytes: rss, rotorAnswerMs, loopDelayMs,
      rotorCpuUsPerIteration: cpuMs.rotor === undefined ? null : round((cpuMs.rotor * 1000) / p.iterations, 1),
      rotorCpuUsPerIterationWarm: cpuMs.rotor === undefined || half.done < 0 ? null
        : round((cpuMs.rotor * 1000 - half.rotorUs) / (p.iterations - half.done), 1),
      series: { throughput, lag: lag?.samples ?? [], commitToVisible: probe?.samples ?? [] },
    };
  } finally {
    // The servers outlive the contender: they get every CPU back.
    if (p.pin !== null) for (const pid of [p.mariadbPid, process.pid, redis ? await redisPid(redis).catch(() => null) : null]) pinTo(pid, ALL_CPUS);
    await rotorConn?.end().catch(() => undefined);
    await rotor?.stop();
    await pipe?.stop();
    redis?.disconnect();
    await admin.end().catch(() => undefined);
  }
}

/** p50 and p99 (ms, upper bucket bounds) of Rotor's cache answers, from its Prometheus histogram. */
/** Rotor's /metrics text. */
async function scrape(adminUrl: string): Promise<string> {
  const res = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

/** Rotor's event-loop lag since the scrape before `text` (p50/p99, ms), from prom-client's default metrics. */
function loopLag(text: string): { p50: number; p99: number } | null {
  const at = (q: string): number | null => {
    const m = new RegExp(`^rotor_nodejs_eventloop_lag_${q}_seconds (\\S+)`, 'm').exec(text);
    return m === null ? null : round(Number(m[1]) * 1000, 3);
  };
  // The histogram's values include its sampling interval: lateness is above its least.
  const min = at('min'), p50 = at('p50'), p99 = at('p99');
  return min === null || p50 === null || p99 === null ? null : { p50: round(p50 - min, 3), p99: round(p99 - min, 3) };
}

function answerQuantiles(text: string): { p50: number; p99: number } | null {
  const buckets: Array<[number, number]> = [];
  for (const line of text.split('\n')) {
    const m = /^rotor_query_duration_seconds_bucket\{destination="cache",le="([^"]+)"\} (\d+)/.exec(line);
    if (m !== null) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  }
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const at = (q: number): number => round((buckets.find(([, n]) => n >= q * total)?.[0] ?? Infinity) * 1000, 4);
  return { p50: at(0.5), p99: at(0.99) };
}

const ALL_CPUS = `0-${Math.max(0, cpus().length - 1)}`;

/** Moves every thread of `pid` onto `cpuList` (taskset); a failure is noted, not fatal. */
function pinTo(pid: number | null | undefined, cpuList: string): void {
  if (pid === null || pid === undefined || pid <= 0) return;
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) note(`--pin: taskset ${cpuList} ${pid} failed: ${(r.stderr || r.error?.message || '').trim()}`);
}

async function redisPid(redis: Redis): Promise<number | null> {
  const m = /process_id:(\d+)/.exec(await redis.info('server'));
  return m === null ? null : Number(m[1]);
}

/** Runs every contender in `p.contenders` back to back; a contender's failure is recorded, not thrown. */
export async function runBlades(p: BladesParams): Promise<BladesReport> {
  const contenders: Record<string, BladesContenderResult> = {};
  const admin = await connect(p.upstreamUrl);
  const previous = await scalar(admin, 'SELECT @@GLOBAL.innodb_deadlock_detect').catch(() => NaN);
  const want = p.deadlockDetect ? 1 : 0;
  if (!Number.isNaN(previous) && previous !== want) {
    await admin.query(`SET GLOBAL innodb_deadlock_detect = ${want ? 'ON' : 'OFF'}`)
      .catch((e: Error) => note(`could not set innodb_deadlock_detect: ${e.message}`));
  }
  try {
    for (const c of p.contenders) {
      try {
        contenders[c] = await runContender(p, c);
      } catch (e) {
        contenders[c] = blank('failed', (e as Error).message.split('\n')[0]);
      }
      const r = contenders[c];
      if (r.status !== 'ok') note(`${c}: ${r.status.toUpperCase()}: ${r.reason}`);
    }
  } finally {
    if (!Number.isNaN(previous) && previous !== want) {
      await admin.query(`SET GLOBAL innodb_deadlock_detect = ${previous ? 'ON' : 'OFF'}`).catch(() => undefined);
    }
    await admin.end().catch(() => undefined);
  }
  const { upstreamUrl: _u, redisUrl: _r, mariadbPid: _p, ...rest } = p;
  return { params: { ...rest, finishedAt: new Date().toISOString() }, contenders };
}
