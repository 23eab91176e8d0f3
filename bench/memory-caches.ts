/**
 * Phase 3 of the memory benchmark: what a registered but unused cache costs. A database of its own
 * with N small tables, one Rotor (`--expose-gc`, `--data-dir` in a temporary directory), one
 * `SELECT v FROM mem_caches.mem_c<i> WHERE id = ?` registered per table through the admin API; heap
 * and RSS after a full collection every `step` registrations, the time of each successful POST,
 * Rotor's idle CPU before and after, and after `DROP DATABASE` whether every cache is `dropped`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { note, ProgressBar } from './lib/progress.js';
import { cpuMicros, rssBytes } from './lib/proc.js';
import { KEY_BY_KEY, RotorApiError, startRotor, type RotorProcess } from './lib/rotor.js';
import { connect } from './lib/servers.js';
import { percentile, round } from './lib/stats.js';
import { collectGarbage } from './memory-run.js';

export const CACHES_DB = 'mem_caches';
/** Rotor refuses registrations past this many caches (src/views/registration-limit.ts). */
export const MAX_CACHES = 1000;

export interface CachesParams {
  readonly upstreamUrl: string;
  readonly caches: number;
  readonly step: number;
  readonly idleSeconds: number;
}

/** Memory after a full collection with this many caches registered (medians of 3 samples). */
export interface CacheStep {
  readonly caches: number;
  readonly rssBytes: number | null;
  readonly heapUsedBytes: number | null;
  /** Median time of the registrations since the previous step. */
  readonly registrationP50Ms: number | null;
}

export interface CachesResult {
  readonly status: 'ok' | 'failed';
  readonly reason?: string;
  readonly caches: number;
  readonly registered: number;
  readonly createTablesSeconds: number;
  readonly steps: ReadonlyArray<CacheStep>;
  /** Least-squares slopes over the steps, bytes per registered cache. */
  readonly rssPerCacheBytes: number | null;
  readonly heapPerCacheBytes: number | null;
  /** Milliseconds of each successful POST /api/caches, in order. */
  readonly registrationMs: ReadonlyArray<number>;
  /** Mean and median of the first and of the last 100 registrations. */
  readonly firstMeanMs: number | null;
  readonly lastMeanMs: number | null;
  readonly firstMedianMs: number | null;
  readonly lastMedianMs: number | null;
  /**
   * A line fitted through the steps' medians (robust to the first registrations' warm-up and to
   * single slow ones): its value at the first and the last step, and its rise per 100 caches.
   */
  readonly fitted: { readonly firstMs: number; readonly lastMs: number; readonly msPer100: number } | null;
  /** Refusals (HTTP 429) waited out. */
  readonly throttled: number;
  /** Rotor's CPU, % of one core, over `idleSeconds` with nothing to do. */
  readonly idleCpu: { readonly before: number | null; readonly registered: number | null; readonly dropped: number | null };
  /** After DROP DATABASE: how /api/caches lists the caches, and how long until all were dropped. */
  readonly afterDrop: { readonly listed: number; readonly dropped: number; readonly statuses: Readonly<Record<string, number>>; readonly seconds: number | null } | null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function mean(xs: ReadonlyArray<number>): number | null {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
}

/** Least-squares slope of y over x, or null with fewer than two points. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number | null {
  if (points.length < 2) return null;
  const mx = points.reduce((s, p) => s + p[0], 0) / points.length;
  const my = points.reduce((s, p) => s + p[1], 0) / points.length;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return sxx === 0 ? null : points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / sxx;
}

async function memoryAfterGc(rotor: RotorProcess, caches: number, registrationMs: ReadonlyArray<number>): Promise<CacheStep> {
  await collectGarbage(rotor.pid, 1000);
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < 3; i++) {
    await collectGarbage(rotor.pid, 300);
    const mem = (await rotor.status()).memory as { heapUsedBytes?: number } | undefined;
    const r = rssBytes(rotor.pid);
    if (r !== null) rss.push(r);
    if (typeof mem?.heapUsedBytes === 'number') heap.push(mem.heapUsedBytes);
  }
  return {
    caches, rssBytes: rss.length ? percentile(rss, 0.5) : null, heapUsedBytes: heap.length ? percentile(heap, 0.5) : null,
    registrationP50Ms: registrationMs.length ? round(percentile(registrationMs, 0.5), 2) : null,
  };
}

/** Rotor's CPU as % of one core over `seconds` of doing nothing. */
async function idleCpu(pid: number, seconds: number, bar: ProgressBar, label: string): Promise<number | null> {
  const a = cpuMicros(pid);
  const t0 = performance.now();
  for (let s = 1; s <= seconds; s++) {
    await sleep(Math.max(0, t0 + s * 1000 - performance.now()));
    bar.update(s, label);
  }
  const b = cpuMicros(pid);
  return a === null || b === null ? null : round(((b - a) / 1e6 / ((performance.now() - t0) / 1000)) * 100, 2);
}

/** Registers one cache, waiting out rate-limit refusals; resolves to the successful POST's milliseconds. */
async function register(rotor: RotorProcess, sql: string, onThrottled: () => void): Promise<number> {
  for (;;) {
    const t = performance.now();
    try {
      await rotor.registerCache(sql);
      return performance.now() - t;
    } catch (e) {
      if (!(e instanceof RotorApiError) || e.status !== 429) throw e;
      onThrottled();
      // 20 registrations per second refill one token every 50 ms
      await sleep(60);
    }
  }
}

async function createTables(upstreamUrl: string, n: number): Promise<number> {
  const t0 = performance.now();
  const conn = await connect(upstreamUrl);
  try {
    await conn.query(`DROP DATABASE IF EXISTS ${CACHES_DB}`);
    await conn.query(`CREATE DATABASE ${CACHES_DB}`);
    const bar = new ProgressBar('create tables', n);
    for (let lo = 1; lo <= n; lo += 50) {
      const stmts: string[] = [];
      for (let i = lo; i < Math.min(lo + 50, n + 1); i++) stmts.push(`CREATE TABLE ${CACHES_DB}.mem_c${i} (id INT PRIMARY KEY, v VARCHAR(20))`);
      await conn.query(stmts.join(';'));
      bar.update(lo + stmts.length - 1);
    }
    bar.done(n);
  } finally {
    await conn.end();
  }
  return round((performance.now() - t0) / 1000, 1);
}

/** Runs phase 3; a failure is recorded in the result, not thrown. */
export async function runCaches(p: CachesParams): Promise<CachesResult> {
  const caches = Math.min(p.caches, MAX_CACHES);
  if (caches < p.caches) note(`--caches ${p.caches}: Rotor holds at most ${MAX_CACHES} caches; registering ${MAX_CACHES}`);
  const steps: CacheStep[] = [];
  const registrationMs: number[] = [];
  const idle: { before: number | null; registered: number | null; dropped: number | null } = { before: null, registered: null, dropped: null };
  let throttled = 0;
  let afterDrop: CachesResult['afterDrop'] = null;
  let createTablesSeconds = 0;
  let failure: string | null = null;
  const dataDir = mkdtempSync(join(tmpdir(), 'rotor-bench-memory-'));
  let rotor: RotorProcess | null = null;
  try {
    // Tables first, so the Rotor measured idle has no DDL of its own to catch up on.
    createTablesSeconds = await createTables(p.upstreamUrl, caches);
    rotor = await startRotor(p.upstreamUrl, { extraArgs: ['--data-dir', dataDir, ...KEY_BY_KEY] });
    const idleBar = new ProgressBar('idle CPU', p.idleSeconds);
    await sleep(2000);
    steps.push(await memoryAfterGc(rotor, 0, []));
    idle.before = await idleCpu(rotor.pid, p.idleSeconds, idleBar, 'before registering');
    idleBar.done(p.idleSeconds, `${idle.before ?? '?'} %`);

    const bar = new ProgressBar('register', caches);
    for (let i = 1; i <= caches; i++) {
      registrationMs.push(await register(rotor, `SELECT v FROM ${CACHES_DB}.mem_c${i} WHERE id = ?`, () => throttled++));
      bar.update(i, `${fmt(registrationMs[i - 1])} ms`);
      if (i % p.step === 0 || i === caches) {
        steps.push(await memoryAfterGc(rotor, i, registrationMs.slice(steps[steps.length - 1].caches)));
        const s = steps[steps.length - 1];
        bar.update(i, `RSS ${s.rssBytes === null ? '?' : (s.rssBytes / 2 ** 20).toFixed(1)} MiB`);
      }
    }
    bar.done(caches);

    const idleBar2 = new ProgressBar('idle CPU', p.idleSeconds);
    idle.registered = await idleCpu(rotor.pid, p.idleSeconds, idleBar2, `${caches} caches registered`);
    idleBar2.done(p.idleSeconds, `${idle.registered ?? '?'} %`);

    const conn = await connect(p.upstreamUrl);
    const dropAt = performance.now();
    try {
      await conn.query(`DROP DATABASE ${CACHES_DB}`);
    } finally {
      await conn.end();
    }
    afterDrop = await waitDropped(rotor, caches, dropAt);
    const idleBar3 = new ProgressBar('idle CPU', p.idleSeconds);
    idle.dropped = await idleCpu(rotor.pid, p.idleSeconds, idleBar3, 'after DROP DATABASE');
    idleBar3.done(p.idleSeconds, `${idle.dropped ?? '?'} %`);
  } catch (e) {
    failure = (e as Error).message.split('\n')[0];
    note(`\ncaches: FAILED: ${failure}`);
  } finally {
    await rotor?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const fit = (key: 'rssBytes' | 'heapUsedBytes'): number | null => {
    const s = slope(steps.filter((x) => x[key] !== null).map((x) => [x.caches, x[key] as number] as const));
    return s === null ? null : round(s, 0);
  };
  const window = Math.min(100, Math.floor(registrationMs.length / 2));
  const medians = steps.filter((x) => x.registrationP50Ms !== null).map((x) => [x.caches, x.registrationP50Ms as number] as const);
  const rise = slope(medians);
  const mx = medians.reduce((t, m) => t + m[0], 0) / Math.max(1, medians.length);
  const my = medians.reduce((t, m) => t + m[1], 0) / Math.max(1, medians.length);
  const line = (x: number): number => my + (rise ?? 0) * (x - mx);
  return {
    status: failure ? 'failed' : 'ok', ...(failure ? { reason: failure } : {}),
    caches, registered: registrationMs.length, createTablesSeconds, steps,
    rssPerCacheBytes: fit('rssBytes'), heapPerCacheBytes: fit('heapUsedBytes'),
    registrationMs: registrationMs.map((ms) => round(ms, 2)),
    firstMeanMs: window ? round(mean(registrationMs.slice(0, window)) ?? 0, 2) : null,
    lastMeanMs: window ? round(mean(registrationMs.slice(-window)) ?? 0, 2) : null,
    firstMedianMs: window ? round(percentile(registrationMs.slice(0, window), 0.5), 2) : null,
    lastMedianMs: window ? round(percentile(registrationMs.slice(-window), 0.5), 2) : null,
    fitted: rise === null ? null : { firstMs: round(line(medians[0][0]), 2), lastMs: round(line(medians[medians.length - 1][0]), 2), msPer100: round(rise * 100, 2) },
    throttled, idleCpu: idle, afterDrop,
  };
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? '?' : ms.toFixed(1);
}

/** Polls /api/caches until every cache is `dropped` (at most 30 s); what it lists at the end. */
async function waitDropped(rotor: RotorProcess, caches: number, since: number): Promise<NonNullable<CachesResult['afterDrop']>> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const res = await fetch(`${rotor.adminUrl}/api/caches`, { signal: AbortSignal.timeout(30_000) });
    const list = (await res.json()) as ReadonlyArray<{ database?: string; sql?: string; status?: string }>;
    const ours = list.filter((c) => c.database === CACHES_DB || (c.sql ?? '').includes(`${CACHES_DB}.`));
    const statuses: Record<string, number> = {};
    for (const c of ours) statuses[c.status ?? 'unknown'] = (statuses[c.status ?? 'unknown'] ?? 0) + 1;
    const dropped = statuses.dropped ?? 0;
    if (dropped === caches || performance.now() > deadline) {
      return { listed: ours.length, dropped, statuses, seconds: dropped === caches ? round((performance.now() - since) / 1000, 1) : null };
    }
    await sleep(250);
  }
}
