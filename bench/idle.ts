/**
 * `npm run bench:idle`: what an idle client connection costs Rotor (the target: 8,000 concurrent
 * client connections held open, ≤ 16 KiB per idle client connection). Rotor starts in front of MariaDB; a
 * few client processes open connections through it in steps (0, 1,000, 2,000, 4,000, 8,000 by
 * default) and leave them idle; at each step Rotor's RSS and V8 heap are sampled and the cost per
 * connection is the slope between steps. Each client connection includes Rotor's own upstream
 * session (one per client), so MariaDB's memory is recorded alongside. At the end every connection
 * must answer `SELECT 1` through Rotor. Writes bench/results/idle.{json,md,svg}.
 *
 *   npm run bench:idle                                   # 8,000 connections
 *   npm run bench:idle -- --clients 2000 --steps 0,500,1000,2000
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import type { FromIdleWorker, ToIdleWorker } from './idle-worker.js';
import { fmt, table } from './lib/markdown.js';
import { cpuMicros, rssBytes } from './lib/proc.js';
import { note, ProgressBar } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { startRotor, type RotorProcess } from './lib/rotor.js';
import { benchServers } from './lib/servers.js';
import { round } from './lib/stats.js';
import { barChart, lineChart, svgDocument } from './lib/svg.js';
import { split } from './lib/workers.js';

const TARGET_KIB = 16;
const KIB = 1024;
const MIB = 1024 * 1024;

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}
function steps(v: string): number[] {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.some((n) => !Number.isInteger(n) || n < 0)) throw new InvalidArgumentError('must be a comma-separated list of connection counts');
  return xs;
}

const opts = new Command('bench:idle')
  .description('Memory per idle client connection held through Rotor')
  .option('--clients <n>', 'connections at the last step', positive, 8000)
  .option('--steps <list>', 'connection counts to measure at (default 0, 1/8, 1/4, 1/2 and all of --clients)', steps)
  .option('--workers <n>', 'client processes (default: one per 2,000 connections, 1-4)', positive)
  .option('--settle <s>', 'seconds to leave the connections idle before sampling', positive, 3)
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench", started if needed)')
  .option('--json <path>', 'where to write the JSON result (default bench/results/idle.json)')
  .option('--name <base>', 'base name of the files under bench/results/', 'idle')
  .parse()
  .opts<{ clients: number; steps?: number[]; workers?: number; settle: number; upstream?: string; json?: string; name: string }>();

const stepList = [...new Set([0, ...(opts.steps ?? [0, opts.clients / 8, opts.clients / 4, opts.clients / 2].map(Math.round)), opts.clients])]
  .filter((n) => n <= opts.clients)
  .sort((a, b) => a - b);
const workerCount = opts.workers ?? Math.max(1, Math.min(4, Math.ceil(opts.clients / 2000)));

// ---- client processes ----

interface IdleWorker {
  readonly child: ChildProcess;
  request(msg: ToIdleWorker): Promise<FromIdleWorker>;
}

function startWorker(): IdleWorker {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'idle-worker.ts');
  const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let pending: { resolve: (m: FromIdleWorker) => void; reject: (e: Error) => void } | null = null;
  child.on('message', (msg: FromIdleWorker) => {
    const p = pending;
    pending = null;
    if (!p) return;
    if (msg.type === 'error') p.reject(new Error(`client process ${child.pid}: ${msg.message}`));
    else p.resolve(msg);
  });
  child.on('exit', (code, sig) => pending?.reject(new Error(`client process ${child.pid} exited (${sig ?? code})`)));
  return {
    child,
    request: (msg) => new Promise((resolve, reject) => {
      pending = { resolve, reject };
      child.send(msg);
    }),
  };
}

// ---- measurement ----

interface Sample {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly mariadbRssBytes: number | null;
}

interface Step {
  readonly connections: number;
  /** Rotor's own count of connected clients when sampled. */
  readonly rotorClients: number;
  readonly openSeconds: number;
  /** Medians over the samples, each taken just after a full garbage collection. */
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly mariadbRssBytes: number | null;
  /** Rotor's CPU, % of one core, over the settle time with every connection idle. */
  readonly cpuPercent: number | null;
  readonly samples: ReadonlyArray<Sample>;
}

async function statusOf(rotor: RotorProcess): Promise<{ clients: number; rss: number; heapUsed: number }> {
  const s = await rotor.status();
  const mem = (s.memory ?? {}) as { rssBytes?: number; heapUsedBytes?: number };
  return { clients: Number(s.clients ?? NaN), rss: mem.rssBytes ?? rssBytes(rotor.pid) ?? NaN, heapUsed: mem.heapUsedBytes ?? NaN };
}

/** Waits until Rotor counts `n` clients (sessions close asynchronously), at most 60 s. */
async function waitForClients(rotor: RotorProcess, n: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  let clients = NaN;
  while (Date.now() < deadline) {
    clients = (await statusOf(rotor)).clients;
    if (clients === n || Number.isNaN(clients)) return clients;
    await sleep(200);
  }
  return clients;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function median(xs: ReadonlyArray<number>): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Least-squares slope of y over x (bytes per connection), or null with fewer than two points. */
function slope(points: ReadonlyArray<readonly [number, number]>): number | null {
  if (points.length < 2) return null;
  const mx = points.reduce((s, p) => s + p[0], 0) / points.length;
  const my = points.reduce((s, p) => s + p[1], 0) / points.length;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return sxx === 0 ? null : points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / sxx;
}

// ---- run ----

const servers = await benchServers({ upstream: opts.upstream, needRedis: false });
note(`upstream ${servers.upstreamUrl}; steps ${stepList.join(', ')}; ${workerCount} client process(es)`);
// Rotor runs with a preload that collects garbage on SIGUSR2, so each step samples live memory.
const gcPreload = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'lib', 'gc-on-signal.mjs')).href;
process.env.ROTOR_BENCH_NODE_FLAGS = `${process.env.ROTOR_BENCH_NODE_FLAGS ?? ''} --expose-gc --import ${gcPreload}`;
const rotor = await startRotor(servers.upstreamUrl, { extraArgs: ['--max-clients', String(Math.max(9000, opts.clients + 100))] });
const openFilesLimit = (await rotor.status()).openFilesLimit ?? null;
const workers = Array.from({ length: workerCount }, startWorker);
const results: Step[] = [];
let check: { ok: number; failed: number; firstError: string | null } | null = null;
let failure: string | null = null;
const bar = new ProgressBar('idle', opts.clients);
try {
  for (const n of stepList) {
    bar.update(results.at(-1)?.connections ?? 0, `opening to ${n}`);
    const started = performance.now();
    const shares = split(n, workerCount);
    const opened = await Promise.all(workers.map((w, i) => w.request({ type: 'open', url: rotor.url, target: shares[i] })));
    const openSeconds = (performance.now() - started) / 1000;
    const lost = opened.reduce((s, m) => s + (m.type === 'opened' ? m.lost : 0), 0);
    if (lost > 0) note(`\n${lost} idle connection(s) dropped before step ${n}`);
    const rotorClients = await waitForClients(rotor, n);
    const cpuBefore = cpuMicros(rotor.pid);
    await sleep(opts.settle * 1000);
    const cpuAfter = cpuMicros(rotor.pid);
    const cpuPercent = cpuBefore === null || cpuAfter === null ? null : round((cpuAfter - cpuBefore) / (opts.settle * 1e4), 2);
    // A first collection and a pause: V8 returns freed pages to the OS only after a while.
    process.kill(rotor.pid, 'SIGUSR2');
    await sleep(1000);
    const samples: Sample[] = [];
    for (let i = 0; i < 5; i++) {
      process.kill(rotor.pid, 'SIGUSR2');
      await sleep(300);
      const s = await statusOf(rotor);
      samples.push({ rssBytes: s.rss, heapUsedBytes: s.heapUsed, mariadbRssBytes: servers.mariadbPid ? rssBytes(servers.mariadbPid) : null });
      await sleep(200);
    }
    const mariadb = samples.map((s) => s.mariadbRssBytes).filter((x): x is number => x !== null);
    results.push({
      connections: n, rotorClients, openSeconds: round(openSeconds, 2),
      rssBytes: median(samples.map((s) => s.rssBytes)), heapUsedBytes: median(samples.map((s) => s.heapUsedBytes)),
      mariadbRssBytes: mariadb.length ? median(mariadb) : null, cpuPercent, samples,
    });
    bar.update(n, `${n} idle, Rotor RSS ${fmt(results.at(-1)!.rssBytes / MIB, 1)} MiB`);
  }
  bar.done(opts.clients, `checking ${opts.clients} connections`);
  const checks = await Promise.all(workers.map((w) => w.request({ type: 'check' })));
  check = { ok: 0, failed: 0, firstError: null };
  for (const c of checks) {
    if (c.type !== 'checked') continue;
    check.ok += c.ok;
    check.failed += c.failed;
    check.firstError ??= c.firstError;
  }
} catch (e) {
  failure = (e as Error).message;
  note(`\nFAILED: ${failure}`);
} finally {
  await Promise.all(workers.map((w) => (w.child.connected ? w.request({ type: 'close' }).catch(() => undefined) : undefined)));
  for (const w of workers) if (w.child.exitCode === null) w.child.kill();
  await rotor.stop();
}

// ---- report ----

const perConn = (key: 'rssBytes' | 'heapUsedBytes' | 'mariadbRssBytes', i: number): number | null => {
  const a = results[i - 1];
  const b = results[i];
  const va = a?.[key];
  const vb = b?.[key];
  if (!a || va === null || vb === null || va === undefined || vb === undefined || b.connections === a.connections) return null;
  return (vb - va) / (b.connections - a.connections) / KIB;
};
const fit = (key: 'rssBytes' | 'heapUsedBytes' | 'mariadbRssBytes'): number | null => {
  const s = slope(results.filter((r) => r[key] !== null).map((r) => [r.connections, r[key] as number] as const));
  return s === null ? null : round(s / KIB, 2);
};
const summary = {
  rssKiBPerConnection: fit('rssBytes'),
  heapKiBPerConnection: fit('heapUsedBytes'),
  mariadbRssKiBPerConnection: fit('mariadbRssBytes'),
  targetKiB: TARGET_KIB,
  targetMet: fit('rssBytes') !== null ? (fit('rssBytes') as number) <= TARGET_KIB : null,
  answered: check?.ok ?? 0,
  failedChecks: check?.failed ?? null,
  firstCheckError: check?.firstError ?? null,
};
const all = check !== null && check.failed === 0 && check.ok === opts.clients;

const md = [
  `### Idle client connections through Rotor: ${opts.clients.toLocaleString('en-US')} connections, ${workerCount} client process(es), ${opts.settle} s idle before each sample`,
  '',
  table(
    ['connections', 'Rotor clients', 'open s', 'Rotor idle CPU %', 'Rotor RSS MiB', 'RSS KiB/conn (step)', 'Rotor heap MiB', 'heap KiB/conn (step)', 'MariaDB RSS MiB', 'MariaDB KiB/conn (step)'],
    results.map((r, i) => [
      r.connections, r.rotorClients, fmt(r.openSeconds, 1), fmt(r.cpuPercent, 2), fmt(r.rssBytes / MIB, 1), fmt(perConn('rssBytes', i), 1),
      fmt(r.heapUsedBytes / MIB, 1), fmt(perConn('heapUsedBytes', i), 1),
      r.mariadbRssBytes === null ? '–' : fmt(r.mariadbRssBytes / MIB, 1), fmt(perConn('mariadbRssBytes', i), 1),
    ]),
  ),
  '',
  `Per idle client connection (least-squares slope over the steps): **Rotor RSS ${fmt(summary.rssKiBPerConnection, 1)} KiB**, ` +
    `V8 heap ${fmt(summary.heapKiBPerConnection, 1)} KiB, MariaDB RSS ${fmt(summary.mariadbRssKiBPerConnection, 1)} KiB. ` +
    `Target ≤ ${TARGET_KIB} KiB per idle client connection: **${summary.targetMet === null ? 'not measured' : summary.targetMet ? 'met' : 'not met'}**.`,
  '',
  `Check at the end: ${check ? `${check.ok.toLocaleString('en-US')} of ${opts.clients.toLocaleString('en-US')} connections answered \`SELECT 1\` through Rotor` +
    `${check.failed ? ` (${check.failed} failed: ${check.firstError})` : ''}` : 'not run'}.`,
  '',
  'Each client connection holds a Rotor session and its own upstream session to MariaDB (two sockets in Rotor). ' +
    '"Rotor idle CPU" is Rotor\'s user + system time from /proc over the settle time, as % of one core. ' +
    'RSS and V8 heap used are medians of 5 samples from /api/status, each taken just after a full garbage collection in Rotor; "(step)" is the slope from the previous row. ' +
    `Rotor's open-files limit: ${openFilesLimit ?? 'unknown'}.`,
  ...(failure ? ['', `- **failed**: ${failure}`] : []),
].join('\n');

const finishedAt = new Date().toISOString();
const panels = [
  lineChart('Rotor memory vs idle client connections', 'idle client connections', 'MiB', [
    { name: 'Rotor RSS', points: results.map((r) => [r.connections, r.rssBytes / MIB] as const) },
    { name: 'Rotor V8 heap used', points: results.map((r) => [r.connections, r.heapUsedBytes / MIB] as const) },
    ...(results.every((r) => r.mariadbRssBytes !== null)
      ? [{ name: 'MariaDB RSS', points: results.map((r) => [r.connections, (r.mariadbRssBytes as number) / MIB] as const) }]
      : []),
  ]),
  barChart(`KiB per idle connection between steps (target ≤ ${TARGET_KIB} KiB, Rotor RSS)`, 'KiB',
    results.slice(1).map((r, i) => `${results[i].connections}→${r.connections}`), ['Rotor RSS', 'Rotor heap', 'MariaDB RSS'],
    [results.slice(1).map((_, i) => perConn('rssBytes', i + 1)), results.slice(1).map((_, i) => perConn('heapUsedBytes', i + 1)),
      results.slice(1).map((_, i) => perConn('mariadbRssBytes', i + 1))]),
];
const json = {
  params: { ...opts, steps: stepList, workers: workerCount, machine: machine(), finishedAt, openFilesLimit },
  summary, allAnswered: all, failure, steps: results,
};
process.stdout.write(`${md}\n`);
const files = writeReport(opts.name, { json, markdown: md, svg: svgDocument(panels, `idle connections, ${finishedAt}`) }, opts.json);
note(`wrote ${files.join(', ')}`);
process.exit(all && !failure ? 0 : 1);
