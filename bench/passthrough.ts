/**
 * `npm run bench:passthrough`: Rotor's overhead as a transparent proxy (no caches registered).
 * sysbench oltp_point_select and oltp_read_write at 16, 64 and 1,000 threads, prepared statements
 * on (`--db-ps-mode=auto`) and off (`disable`), straight to MariaDB, through a bare Node TCP pipe
 * (bench/lib/pipe-relay.ts: the limit of any Node relay here) and through Rotor, interleaved in the
 * same run, with CPU-µs per query for the relay and MariaDB from /proc and the statements MariaDB
 * ran per query (its `Questions` counter). Writes bench/results/passthrough.{json,md,svg}.
 *
 *   npm run bench:passthrough                         # 10 s per run, 24 runs
 *   npm run bench:passthrough -- --time 60 --rounds 3
 *   npm run bench:passthrough -- --time 3 --threads 16 --tests oltp_point_select
 *   npm run bench:passthrough -- --baseline ../main-before  # another checkout's Rotor too, interleaved (A/B)
 */
import { Command, InvalidArgumentError } from 'commander';
import { fmt, table } from './lib/markdown.js';
import { CpuMeter } from './lib/proc.js';
import { note, ProgressBar } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { startPipeRelay, type PipeRelay } from './lib/pipe-relay.js';
import { rotorUnavailable, startRotor, type RotorProcess } from './lib/rotor.js';
import { benchServers, connect, scalar, withEndpoint } from './lib/servers.js';
import { round } from './lib/stats.js';
import { barChart, svgDocument } from './lib/svg.js';
import { sbtestUpstream, sysbenchRun, targetOf, type SysbenchResult } from './lib/sysbench.js';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const opts = new Command('bench:passthrough')
  .description('Passthrough overhead: sysbench direct vs through Rotor (no caches), interleaved')
  .option('--tests <list>', 'sysbench tests', list, ['oltp_point_select', 'oltp_read_write'])
  .option('--threads <list>', 'thread counts', (v) => list(v).map(positive), [16, 64, 1000])
  .option('--ps-modes <list>', 'sysbench --db-ps-mode values', list, ['auto', 'disable'])
  .option('--time <s>', 'seconds per sysbench run', positive, 10)
  .option('--rounds <n>', 'repeat every cell this many times (interleaved)', positive, 1)
  .option('--tables <n>', 'sbtest tables', positive, 4)
  .option('--table-size <n>', 'rows per sbtest table', positive, 10000)
  .option('--targets <list>', 'direct,pipe,rotor', list, ['direct', 'pipe', 'rotor'])
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench")')
  .option('--baseline <dir>', 'also run the Rotor of another checkout (e.g. a worktree of main) as target "baseline", interleaved: an A/B in one run')
  .option('--json <path>', 'JSON result path (default bench/results/passthrough.json)')
  .option('--name <base>', 'base name of the result files', 'passthrough')
  .parse()
  .opts<{
    tests: string[]; threads: number[]; psModes: ('auto' | 'disable')[]; time: number; rounds: number; tables: number;
    tableSize: number; targets: string[]; upstream?: string; baseline?: string; json?: string; name: string;
  }>();

interface Row {
  readonly test: string;
  readonly threads: number;
  readonly psMode: string;
  readonly target: string;
  readonly round: number;
  readonly result: SysbenchResult | null;
  readonly error?: string;
  /** CPU µs per query, per process ('relay': Rotor or the pipe). */
  readonly cpuUsPerQuery: Record<string, number>;
  /** Statements MariaDB ran (its Questions counter) per query sysbench completed. */
  readonly mariadbStatementsPerQuery: number | null;
}

const servers = await benchServers({ upstream: opts.upstream, needRedis: false });
const upstream = await sbtestUpstream(servers.upstreamUrl, opts.tables, opts.tableSize);
const admin = await connect(servers.upstreamUrl);

let rotor: RotorProcess | null = null;
let rotorSkipped: string | null = null;
if (opts.targets.includes('rotor')) {
  rotorSkipped = rotorUnavailable();
  if (!rotorSkipped) {
    try {
      rotor = await startRotor(upstream);
    } catch (e) {
      rotorSkipped = `Rotor did not start: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  if (rotorSkipped) note(`rotor: SKIPPED: ${rotorSkipped}`);
}
let baseline: RotorProcess | null = null;
if (rotor && opts.baseline !== undefined) baseline = await startRotor(upstream, { root: opts.baseline });
let pipe: PipeRelay | null = null;
if (opts.targets.includes('pipe')) {
  const u = new URL(upstream);
  pipe = await startPipeRelay({ host: u.hostname, port: Number(u.port) });
}
const targets = opts.targets.filter((t) => t === 'direct' || (t === 'rotor' && rotor) || (t === 'pipe' && pipe))
  .flatMap((t) => (t === 'rotor' && baseline ? ['rotor', 'baseline'] : [t]));
const urlOf = (target: string): string => {
  if (target === 'rotor' && rotor) return rotor.url;
  if (target === 'baseline' && baseline) return baseline.url;
  if (target === 'pipe' && pipe) return withEndpoint(upstream, pipe.host, pipe.port);
  return upstream;
};
const relayPid = (target: string): number | undefined => (target === 'rotor' ? rotor?.pid : target === 'baseline' ? baseline?.pid : target === 'pipe' ? pipe?.pid : undefined);
const cells = opts.tests.flatMap((test) => opts.threads.flatMap((threads) => opts.psModes.map((psMode) => ({ test, threads, psMode }))));
const rows: Row[] = [];
const bar = new ProgressBar('passthrough', cells.length * opts.rounds * targets.length);
let n = 0;
for (let r = 0; r < opts.rounds; r++) {
  for (const [ci, cell] of cells.entries()) {
    // Alternate the order so no target always runs on a warmer server.
    const order = (ci + r) % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      bar.update(n, `${cell.test} ${cell.threads} threads ps=${cell.psMode} ${target}`);
      const url = urlOf(target);
      const meter = new CpuMeter({ mariadb: servers.mariadbPid ?? undefined, relay: relayPid(target) });
      // The admin connection's own question is counted too (one per reading).
      const questionsBefore = await scalar(admin, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'QUESTIONS'");
      meter.start();
      try {
        const result = await sysbenchRun(targetOf(url), { ...cell, seconds: opts.time, tables: opts.tables, tableSize: opts.tableSize });
        const cpu = meter.stop();
        const questions = await scalar(admin, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'QUESTIONS'") - questionsBefore - 1;
        const cpuUsPerQuery = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v / Math.max(1, result.queries), 1)]));
        rows.push({ ...cell, target, round: r, result, cpuUsPerQuery, mariadbStatementsPerQuery: round(questions / Math.max(1, result.queries), 3) });
      } catch (e) {
        rows.push({ ...cell, target, round: r, result: null, error: (e as Error).message, cpuUsPerQuery: {}, mariadbStatementsPerQuery: null });
        note(`\n${(e as Error).message}`);
      }
      n++;
    }
  }
}
bar.done(n);
await rotor?.stop();
await baseline?.stop();
await pipe?.stop();
await admin.end();

function avg(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}
function pick(cell: { test: string; threads: number; psMode: string }, target: string) {
  const rs = rows.filter((x) => x.test === cell.test && x.threads === cell.threads && x.psMode === cell.psMode && x.target === target && x.result);
  return {
    qps: avg(rs.map((x) => x.result!.qps)),
    p99: avg(rs.map((x) => x.result!.latencyMs.p99)),
    errors: rs.length ? rs.reduce((s, x) => s + x.result!.errors, 0) : null,
    relayCpu: avg(rs.map((x) => x.cpuUsPerQuery.relay).filter((v) => v !== undefined)),
    mariadbCpu: avg(rs.map((x) => x.cpuUsPerQuery.mariadb).filter((v) => v !== undefined)),
    mariadbStatements: avg(rs.map((x) => x.mariadbStatementsPerQuery).filter((v): v is number => v !== null)),
  };
}
const ratio = (a: number | null, b: number | null): number | null => (a && b ? round(a / b, 3) : null);
const summary = cells.map((cell) => {
  const d = pick(cell, 'direct');
  const p = pick(cell, 'pipe');
  const r = pick(cell, 'rotor');
  const b = pick(cell, 'baseline');
  return {
    ...cell, direct: d, pipe: p, rotor: r, baseline: b, rotorVsBaseline: ratio(r.qps, b.qps), baselineVsPipe: ratio(b.qps, p.qps),
    ratio: ratio(r.qps, d.qps), pipeRatio: ratio(p.qps, d.qps), rotorVsPipe: ratio(r.qps, p.qps),
    mariadbCpuRatio: ratio(r.mariadbCpu, d.mariadbCpu),
  };
});
const x = (v: number | null): string => (v === null ? '–' : `${fmt(v, 2)}×`);

const md = [
  `### Passthrough overhead: sysbench direct, through a bare Node pipe and through Rotor (no caches), ${opts.time} s per run, ${opts.rounds} round(s)`,
  '',
  table(
    ['test', 'threads', 'ps mode', 'direct qps', 'pipe qps', 'rotor qps', 'pipe / direct', 'rotor / direct', 'rotor / pipe', 'direct p99 ms', 'pipe p99 ms', 'rotor p99 ms', 'errors direct/pipe/rotor'],
    summary.map((s) => [
      s.test, s.threads, s.psMode, fmt(s.direct.qps, 0), fmt(s.pipe.qps, 0), fmt(s.rotor.qps, 0), x(s.pipeRatio), x(s.ratio), x(s.rotorVsPipe),
      fmt(s.direct.p99, 2), fmt(s.pipe.p99, 2), fmt(s.rotor.p99, 2), `${s.direct.errors ?? '–'}/${s.pipe.errors ?? '–'}/${s.rotor.errors ?? '–'}`,
    ]),
  ),
  '',
  table(
    ['test', 'threads', 'ps mode', 'pipe CPU-µs/q', 'Rotor CPU-µs/q', 'MariaDB CPU-µs/q direct', 'via pipe', 'via Rotor', 'MariaDB via Rotor / direct', 'MariaDB statements/q direct', 'via pipe', 'via Rotor'],
    summary.map((s) => [
      s.test, s.threads, s.psMode, fmt(s.pipe.relayCpu, 1), fmt(s.rotor.relayCpu, 1),
      fmt(s.direct.mariadbCpu, 1), fmt(s.pipe.mariadbCpu, 1), fmt(s.rotor.mariadbCpu, 1), x(s.mariadbCpuRatio),
      fmt(s.direct.mariadbStatements, 3), fmt(s.pipe.mariadbStatements, 3), fmt(s.rotor.mariadbStatements, 3),
    ]),
  ),
  '',
  'CPU-µs per query: the process\'s user+system time over the run (/proc/PID/stat) divided by the queries sysbench completed. ' +
    'sysbench, MariaDB and the relay share the same 2 cores. "statements/q": MariaDB\'s `Questions` counter over the run per query sysbench completed ' +
    '(Rotor\'s own binlog sampling counts in it). "errors" are sysbench\'s ignored errors (deadlocks in oltp_read_write).',
  ...(baseline === null ? [] : [
    '',
    `A/B: "rotor" is this checkout, "baseline" is ${opts.baseline ?? ''}, interleaved in the same run.`,
    '',
    table(
      ['test', 'threads', 'ps mode', 'baseline qps', 'rotor qps', 'rotor / baseline', 'baseline / pipe', 'rotor / pipe', 'baseline CPU-µs/q', 'Rotor CPU-µs/q'],
      summary.map((s) => [
        s.test, s.threads, s.psMode, fmt(s.baseline.qps, 0), fmt(s.rotor.qps, 0), x(s.rotorVsBaseline), x(s.baselineVsPipe), x(s.rotorVsPipe),
        fmt(s.baseline.relayCpu, 1), fmt(s.rotor.relayCpu, 1),
      ]),
    ),
  ]),
  ...(rotorSkipped ? ['', `- **rotor**: skipped — ${rotorSkipped}`] : []),
  ...rows.filter((x) => x.error).map((x) => `- ${x.target} ${x.test} ${x.threads} threads ps=${x.psMode}: ${x.error}`),
].join('\n');

const panels = opts.tests.flatMap((test) => {
  const ss = summary.filter((s) => s.test === test);
  const gs = ss.map((s) => `${s.threads}t ps=${s.psMode}`);
  return [
    barChart(`${test}: queries/s`, 'qps', gs, ['direct', 'pipe', 'rotor'], [ss.map((s) => s.direct.qps), ss.map((s) => s.pipe.qps), ss.map((s) => s.rotor.qps)]),
    barChart(`${test}: CPU-µs per query`, 'µs', gs, ['MariaDB (direct)', 'MariaDB (via pipe)', 'MariaDB (via Rotor)', 'pipe', 'Rotor'],
      [ss.map((s) => s.direct.mariadbCpu), ss.map((s) => s.pipe.mariadbCpu), ss.map((s) => s.rotor.mariadbCpu), ss.map((s) => s.pipe.relayCpu), ss.map((s) => s.rotor.relayCpu)]),
  ];
});
const json = {
  params: { ...opts, machine: machine(), finishedAt: new Date().toISOString(), rotorSkipped },
  summary, runs: rows,
};
process.stdout.write(`${md}\n`);
const files = writeReport(opts.name, { json, markdown: md, svg: svgDocument(panels, `passthrough overhead, ${json.params.finishedAt}`) }, opts.json);
note(`wrote ${files.join(', ')}`);
process.exit(rows.some((x) => x.error) ? 1 : 0);
