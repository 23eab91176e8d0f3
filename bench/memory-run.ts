/**
 * Phases 1 and 2 of the memory benchmark: one table of point-read rows, `SELECT payload FROM mem_big
 * WHERE id = ?` registered with a fresh Rotor per run, Zipf-distributed readers in worker processes,
 * and Rotor's memory sampled every second. A run may end with a cold scan: a second group of clients
 * reads ids no Zipf client ever reads, once each, while the Zipf clients go on.
 */
import { fileURLToPath } from 'node:url';
import type mysql from 'mysql2/promise';
import { note, ProgressBar } from './lib/progress.js';
import { cpuMicros, rssBytes } from './lib/proc.js';
import { KEY_BY_KEY, pick, RotorApiError, startRotor, type RotorProcess } from './lib/rotor.js';
import { connect, scalar } from './lib/servers.js';
import { round } from './lib/stats.js';
import { split, startWorkers, type Progress, type WorkerSet } from './lib/workers.js';
import { seededRandom } from './lib/zipf.js';
import type { MemoryWorkerInit, MemoryWorkerResult } from './memory-worker.js';

const WORKER = fileURLToPath(new URL('./memory-worker.ts', import.meta.url));

export const CACHE_SQL = 'SELECT payload FROM mem_big WHERE id = ?';
export const PAYLOAD_BYTES = 300;
export const POLICIES = ['admission', 'lru', 'random'] as const;
export type Policy = (typeof POLICIES)[number];

/** What a Zipf run needs to know about the data and the load. */
export interface ZipfLoad {
  readonly upstreamUrl: string;
  /** Rows the Zipf clients read (ids 1..rows). */
  readonly rows: number;
  /** Cold rows after them (ids rows+1..rows+scanRows), read only by the scan. */
  readonly scanRows: number;
  readonly skew: number;
  readonly clients: number;
  readonly scanClients: number;
  readonly workers: number;
  readonly seed: number;
}

/** One run: a fresh Rotor with this limit and policy, Zipf for `seconds`, then (optionally) a scan for `scanSeconds`. */
export interface ZipfRunSpec {
  readonly phase: 'budget' | 'policy';
  readonly label: string;
  /** --memory-limit in bytes, or null for Rotor's default. */
  readonly limitBytes: number | null;
  readonly policy: Policy;
  readonly seconds: number;
  readonly scanSeconds: number;
}

/** One sample, taken every second; null where Rotor does not report the figure. */
export interface MemorySample {
  readonly t: number;
  readonly rssBytes: number | null;
  readonly heapUsedBytes: number | null;
  /** Memory of C++ objects bound to JavaScript ones (Buffers among them), from process.memoryUsage(). */
  readonly externalBytes: number | null;
  readonly stateBytes: number | null;
  readonly evictions: number | null;
  readonly hits: number | null;
  readonly misses: number | null;
  readonly keys: number | null;
  readonly cacheBytes: number | null;
  readonly zipfReads: number;
  readonly scanReads: number;
}

export interface ScanResult {
  readonly reads: number;
  readonly readsPerSec: number;
  /** Keys the cache held when the scan began (the scan's reads against them say how much it could flush). */
  readonly keysHeld: number | null;
  /** The Zipf clients' hit rate over the `scanSeconds` before the scan and during it. */
  readonly hitRateBefore: number | null;
  readonly hitRateDuring: number | null;
  /** The scan read every cold row before its time was up. */
  readonly exhausted: boolean;
}

export interface ZipfRunResult {
  readonly spec: ZipfRunSpec;
  readonly status: 'ok' | 'failed';
  readonly reason?: string;
  /** From /api/status when Rotor reports it (the limit it actually applies). */
  readonly limitReported: number | null;
  readonly policyReported: string | null;
  readonly baselineRssBytes: number | null;
  readonly baselineHeapBytes: number | null;
  readonly samples: ReadonlyArray<MemorySample>;
  /** How long the Zipf-only part ran (longer than asked before a scan on a slow box), and when the first eviction was seen. */
  readonly zipfSeconds: number;
  readonly fullAfterSeconds: number | null;
  /** Zipf clients only, over the Zipf-only part of the run. */
  readonly readsPerSec: number;
  /** Hit rate over the second half of the Zipf-only part (steady state), and over all of it. */
  readonly hitRate: number | null;
  readonly hitRateAll: number | null;
  readonly evictionsPerSec: number | null;
  readonly rssGrowthMaxBytes: number | null;
  readonly rssGrowthFinalBytes: number | null;
  readonly stateBytesMax: number | null;
  readonly stateBytesFinal: number | null;
  readonly keysFinal: number | null;
  readonly cacheBytesFinal: number | null;
  /** Growth over the baseline after the load stopped and a full garbage collection. */
  readonly afterGc: {
    readonly rssGrowthBytes: number | null; readonly heapGrowthBytes: number | null; readonly externalGrowthBytes: number | null; readonly keys: number | null;
  };
  readonly readErrors: number;
  readonly firstReadError: string | null;
  readonly scan: ScanResult | null;
  readonly rotorCpuCores: number | null;
  readonly clientCores: number;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Creates `mem_big` with ids 1..total and ~300-byte random ASCII payloads in multi-row INSERTs;
 * a table that already holds exactly those ids is kept (every run starts a fresh Rotor anyway).
 */
export async function loadBigTable(conn: mysql.Connection, total: number, seed: number): Promise<{ loaded: boolean; seconds: number }> {
  const t0 = performance.now();
  const exists = await scalar(conn, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'mem_big'");
  if (exists === 1) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM mem_big');
    const r = rows[0];
    if (Number(r.n) === total && Number(r.lo) === 1 && Number(r.hi) === total) return { loaded: false, seconds: 0 };
  }
  await conn.query('DROP TABLE IF EXISTS mem_big');
  await conn.query('CREATE TABLE mem_big (id INT PRIMARY KEY, payload VARCHAR(300) NOT NULL)');
  const random = seededRandom(seed);
  const bar = new ProgressBar('load mem_big', total);
  const batch = 2000;
  for (let lo = 1; lo <= total; lo += batch) {
    const values: string[] = [];
    for (let id = lo; id < Math.min(lo + batch, total + 1); id++) {
      let payload = '';
      for (let i = 0; i < PAYLOAD_BYTES; i++) payload += ALPHABET[Math.floor(random() * ALPHABET.length)];
      values.push(`(${id},'${payload}')`);
    }
    await conn.query(`INSERT INTO mem_big VALUES ${values.join(',')}`);
    bar.update(lo + values.length - 1, 'rows');
  }
  bar.done(total, 'rows');
  await conn.query('ANALYZE TABLE mem_big');
  return { loaded: true, seconds: round((performance.now() - t0) / 1000, 1) };
}

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** Rotor's memory and cache figures now (each null when not reported). */
async function sample(rotor: RotorProcess, cacheId: string, t: number, zipfReads: number, scanReads: number): Promise<MemorySample> {
  const [status, cache] = await Promise.all([rotor.status().catch(() => null), rotor.cache(cacheId).catch(() => null)]);
  const stats = cache?.stats ?? {};
  const statusEvictions = num(pick(status, 'memory', 'evictions'));
  return {
    t: round(t, 2),
    rssBytes: rssBytes(rotor.pid) ?? num(pick(status, 'memory', 'rssBytes')),
    heapUsedBytes: num(pick(status, 'memory', 'heapUsedBytes')),
    externalBytes: num(pick(status, 'memory', 'externalBytes')),
    stateBytes: num(pick(status, 'memory', 'stateBytes')),
    evictions: statusEvictions ?? num(stats.evictions),
    hits: num(stats.hits), misses: num(stats.misses), keys: num(stats.keys), cacheBytes: num(stats.bytes),
    zipfReads, scanReads,
  };
}

/** The sample closest to time t. */
function at(samples: ReadonlyArray<MemorySample>, t: number): MemorySample | undefined {
  let best: MemorySample | undefined;
  for (const s of samples) if (!best || Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
  return best;
}

/**
 * The Zipf clients' hit rate between two samples. Scan reads are all misses (each cold id is read
 * once, by the scan only), so the Zipf clients' misses are Rotor's misses less the scan's reads.
 */
export function zipfHitRate(a: MemorySample | undefined, b: MemorySample | undefined): number | null {
  if (!a || !b || a.hits === null || b.hits === null || a.misses === null || b.misses === null) return null;
  const hits = b.hits - a.hits;
  const misses = b.misses - a.misses - (b.scanReads - a.scanReads);
  return hits + misses > 0 ? round(hits / (hits + Math.max(0, misses)), 4) : null;
}

/** A full garbage collection in Rotor (it runs with bench/lib/gc-on-signal.mjs), then a pause. */
export async function collectGarbage(pid: number, pauseMs = 500): Promise<void> {
  process.kill(pid, 'SIGUSR2');
  await sleep(pauseMs);
}

function maxOf(xs: ReadonlyArray<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? Math.max(...v) : null;
}

function failed(spec: ZipfRunSpec, reason: string): ZipfRunResult {
  return {
    spec, status: 'failed', reason, limitReported: null, policyReported: null, baselineRssBytes: null, baselineHeapBytes: null, samples: [],
    zipfSeconds: 0, fullAfterSeconds: null,
    readsPerSec: 0, hitRate: null, hitRateAll: null, evictionsPerSec: null, rssGrowthMaxBytes: null, rssGrowthFinalBytes: null,
    stateBytesMax: null, stateBytesFinal: null, keysFinal: null, cacheBytesFinal: null,
    afterGc: { rssGrowthBytes: null, heapGrowthBytes: null, externalGrowthBytes: null, keys: null }, readErrors: 0, firstReadError: null, scan: null,
    rotorCpuCores: null, clientCores: 0,
  };
}

async function startGroup(mode: 'zipf' | 'scan', load: ZipfLoad, url: string, clients: number, workers: number, progress: Progress[]): Promise<WorkerSet<MemoryWorkerResult>> {
  const inits: MemoryWorkerInit[] = split(clients, Math.min(workers, clients)).map((n, w) => ({
    mode, url, clients: n, rows: load.rows, skew: load.skew, seed: load.seed + w,
    scanFrom: load.rows + load.scanRows, scanTo: load.rows + 1,
  }));
  inits.forEach((_, i) => {
    progress[i] = { done: 0, retries: 0 };
  });
  return startWorkers<MemoryWorkerInit, MemoryWorkerResult>(WORKER, inits, (i, p) => {
    progress[i] = p;
  });
}

/** Runs one spec end to end; a failure is recorded in the result, not thrown. */
export async function runZipf(load: ZipfLoad, spec: ZipfRunSpec): Promise<ZipfRunResult> {
  let rotor: RotorProcess | null = null;
  const groups: WorkerSet<MemoryWorkerResult>[] = [];
  try {
    rotor = await startRotor(load.upstreamUrl, {
      extraArgs: [...KEY_BY_KEY, ...(spec.limitBytes === null ? [] : ['--memory-limit', String(spec.limitBytes)])],
      env: { ROTOR_EVICTION_POLICY: spec.policy },
    });
    let cacheId: string;
    try {
      cacheId = await rotor.registerCache(CACHE_SQL, new URL(load.upstreamUrl).pathname.slice(1) || undefined);
    } catch (e) {
      if (e instanceof RotorApiError && e.status === 422) return failed(spec, `not cacheable (422): ${e.message}`);
      throw e;
    }
    const status = await rotor.status();
    await collectGarbage(rotor.pid);
    const base = await sample(rotor, cacheId, 0, 0, 0);

    const zipfProgress: Progress[] = [];
    const scanProgress: Progress[] = [];
    groups.push(await startGroup('zipf', load, rotor.url, load.clients, load.workers, zipfProgress));
    if (spec.scanSeconds > 0) groups.push(await startGroup('scan', load, rotor.url, load.scanClients, 1, scanProgress));
    const [zipf, scan] = groups;
    const total = spec.seconds + spec.scanSeconds;
    const bar = new ProgressBar(spec.label, total);
    // Before a scan the Zipf part runs until the budget has been evicting for `scanSeconds` (so the
    // "before" window sees a full cache, however slow the box), at least `seconds`, at most 3×.
    const maxZipf = spec.scanSeconds > 0 ? spec.seconds * 3 : spec.seconds;
    let zipfSeconds: number | null = null;
    let fullAt: number | null = null;
    const samples: MemorySample[] = [{ ...base }];
    const zipfReads = (): number => zipfProgress.reduce((s, p) => s + p.done, 0);
    const scanReads = (): number => scanProgress.reduce((s, p) => s + p.done, 0);
    const selfCpu = process.cpuUsage();
    const rotorCpu0 = cpuMicros(rotor.pid);
    const t0 = performance.now();
    zipf.go();
    for (let tick = 1; ; tick++) {
      await sleep(Math.max(0, t0 + tick * 1000 - performance.now()));
      const s = await sample(rotor, cacheId, (performance.now() - t0) / 1000, zipfReads(), scanReads());
      samples.push(s);
      if (fullAt === null && s.evictions !== null && s.evictions > (base.evictions ?? 0)) fullAt = s.t;
      const growth = s.rssBytes !== null && base.rssBytes !== null ? (s.rssBytes - base.rssBytes) / 2 ** 20 : null;
      bar.update(zipfSeconds === null ? Math.min(tick, spec.seconds) : spec.seconds + tick - zipfSeconds,
        `${Math.round(s.zipfReads / s.t)} reads/s, RSS +${growth === null ? '?' : growth.toFixed(0)} MiB${zipfSeconds !== null ? ', scanning' : ''}`);
      if (zipfSeconds === null) {
        const warm = !scan || (fullAt !== null && s.t >= fullAt + spec.scanSeconds) || tick >= maxZipf;
        if (tick < spec.seconds || !warm) continue;
        zipfSeconds = tick;
        if (!scan) break;
        // the sample closing the Zipf-only part was just taken: the scan starts right after it
        scan.go();
      } else if (tick >= zipfSeconds + spec.scanSeconds) {
        break;
      }
    }
    const zipfT = zipfSeconds ?? spec.seconds;
    const elapsed = (performance.now() - t0) / 1000;
    const rotorCpu1 = cpuMicros(rotor.pid);
    for (const g of groups) g.stop();
    const results = await Promise.all(groups.map((g) => g.results));
    bar.done(total);
    const self = process.cpuUsage(selfCpu);
    const clientUs = results.flat().reduce((s, r) => s + r.cpuMicros, 0) + self.user + self.system;

    await collectGarbage(rotor.pid, 1000);
    await collectGarbage(rotor.pid, 500);
    const gc = await sample(rotor, cacheId, elapsed, zipfReads(), scanReads());

    const zipfEnd = at(samples, zipfT);
    const zipfOnly = samples.filter((s) => s.t <= zipfT + 0.5);
    const last = samples[samples.length - 1];
    const growth = (s: MemorySample): number | null => (s.rssBytes !== null && base.rssBytes !== null ? s.rssBytes - base.rssBytes : null);
    const evictionsPerSec = zipfEnd && zipfEnd.evictions !== null && base.evictions !== null ? round((zipfEnd.evictions - base.evictions) / zipfEnd.t, 1) : null;
    let scanResult: ScanResult | null = null;
    if (scan) {
      const scanEnd = last;
      const scanStart = zipfEnd;
      scanResult = {
        reads: scanEnd.scanReads,
        readsPerSec: round(scanEnd.scanReads / Math.max(0.001, scanEnd.t - (scanStart?.t ?? zipfT)), 1),
        keysHeld: scanStart?.keys ?? null,
        hitRateBefore: zipfHitRate(at(samples, zipfT - spec.scanSeconds), scanStart),
        hitRateDuring: zipfHitRate(scanStart, scanEnd),
        exhausted: results[1]?.some((r) => r.result.exhausted) ?? false,
      };
    }
    const errors = results.flat().reduce((s, r) => s + r.result.errors, 0);
    return {
      spec, status: 'ok',
      limitReported: num(pick(status, 'memory', 'limitBytes')),
      policyReported: typeof pick(status, 'memory', 'policy') === 'string' ? (pick(status, 'memory', 'policy') as string) : null,
      baselineRssBytes: base.rssBytes, baselineHeapBytes: base.heapUsedBytes, samples,
      readsPerSec: zipfEnd ? round(zipfEnd.zipfReads / zipfEnd.t, 1) : 0,
      zipfSeconds: zipfT,
      fullAfterSeconds: fullAt === null ? null : round(fullAt, 1),
      hitRate: zipfHitRate(at(samples, zipfT / 2), zipfEnd),
      hitRateAll: zipfHitRate(base, zipfEnd),
      evictionsPerSec,
      rssGrowthMaxBytes: maxOf(samples.map(growth)),
      rssGrowthFinalBytes: zipfEnd ? growth(zipfEnd) : null,
      stateBytesMax: maxOf(samples.map((s) => s.stateBytes)),
      stateBytesFinal: zipfEnd?.stateBytes ?? null,
      keysFinal: zipfEnd?.keys ?? null,
      cacheBytesFinal: zipfEnd?.cacheBytes ?? null,
      afterGc: {
        rssGrowthBytes: growth(gc),
        heapGrowthBytes: gc.heapUsedBytes !== null && base.heapUsedBytes !== null ? gc.heapUsedBytes - base.heapUsedBytes : null,
        externalGrowthBytes: gc.externalBytes !== null && base.externalBytes !== null ? gc.externalBytes - base.externalBytes : null,
        keys: gc.keys,
      },
      readErrors: errors,
      firstReadError: results.flat().find((r) => r.result.firstError)?.result.firstError ?? null,
      scan: scanResult,
      rotorCpuCores: rotorCpu0 !== null && rotorCpu1 !== null ? round((rotorCpu1 - rotorCpu0) / 1e6 / elapsed, 2) : null,
      clientCores: round(clientUs / 1e6 / elapsed, 2),
      ...(zipfOnly.length < 2 ? { status: 'failed' as const, reason: 'no samples' } : {}),
    };
  } catch (e) {
    for (const g of groups) g.kill();
    const reason = (e as Error).message.split('\n')[0];
    note(`${spec.label}: FAILED: ${reason}`);
    return failed(spec, reason);
  } finally {
    await rotor?.stop();
  }
}

/** Creates and loads mem_big in the upstream URL's database (kept when it already holds the right ids). */
export async function prepareBigTable(upstreamUrl: string, load: Pick<ZipfLoad, 'rows' | 'scanRows' | 'seed'>): Promise<{ loaded: boolean; seconds: number }> {
  const conn = await connect(upstreamUrl);
  try {
    return await loadBigTable(conn, load.rows + load.scanRows, load.seed);
  } finally {
    await conn.end();
  }
}
