/**
 * `npm run bench:scale`: what `--workers N` buys, and what warm start buys a new instance.
 *
 * 1. Cached point reads (sysbench oltp_point_select, `SELECT c FROM sbtest1 WHERE id = ?` registered
 *    and warmed) against MariaDB direct and against one Rotor per entry of `--workers-list`
 *    (default 1 … the cores available), all started before the first run and measured interleaved
 *    (the order alternates each round). Rotor's CPU is its primary's and all its workers' (pids from
 *    /api/status `workers[]`).
 * 2. Unless `--no-warm-fleet`: bench/warm-fleet.ts with `--warm-keys`-sized contenders — reads and
 *    time until a new instance serves 90 % hits, cold and warm from Redis — its table appended.
 *
 * Writes bench/results/scale.{json,md,svg}.
 *
 *   npm run bench:scale
 *   npm run bench:scale -- --workers-list 1,2,4 --threads 64,256 --time 20 --rounds 2
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { fmt, table } from './lib/markdown.js';
import { CpuMeter } from './lib/proc.js';
import { note, ProgressBar } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { cacheHitCounts, pick, startRotor, type RotorProcess } from './lib/rotor.js';
import { benchServers } from './lib/servers.js';
import { round } from './lib/stats.js';
import { barChart, svgDocument } from './lib/svg.js';
import { sbtestUpstream, sysbenchRun, targetOf, warmUntilHits, type SysbenchResult } from './lib/sysbench.js';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}
const cores = availableParallelism();

const opts = new Command('bench:scale')
  .description('Cached point reads with 1, 2, … workers vs MariaDB; then warm start of a new instance (bench:warm-fleet)')
  .option('--workers-list <list>', 'the Rotors\' --workers', (v) => list(v).map(positive), Array.from({ length: cores }, (_, i) => i + 1))
  .option('--threads <list>', 'sysbench thread counts', (v) => list(v).map(positive), [64])
  .option('--ps-mode <mode>', 'disable (text) or auto (prepared)', 'disable')
  .option('--time <s>', 'seconds per run', positive, 10)
  .option('--warmup <s>', 'at most this many seconds of point selects through each Rotor before measuring', positive, 30)
  .option('--rounds <n>', 'repeat every cell (interleaved)', positive, 2)
  .option('--table-size <n>', 'rows of sbtest1', positive, 10000)
  .option('--no-warm-fleet', 'skip part 2 (bench:warm-fleet)')
  .option('--fleet-keys <n>', 'part 2: rows (distinct keys)', positive, 5_000)
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench")')
  .option('--json <path>', 'JSON result path (default bench/results/scale.json)')
  .parse()
  .opts<{ workersList: number[]; threads: number[]; psMode: 'auto' | 'disable'; time: number; warmup: number; rounds: number; tableSize: number; warmFleet: boolean; fleetKeys: number; upstream?: string; json?: string }>();

const servers = await benchServers({ upstream: opts.upstream, needRedis: false });
const upstream = await sbtestUpstream(servers.upstreamUrl, 1, opts.tableSize);

interface Contender { readonly name: string; readonly workers: number; readonly rotor: RotorProcess; readonly cacheId: string }
const contenders: Contender[] = [];
for (const [i, workers] of opts.workersList.entries()) {
  const name = `rotor ×${workers}`;
  note(`${name}: starting, registering, warming (up to ${opts.warmup} s, until 99 % of reads hit)…`);
  // Distinct replication id ranges: every worker is a binlog reader of its own.
  const rotor = await startRotor(upstream, { extraArgs: ['--workers', String(workers), '--server-id', String(6100 + i * 100)], timeoutMs: 60_000 });
  const cacheId = await rotor.registerCache('SELECT c FROM sbtest1 WHERE id = ?', 'sbtest');
  // A worker installs a registration within a second or so; the warm-up reads through all of them.
  await warmUntilHits(targetOf(rotor.url), () => cacheHitCounts(rotor, [cacheId]), { seconds: opts.warmup, psModes: [opts.psMode], tables: 1, tableSize: opts.tableSize });
  contenders.push({ name, workers, rotor, cacheId });
}

/** Rotor's processes: the primary (or the only process) and every worker serving now. */
async function rotorPids(c: Contender): Promise<Record<string, number>> {
  const rows = pick(await c.rotor.status(), 'workers');
  const pids: Record<string, number> = { primary: c.rotor.pid };
  if (Array.isArray(rows)) for (const w of rows) if (typeof w?.pid === 'number') pids[`worker${String(w.id)}`] = w.pid;
  return pids;
}

interface Run {
  readonly threads: number; readonly target: string; readonly workers: number; readonly round: number; readonly result: SysbenchResult | null;
  readonly error?: string; readonly rotorCpuUs: number | null; readonly mariadbCpuUs: number | null; readonly hitRate: number | null;
}
const runs: Run[] = [];
const targets: Array<{ name: string; url: string; c: Contender | null }> = [
  { name: 'direct', url: upstream, c: null },
  ...contenders.map((c) => ({ name: c.name, url: c.rotor.url, c })),
];
const bar = new ProgressBar('scale', opts.threads.length * targets.length * opts.rounds);
let n = 0;
for (let r = 0; r < opts.rounds; r++) {
  for (const [ti, threads] of opts.threads.entries()) {
    const order = (ti + r) % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      bar.update(n, `${threads} threads ${t.name}`);
      const pids = t.c === null ? {} : await rotorPids(t.c);
      const meter = new CpuMeter({ mariadb: servers.mariadbPid ?? undefined, ...pids });
      const before = t.c === null ? null : await cacheHitCounts(t.c.rotor, [t.c.cacheId]);
      meter.start();
      try {
        const result = await sysbenchRun(targetOf(t.url), { test: 'oltp_point_select', threads, seconds: opts.time, psMode: opts.psMode, tables: 1, tableSize: opts.tableSize });
        const cpu = meter.stop();
        const after = t.c === null ? null : await cacheHitCounts(t.c.rotor, [t.c.cacheId]);
        const reads = before && after ? after.hits + after.misses - before.hits - before.misses : 0;
        const perQuery = (us: number | undefined): number | null => (us === undefined ? null : round(us / Math.max(1, result.queries), 1));
        const rotorUs = Object.entries(cpu).filter(([k]) => k !== 'mariadb').reduce((s, [, v]) => s + v, 0);
        runs.push({
          threads, target: t.name, workers: t.c?.workers ?? 0, round: r, result,
          rotorCpuUs: t.c === null ? null : perQuery(rotorUs), mariadbCpuUs: perQuery(cpu.mariadb),
          hitRate: before && after && reads > 0 ? round((after.hits - before.hits) / reads, 4) : null,
        });
      } catch (e) {
        runs.push({ threads, target: t.name, workers: t.c?.workers ?? 0, round: r, result: null, error: (e as Error).message, rotorCpuUs: null, mariadbCpuUs: null, hitRate: null });
      }
      n++;
    }
  }
}
bar.done(n);
for (const c of contenders) await c.rotor.stop();

const mean = (xs: ReadonlyArray<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};
const summary = opts.threads.flatMap((threads) => targets.map((t) => {
  const of = runs.filter((x) => x.threads === threads && x.target === t.name && x.result);
  return {
    threads, target: t.name, workers: t.c?.workers ?? 0,
    qps: mean(of.map((x) => x.result!.qps)), p99: mean(of.map((x) => x.result!.latencyMs.p99)),
    rotorCpuUs: mean(of.map((x) => x.rotorCpuUs)), mariadbCpuUs: mean(of.map((x) => x.mariadbCpuUs)), hitRate: mean(of.map((x) => x.hitRate)),
  };
}));
const qpsOf = (threads: number, target: string): number | null => summary.find((s) => s.threads === threads && s.target === target)?.qps ?? null;
const ratio = (a: number | null, b: number | null): string => (a !== null && b !== null && b > 0 ? `${fmt(a / b, 2)}×` : '–');

const part1 = [
  `### Workers: sysbench oltp_point_select (${opts.psMode === 'auto' ? 'prepared' : 'text'}), ${opts.time} s per run, ${opts.rounds} round(s), sbtest1 × ${opts.tableSize} rows, all cached`,
  '',
  table(
    ['threads', 'target', 'qps', '÷ direct', '÷ 1 worker', 'p99 ms', 'Rotor CPU-µs/q (all processes)', 'MariaDB CPU-µs/q', 'hit rate'],
    summary.map((s) => [
      s.threads, s.target, fmt(s.qps, 0), s.target === 'direct' ? '1' : ratio(s.qps, qpsOf(s.threads, 'direct')),
      s.workers === 0 ? '–' : ratio(s.qps, qpsOf(s.threads, `rotor ×1`)), fmt(s.p99, 2), fmt(s.rotorCpuUs, 1), fmt(s.mariadbCpuUs, 1),
      s.hitRate === null ? '–' : `${fmt(s.hitRate * 100, 1)} %`,
    ]),
  ),
  '',
  `This machine has ${cores} core(s), shared by MariaDB, sysbench and Rotor: a worker needs a core nobody else uses, so on a small box the table is short and more workers can cost more than they bring.`,
  ...runs.filter((x) => x.error).map((x) => `- ${x.target} ${x.threads} threads: ${x.error}`),
].join('\n');

let part2 = '';
if (opts.warmFleet) {
  note('part 2: bench:warm-fleet…');
  const script = fileURLToPath(new URL('./warm-fleet.ts', import.meta.url));
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--keys', String(opts.fleetKeys), ...(opts.upstream ? ['--upstream', opts.upstream] : [])], { stdio: 'inherit' });
    child.once('exit', (c) => resolve(c));
  });
  part2 = code === 0
    ? readFileSync(fileURLToPath(new URL('./results/warm-fleet.md', import.meta.url)), 'utf8').replace(/^# /, '### ')
    : `### Warm start\n\nbench:warm-fleet failed (exit ${code}).`;
}

const md = `${part1}\n${part2 === '' ? '' : `\n${part2}`}`;
const gs = opts.threads.map((t) => `${t} threads`);
const svg = svgDocument([
  barChart('Cached point selects per second', 'qps', gs, targets.map((t) => t.name), targets.map((t) => opts.threads.map((th) => qpsOf(th, t.name)))),
], `workers, ${new Date().toISOString()}`);
process.stdout.write(`${md}\n`);
const files = writeReport('scale', { json: { params: { ...opts, machine: machine(), finishedAt: new Date().toISOString() }, summary, runs }, markdown: md, svg }, opts.json);
note(`wrote ${files.join(', ')}`);
process.exit(runs.some((x) => x.error) ? 1 : 0);
