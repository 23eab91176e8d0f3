/**
 * `npm run bench:http`: the same point reads (`SELECT c FROM sbtest1 WHERE id = ?`, keys drawn
 * uniformly) over HTTP/JSON from Rotor's `--http-read` listener (wrk, keep-alive, HTTP Basic as
 * the bench's account) and over the MySQL protocol from Rotor and from MariaDB (sysbench
 * oltp_point_select, text protocol), interleaved in one run; plus the same HTTP reads with the
 * per-key JSON memo off (a second Rotor, `--http-json-memo off`), and the ceiling of an HTTP JSON
 * endpoint over node:http and over fastify (bench/lib/http-ceiling.ts). Reports requests/s and the
 * CPU each server spends per read. Writes bench/results/http.{json,md,svg}.
 *
 *   npm run bench:http
 *   npm run bench:http -- --connections 64 --time 10 --rounds 3
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { fmt, table } from './lib/markdown.js';
import { CpuMeter } from './lib/proc.js';
import { note, ProgressBar } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { startRotor, type RotorProcess } from './lib/rotor.js';
import { benchServers, connect, withEndpoint } from './lib/servers.js';
import { round } from './lib/stats.js';
import { barChart, svgDocument } from './lib/svg.js';
import { sysbenchPrepare, sysbenchRun, targetOf } from './lib/sysbench.js';
import { wrkRun } from './lib/wrk.js';
import { freePort } from '../scripts/private-server.js';

const CEILING = fileURLToPath(new URL('./lib/http-ceiling.ts', import.meta.url));
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const ALL = ['mariadb', 'rotor-mysql', 'rotor-http', 'rotor-http-nomemo', 'node-http', 'fastify'];
const opts = new Command('bench:http')
  .description('Point reads over HTTP/JSON from Rotor vs the MySQL protocol from Rotor and MariaDB, in one run')
  .option('--connections <n>', 'client connections (sysbench threads, wrk connections)', positive, 64)
  .option('--wrk-threads <n>', 'wrk threads', positive, 1)
  .option('--time <s>', 'seconds per run', positive, 10)
  .option('--rounds <n>', 'repeat every contender (interleaved)', positive, 2)
  .option('--table-size <n>', 'rows (keys)', positive, 10000)
  .option('--targets <list>', ALL.join(','), list, ALL)
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench")')
  .option('--name <base>', 'base name of the result files', 'http')
  .parse()
  .opts<{ connections: number; wrkThreads: number; time: number; rounds: number; tableSize: number; targets: string[]; upstream?: string; name: string }>();

const servers = await benchServers({ upstream: opts.upstream, needRedis: false });
const admin = await connect(servers.upstreamUrl);
await admin.query('CREATE DATABASE IF NOT EXISTS sbtest');
await admin.end();
const upUrl = new URL(servers.upstreamUrl);
const upstream = withEndpoint(servers.upstreamUrl, upUrl.hostname, Number(upUrl.port)).replace(/\/[^/]*$/, '/sbtest');
note(`upstream ${upstream}; preparing sbtest1 of ${opts.tableSize} rows…`);
await sysbenchPrepare(targetOf(upstream), 1, opts.tableSize);
const authorization = `Basic ${Buffer.from(`${decodeURIComponent(upUrl.username)}:${decodeURIComponent(upUrl.password)}`).toString('base64')}`;

interface HttpRotor { readonly process: RotorProcess; readonly httpUrl: string; readonly cacheId: string }

/** A Rotor with `--http-read`, the cache registered and every key filled (through HTTP lookups). */
async function httpRotor(env: Record<string, string> = {}): Promise<HttpRotor> {
  const port = await freePort();
  const process = await startRotor(upstream, { extraArgs: ['--http-read', `127.0.0.1:${port}`, '--miss-policy', 'fill'], env });
  const cacheId = await process.registerCache('SELECT c FROM sbtest1 WHERE id = ?', 'sbtest');
  const httpUrl = `http://127.0.0.1:${port}`;
  for (let from = 1; from <= opts.tableSize; from += 1000) {
    const keys = Array.from({ length: Math.min(1000, opts.tableSize - from + 1) }, (_, i) => [from + i]);
    const res = await fetch(`${httpUrl}/v1/caches/${cacheId}/lookup`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ keys }) });
    if (res.status !== 200) throw new Error(`warming over HTTP: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
  return { process, httpUrl, cacheId };
}

const want = (t: string) => opts.targets.includes(t);
note('starting Rotor and filling its cache…');
const rotor = want('rotor-mysql') || want('rotor-http') ? await httpRotor() : null;
const nomemo = want('rotor-http-nomemo') ? await httpRotor({ ROTOR_HTTP_JSON_MEMO: 'off' }) : null;
const ceilings: Record<string, { child: ChildProcess; url: string }> = {};
for (const framework of ['node-http', 'fastify'].filter(want)) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', CEILING, '--framework', framework === 'fastify' ? 'fastify' : 'node', '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res, rej) => {
    child.stdout?.once('data', () => res());
    child.once('exit', (code) => rej(new Error(`${framework} ceiling exited (${code})`)));
  });
  ceilings[framework] = { child, url: `http://127.0.0.1:${port}` };
}

const targets = opts.targets.filter((t) => t === 'mariadb' || (t.startsWith('rotor-http-nomemo') ? nomemo : t.startsWith('rotor') ? rotor : ceilings[t]));
const serverPid = (t: string): number | undefined =>
  t === 'mariadb' ? servers.mariadbPid ?? undefined : t === 'rotor-http-nomemo' ? nomemo?.process.pid : t.startsWith('rotor') ? rotor?.process.pid : ceilings[t]?.child.pid;

interface Run {
  readonly target: string; readonly round: number; readonly rps: number | null; readonly p50: number | null; readonly p99: number | null;
  readonly cpuUsPerRead: number | null; readonly mariadbCpuUsPerRead: number | null; readonly error?: string;
}
const runs: Run[] = [];
const bar = new ProgressBar('http', targets.length * opts.rounds);
let n = 0;
for (let r = 0; r < opts.rounds; r++) {
  for (const target of r % 2 === 0 ? targets : [...targets].reverse()) {
    bar.update(n, `${target}, round ${r + 1}`);
    const meter = new CpuMeter({ server: serverPid(target), mariadb: target === 'mariadb' ? undefined : servers.mariadbPid ?? undefined });
    meter.start();
    try {
      let reads: number, rps: number, p50: number, p99: number;
      if (target === 'mariadb' || target === 'rotor-mysql') {
        const url = target === 'mariadb' ? upstream : (rotor as HttpRotor).process.url;
        const s = await sysbenchRun(targetOf(url), { test: 'oltp_point_select', threads: opts.connections, seconds: opts.time, psMode: 'disable', tables: 1, tableSize: opts.tableSize });
        reads = s.queries; rps = s.qps; p50 = s.latencyMs.avg; p99 = s.latencyMs.p99;
      } else {
        const h = target === 'rotor-http' ? rotor : target === 'rotor-http-nomemo' ? nomemo : null;
        const url = h?.httpUrl ?? ceilings[target].url;
        const w = await wrkRun({
          url, pathPrefix: `/v1/caches/${h?.cacheId ?? 'ceiling'}?key=`, keys: opts.tableSize, connections: opts.connections,
          threads: opts.wrkThreads, seconds: opts.time, headers: { authorization },
        });
        reads = w.requests; rps = w.rps; p50 = w.latencyMs.p50; p99 = w.latencyMs.p99;
      }
      const cpu = meter.stop();
      runs.push({
        target, round: r, rps, p50, p99,
        cpuUsPerRead: cpu.server === undefined ? null : round(cpu.server / Math.max(1, reads), 1),
        mariadbCpuUsPerRead: target === 'mariadb' ? round((cpu.server ?? NaN) / Math.max(1, reads), 1) : cpu.mariadb === undefined ? null : round(cpu.mariadb / Math.max(1, reads), 2),
      });
    } catch (e) {
      meter.stop();
      runs.push({ target, round: r, rps: null, p50: null, p99: null, cpuUsPerRead: null, mariadbCpuUsPerRead: null, error: (e as Error).message });
    }
    n++;
  }
}
bar.done(n);
await rotor?.process.stop();
await nomemo?.process.stop();
for (const c of Object.values(ceilings)) c.child.kill('SIGTERM');

const mean = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};
const summary = Object.fromEntries(targets.map((t) => {
  const of = runs.filter((x) => x.target === t && x.error === undefined);
  return [t, { rps: mean(of.map((x) => x.rps)), p50: mean(of.map((x) => x.p50)), p99: mean(of.map((x) => x.p99)), cpuUsPerRead: mean(of.map((x) => x.cpuUsPerRead)), mariadbCpuUsPerRead: mean(of.map((x) => x.mariadbCpuUsPerRead)) }];
})) as Record<string, { rps: number | null; p50: number | null; p99: number | null; cpuUsPerRead: number | null; mariadbCpuUsPerRead: number | null }>;
const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a && b ? round(a / b, 2) : null);
const s = (t: string) => summary[t];
const ratios = {
  httpVsRotorMysqlRps: ratio(s('rotor-http')?.rps, s('rotor-mysql')?.rps),
  httpVsMariadbRps: ratio(s('rotor-http')?.rps, s('mariadb')?.rps),
  rotorMysqlVsMariadbRps: ratio(s('rotor-mysql')?.rps, s('mariadb')?.rps),
  httpVsRotorMysqlCpu: ratio(s('rotor-http')?.cpuUsPerRead, s('rotor-mysql')?.cpuUsPerRead),
  httpVsMariadbCpu: ratio(s('rotor-http')?.cpuUsPerRead, s('mariadb')?.cpuUsPerRead),
  memoVsNoMemoRps: ratio(s('rotor-http')?.rps, s('rotor-http-nomemo')?.rps),
  memoVsNoMemoCpu: ratio(s('rotor-http')?.cpuUsPerRead, s('rotor-http-nomemo')?.cpuUsPerRead),
  fastifyVsNodeCpu: ratio(s('fastify')?.cpuUsPerRead, s('node-http')?.cpuUsPerRead),
  fastifyVsNodeRps: ratio(s('fastify')?.rps, s('node-http')?.rps),
};

const LABEL: Record<string, string> = {
  mariadb: 'MariaDB, MySQL protocol (sysbench)', 'rotor-mysql': 'Rotor, MySQL protocol (sysbench)', 'rotor-http': 'Rotor, HTTP/JSON (wrk)',
  'rotor-http-nomemo': 'Rotor, HTTP/JSON, JSON memo off (wrk)', 'node-http': 'ceiling: constant JSON, node:http (wrk)', fastify: 'ceiling: constant JSON, fastify (wrk)',
};
const x = (v: number | null) => (v === null ? '–' : `${fmt(v, 2)}×`);
const md = [
  `### Point reads over HTTP/JSON vs the MySQL protocol: ${opts.tableSize} keys, ${opts.connections} connections, ${opts.time} s × ${opts.rounds} rounds`,
  '',
  table(
    ['contender', 'reads/s', 'p50 ms', 'p99 ms', 'server CPU-µs/read', 'MariaDB CPU-µs/read'],
    targets.map((t) => [LABEL[t] ?? t, fmt(s(t).rps, 0), fmt(s(t).p50, 2), fmt(s(t).p99, 2), fmt(s(t).cpuUsPerRead, 1), fmt(s(t).mariadbCpuUsPerRead, 2)]),
  ),
  '',
  table(['ratio', 'value'], [
    ['HTTP / Rotor MySQL protocol, reads/s', x(ratios.httpVsRotorMysqlRps)],
    ['HTTP / MariaDB, reads/s', x(ratios.httpVsMariadbRps)],
    ['Rotor MySQL protocol / MariaDB, reads/s', x(ratios.rotorMysqlVsMariadbRps)],
    ['HTTP / Rotor MySQL protocol, Rotor CPU per read', x(ratios.httpVsRotorMysqlCpu)],
    ['HTTP (Rotor) / MariaDB, server CPU per read', x(ratios.httpVsMariadbCpu)],
    ['JSON memo on / off, reads/s', x(ratios.memoVsNoMemoRps)],
    ['JSON memo on / off, Rotor CPU per read', x(ratios.memoVsNoMemoCpu)],
    ['fastify / node:http ceiling, CPU per request', x(ratios.fastifyVsNodeCpu)],
    ['fastify / node:http ceiling, requests/s', x(ratios.fastifyVsNodeRps)],
  ]),
  '',
  'p50 for sysbench is its average (it reports no median). The load generators (sysbench, wrk) are C programs on the same 2 cores as the servers; CPU per read is the server process\'s own, read from /proc.',
  ...runs.filter((r) => r.error).map((r) => `- ${r.target} round ${r.round + 1}: ${r.error}`),
].join('\n');
const names = targets.map((t) => t);
const svg = svgDocument([
  barChart('Point reads per second', 'reads/s', ['reads/s'], names, names.map((t) => [s(t).rps])),
  barChart('Server CPU-µs per read', 'µs', ['CPU-µs/read'], names, names.map((t) => [s(t).cpuUsPerRead])),
], `point reads over HTTP vs MySQL protocol, ${new Date().toISOString()}`);
process.stdout.write(`${md}\n`);
const files = writeReport(opts.name, { json: { params: { ...opts, machine: machine(), finishedAt: new Date().toISOString() }, summary, ratios, runs }, markdown: md, svg }, undefined);
note(`wrote ${files.join(', ')}`);
process.exit(runs.some((r) => r.error) ? 1 : 0);
