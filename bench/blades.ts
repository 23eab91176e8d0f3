/**
 * `npm run bench:blades`: the rotating-blades benchmark, every contender in one
 * run. Prints a markdown table on stdout and writes bench/results/blades.{json,md,svg}.
 *
 *   npm run bench:blades                                   # 1,000 clients, default iterations, all contenders
 *   npm run bench:blades -- --clients 8000 --iterations 23000000   # the original's full size
 *   npm run bench:blades -- --clients 100 --iterations 2000 --contenders direct,ttl-cache
 *
 * Exits non-zero when a contender's final count is not exactly the number of iterations.
 */
import { Command, InvalidArgumentError } from 'commander';
import { CONTENDERS, DEFAULT_CONTENDERS, type Contender } from './blades-queries.js';
import { bladesMarkdown, bladesSvg } from './blades-report.js';
import { runBlades, type Pin } from './blades-run.js';
import { note } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { benchServers } from './lib/servers.js';

/** Default iterations: sized so all four contenders finish in a few minutes on a 2-core box. */
export const DEFAULT_ITERATIONS = 20_000;

function positive(v: string): number {
  const n = Number(v.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function pinArg(v: string): Pin {
  if (v === 'db') return 'db';
  if (v === 'app') return 'app';
  throw new InvalidArgumentError('must be db or app');
}

function contenderList(v: string): Contender[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const c of list) if (!(CONTENDERS as readonly string[]).includes(c)) throw new InvalidArgumentError(`unknown contender "${c}" (${CONTENDERS.join(', ')})`);
  return list as Contender[];
}

const program = new Command('bench:blades')
  .description('Rotating blades: become-a-fan iterations from C concurrent clients, direct vs Rotor vs a Redis TTL cache')
  .option('--clients <n>', 'concurrent client connections (the original: 1000, 2000, 4000, 8000)', positive, 1000)
  .option('--iterations <n>', 'iterations in total, split evenly across clients (the original: 23000000)', positive, DEFAULT_ITERATIONS)
  .option('--item <id>', 'the item everyone becomes a fan of', positive, 12345678)
  .option('--contenders <list>', `comma-separated: ${CONTENDERS.join(',')}`, contenderList, [...DEFAULT_CONTENDERS])
  .option('--workers <n>', 'load generator processes (default: 2-4 by client count)', positive)
  .option('--ttl <seconds>', 'ttl-cache: seconds a cached count lives', positive, 5)
  .option('--stall <seconds>', 'fail a contender when no iteration completes for this long', positive, 120)
  .option('--pin [where]', 'with taskset: "db" (--pin alone) puts MariaDB and the load generator on CPU 0, Rotor (or the pipe, or Redis) on CPU 1: Rotor as on a machine of its own; "app" puts MariaDB alone on CPU 0 and the load generator with Rotor (or the pipe, or Redis) on CPU 1: the database on a machine of its own, Rotor beside the application', pinArg)
  .option('--rate <n>', 'iterations per second in all, each client starting its iterations on a schedule (open loop) instead of back to back: latencies at a load of your choosing, e.g. direct\'s throughput', positive)
  .option('--deadlock-detect', 'keep InnoDB deadlock detection on (off by default: it stalls the server with thousands of waiters on one row)', false)
  .option('--json <path>', 'where to write the JSON result (default bench/results/blades.json)')
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench", started if needed)')
  .option('--redis <url>', 'Redis for ttl-cache (default: the private Redis "bench")')
  .option('--name <base>', 'base name of the files under bench/results/', 'blades');

const opts = program.parse().opts<{
  clients: number; iterations: number; item: number; contenders: Contender[]; workers?: number; ttl: number; stall: number; deadlockDetect: boolean; pin?: Pin | true; rate?: number;
  json?: string; upstream?: string; redis?: string; name: string;
}>();

if (opts.iterations < opts.clients) note(`note: ${opts.iterations} iterations for ${opts.clients} clients: some clients run none`);
const servers = await benchServers({ upstream: opts.upstream, redis: opts.redis, needRedis: opts.contenders.includes('ttl-cache') });
note(`upstream ${servers.upstreamUrl}${servers.redisUrl ? `, redis ${servers.redisUrl}` : ''}`);
const report = await runBlades({
  clients: opts.clients, iterations: opts.iterations, item: opts.item, contenders: opts.contenders,
  workers: opts.workers ?? Math.max(2, Math.min(4, Math.ceil(opts.clients / 250))), ttlSeconds: opts.ttl,
  stallSeconds: opts.stall, deadlockDetect: opts.deadlockDetect, pin: opts.pin === true ? 'db' : opts.pin ?? null,
  rate: opts.rate ?? null,
  upstreamUrl: servers.upstreamUrl, redisUrl: servers.redisUrl, mariadbPid: servers.mariadbPid,
});
const full = { ...report, params: { ...report.params, machine: machine() } };
const markdown = bladesMarkdown(full);
process.stdout.write(`${markdown}\n`);
const files = writeReport(opts.name, { json: full, markdown, svg: bladesSvg(full) }, opts.json);
note(`wrote ${files.join(', ')}`);
const failed = Object.entries(report.contenders).filter(([, r]) => r.status === 'failed');
if (failed.length) {
  note(`\nFAILED: ${failed.map(([n, r]) => `${n} (${r.reason})`).join('; ')}`);
  process.exit(1);
}
process.exit(0);
