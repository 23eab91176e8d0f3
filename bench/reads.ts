/**
 * `npm run bench:reads`: cached point reads. sysbench
 * oltp_point_select, text (`--db-ps-mode=disable`) and prepared (`auto`), against MariaDB direct,
 * Rotor with `SELECT c FROM sbtestN WHERE id = ?` registered as caches (after a warm-up that fills
 * them), and the Node "ceiling" responder (bench/lib/ceiling-server.ts), interleaved in one run.
 * Rotor's hit path is reported as a fraction of the ceiling and of MariaDB. Writes
 * bench/results/reads.{json,md,svg}.
 *
 *   npm run bench:reads
 *   npm run bench:reads -- --threads 64,1000 --time 30 --rounds 2
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { fmt, table } from './lib/markdown.js';
import { CpuMeter } from './lib/proc.js';
import { note, ProgressBar } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { cacheHitCounts, RotorApiError, rotorUnavailable, startRotor, type RotorProcess } from './lib/rotor.js';
import { benchServers, withEndpoint } from './lib/servers.js';
import { round } from './lib/stats.js';
import { barChart, svgDocument } from './lib/svg.js';
import { sbtestUpstream, sysbenchRun, targetOf, warmUntilHits, type SysbenchResult } from './lib/sysbench.js';
import { freePort } from '../scripts/private-server.js';

const CEILING = fileURLToPath(new URL('./lib/ceiling-server.ts', import.meta.url));
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const opts = new Command('bench:reads')
  .description('Cached point reads: MariaDB direct vs Rotor cache hits vs a Node constant-row ceiling, via sysbench')
  .option('--threads <list>', 'sysbench thread counts', (v) => list(v).map(positive), [64])
  .option('--ps-modes <list>', 'disable (text) and/or auto (prepared)', list, ['disable', 'auto'])
  .option('--time <s>', 'seconds per run', positive, 10)
  .option('--warmup <s>', 'at most this many seconds of point selects through Rotor before measuring (fills the caches)', positive, 30)
  .option('--rounds <n>', 'repeat every cell (interleaved)', positive, 1)
  .option('--tables <n>', 'sbtest tables', positive, 1)
  .option('--table-size <n>', 'rows per table', positive, 10000)
  .option('--targets <list>', 'direct,rotor,ceiling', list, ['direct', 'rotor', 'ceiling'])
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench")')
  .option('--baseline <dir>', 'also run the Rotor of another checkout (e.g. a worktree of main) as target "baseline", interleaved: an A/B in one run')
  .option('--json <path>', 'JSON result path (default bench/results/reads.json)')
  .option('--name <base>', 'base name of the result files', 'reads')
  .parse()
  .opts<{
    threads: number[]; psModes: ('auto' | 'disable')[]; time: number; warmup: number; rounds: number; tables: number;
    tableSize: number; targets: string[]; upstream?: string; baseline?: string; json?: string; name: string;
  }>();

const servers = await benchServers({ upstream: opts.upstream, needRedis: false });
const upstream = await sbtestUpstream(servers.upstreamUrl, opts.tables, opts.tableSize);

const skipped: Record<string, string> = {};
let ceiling: { child: ChildProcess; url: string } | null = null;
if (opts.targets.includes('ceiling')) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', CEILING, '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res, rej) => {
    child.stdout?.once('data', () => res());
    child.once('exit', (code) => rej(new Error(`ceiling responder exited (${code})`)));
  });
  ceiling = { child, url: withEndpoint(upstream, '127.0.0.1', port) };
}

/** A Rotor under test: this checkout's ("rotor") or the --baseline checkout's ("baseline"). */
interface Contender { readonly process: RotorProcess; readonly cacheIds: string[] }
const rotors: Record<string, Contender> = {};

function hitCounts(c: Contender | undefined): Promise<{ hits: number; misses: number } | null> {
  return c ? cacheHitCounts(c.process, c.cacheIds) : Promise.resolve(null);
}

/** Starts a Rotor (from `root`, default this checkout), registers the caches and warms them. */
async function startContender(name: string, root?: string): Promise<void> {
  const why = rotorUnavailable(root);
  if (why) {
    skipped[name] = why;
    note(`${name}: SKIPPED: ${why}`);
    return;
  }
  let process: RotorProcess | null = null;
  try {
    process = await startRotor(upstream, root === undefined ? {} : { root });
    const c: Contender = { process, cacheIds: [] };
    for (let t = 1; t <= opts.tables; t++) c.cacheIds.push(await process.registerCache(`SELECT c FROM sbtest${t} WHERE id = ?`, 'sbtest'));
    note(`${name}: warming the caches (up to ${opts.warmup} s, until 99 % of reads hit)…`);
    await warmUntilHits(targetOf(process.url), () => hitCounts(c), { seconds: opts.warmup, psModes: opts.psModes, tables: opts.tables, tableSize: opts.tableSize });
    rotors[name] = c;
  } catch (e) {
    skipped[name] = e instanceof RotorApiError && e.status === 422 ? `not supported yet: ${e.message}` : (e as Error).message.split('\n')[0];
    await process?.stop();
    note(`${name}: SKIPPED: ${skipped[name]}`);
  }
}

if (opts.targets.includes('rotor')) await startContender('rotor');
if (opts.baseline !== undefined) await startContender('baseline', opts.baseline);

// The baseline runs next to this checkout's Rotor (the order of each cell alternates).
const targets = opts.targets.flatMap((t) => (t === 'rotor' && opts.baseline !== undefined ? ['rotor', 'baseline'] : [t]))
  .filter((t) => t === 'direct' || rotors[t] !== undefined || (t === 'ceiling' && ceiling));
const urls: Record<string, string> = { direct: upstream, rotor: rotors.rotor?.process.url ?? '', baseline: rotors.baseline?.process.url ?? '', ceiling: ceiling?.url ?? '' };
const pids: Record<string, number | undefined> = {
  mariadb: servers.mariadbPid ?? undefined, rotor: rotors.rotor?.process.pid, baseline: rotors.baseline?.process.pid, ceiling: ceiling?.child.pid,
};
interface Run {
  readonly threads: number; readonly psMode: string; readonly target: string; readonly round: number;
  readonly result: SysbenchResult | null; readonly error?: string; readonly cpuUsPerQuery: Record<string, number>; readonly hitRate: number | null;
}
const runs: Run[] = [];
const cells = opts.threads.flatMap((threads) => opts.psModes.map((psMode) => ({ threads, psMode })));
const bar = new ProgressBar('reads', cells.length * targets.length * opts.rounds);
let n = 0;
for (let r = 0; r < opts.rounds; r++) {
  for (const [ci, cell] of cells.entries()) {
    const order = (ci + r) % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      bar.update(n, `${cell.threads} threads ps=${cell.psMode} ${target}`);
      const meter = new CpuMeter({ mariadb: pids.mariadb, [target]: pids[target] });
      const before = await hitCounts(rotors[target]);
      meter.start();
      try {
        const result = await sysbenchRun(targetOf(urls[target]), { test: 'oltp_point_select', ...cell, seconds: opts.time, tables: opts.tables, tableSize: opts.tableSize });
        const cpu = meter.stop();
        const after = await hitCounts(rotors[target]);
        const hitRate = before && after && after.hits + after.misses - before.hits - before.misses > 0
          ? round((after.hits - before.hits) / (after.hits + after.misses - before.hits - before.misses), 4) : null;
        runs.push({
          ...cell, target, round: r, result, hitRate,
          cpuUsPerQuery: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v / Math.max(1, result.queries), 1)])),
        });
      } catch (e) {
        runs.push({ ...cell, target, round: r, result: null, error: (e as Error).message, cpuUsPerQuery: {}, hitRate: null });
      }
      n++;
    }
  }
}
bar.done(n);
for (const c of Object.values(rotors)) await c.process.stop();
ceiling?.child.kill('SIGTERM');

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const summary = cells.map((cell) => {
  const of = (t: string) => runs.filter((x) => x.threads === cell.threads && x.psMode === cell.psMode && x.target === t && x.result);
  const qps = (t: string) => mean(of(t).map((x) => x.result!.qps));
  const cpu = (t: string, proc: string) => mean(of(t).map((x) => x.cpuUsPerQuery[proc]).filter((v) => v !== undefined));
  const d = qps('direct');
  const ro = qps('rotor');
  const c = qps('ceiling');
  const b = qps('baseline');
  return {
    ...cell, directQps: d, rotorQps: ro, ceilingQps: c, baselineQps: b,
    rotorVsDirect: d && ro ? round(ro / d, 3) : null, rotorVsCeiling: c && ro ? round(ro / c, 3) : null,
    rotorVsBaseline: b && ro ? round(ro / b, 3) : null, baselineVsDirect: d && b ? round(b / d, 3) : null, baselineVsCeiling: c && b ? round(b / c, 3) : null,
    p99: { direct: mean(of('direct').map((x) => x.result!.latencyMs.p99)), rotor: mean(of('rotor').map((x) => x.result!.latencyMs.p99)), ceiling: mean(of('ceiling').map((x) => x.result!.latencyMs.p99)) },
    cpuUsPerQuery: { mariadbDirect: cpu('direct', 'mariadb'), rotor: cpu('rotor', 'rotor'), mariadbViaRotor: cpu('rotor', 'mariadb'), ceiling: cpu('ceiling', 'ceiling'), baseline: cpu('baseline', 'baseline') },
    rotorHitRate: mean(of('rotor').map((x) => x.hitRate).filter((v): v is number => v !== null)),
  };
});

const md = [
  `### Cached point reads: sysbench oltp_point_select, ${opts.time} s per run, ${opts.tables} table(s) × ${opts.tableSize} rows`,
  '',
  table(
    ['threads', 'ps mode', 'direct qps', 'rotor qps', 'ceiling qps', 'rotor / direct', 'rotor / ceiling', 'p99 ms d/r/c', 'Rotor CPU-µs/q', 'ceiling CPU-µs/q', 'MariaDB CPU-µs/q direct', 'Rotor hit rate'],
    summary.map((s) => [
      s.threads, s.psMode, fmt(s.directQps, 0), fmt(s.rotorQps, 0), fmt(s.ceilingQps, 0),
      s.rotorVsDirect === null ? '–' : `${fmt(s.rotorVsDirect, 2)}×`, s.rotorVsCeiling === null ? '–' : `${fmt(s.rotorVsCeiling, 2)}×`,
      `${fmt(s.p99.direct, 2)}/${fmt(s.p99.rotor, 2)}/${fmt(s.p99.ceiling, 2)}`,
      fmt(s.cpuUsPerQuery.rotor, 1), fmt(s.cpuUsPerQuery.ceiling, 1), fmt(s.cpuUsPerQuery.mariadbDirect, 1),
      s.rotorHitRate === null ? '–' : `${fmt(s.rotorHitRate * 100, 1)}%`,
    ]),
  ),
  ...(opts.baseline === undefined ? [] : [
    '',
    `A/B: "rotor" is this checkout, "baseline" is ${opts.baseline}, interleaved in the same run.`,
    '',
    table(
      ['threads', 'ps mode', 'baseline qps', 'rotor qps', 'rotor / baseline', 'baseline / direct', 'baseline / ceiling', 'baseline CPU-µs/q', 'Rotor CPU-µs/q'],
      summary.map((s) => [
        s.threads, s.psMode, fmt(s.baselineQps, 0), fmt(s.rotorQps, 0), s.rotorVsBaseline === null ? '–' : `${fmt(s.rotorVsBaseline, 2)}×`,
        s.baselineVsDirect === null ? '–' : `${fmt(s.baselineVsDirect, 2)}×`, s.baselineVsCeiling === null ? '–' : `${fmt(s.baselineVsCeiling, 2)}×`,
        fmt(s.cpuUsPerQuery.baseline, 1), fmt(s.cpuUsPerQuery.rotor, 1),
      ]),
    ),
  ]),
  '',
  'The ceiling is a minimal Node MySQL endpoint answering every query with a constant pre-encoded row: what any Node front end can reach on this machine. sysbench, MariaDB and the endpoint share 2 cores.',
  ...Object.entries(skipped).map(([k, v]) => `- **${k}**: skipped — ${v}`),
  ...runs.filter((x) => x.error).map((x) => `- ${x.target} ${x.threads} threads ps=${x.psMode}: ${x.error}`),
].join('\n');
const gs = summary.map((s) => `${s.threads}t ps=${s.psMode}`);
const svg = svgDocument([
  barChart('Point selects per second', 'qps', gs, ['direct', 'rotor', 'ceiling'], [summary.map((s) => s.directQps), summary.map((s) => s.rotorQps), summary.map((s) => s.ceilingQps)]),
  barChart('CPU-µs per query', 'µs', gs, ['MariaDB (direct)', 'Rotor', 'ceiling'], [summary.map((s) => s.cpuUsPerQuery.mariadbDirect), summary.map((s) => s.cpuUsPerQuery.rotor), summary.map((s) => s.cpuUsPerQuery.ceiling)]),
], `cached point reads, ${new Date().toISOString()}`);
process.stdout.write(`${md}\n`);
const files = writeReport(opts.name, { json: { params: { ...opts, machine: machine(), finishedAt: new Date().toISOString(), skipped }, summary, runs }, markdown: md, svg }, opts.json);
note(`wrote ${files.join(', ')}`);
process.exit(runs.some((x) => x.error) ? 1 : 0);
