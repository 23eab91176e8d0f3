/**
 * `npm run bench:memory`: Rotor under a memory budget. Three phases in one run:
 *   1. budget: point reads by Zipf over a large table, one fresh Rotor per `--memory-limit` (and one
 *      with the default limit as the per-row reference): hit rate, evictions, RSS growth vs the limit;
 *   2. policies: the same load under each ROTOR_EVICTION_POLICY at the smallest limit, then a cold
 *      scan beside it: does the Zipf clients' hot set survive?
 *   3. caches: many registered caches on small tables: memory per cache, registration time, idle CPU,
 *      and `DROP DATABASE` marking them dropped.
 * Prints a markdown table and writes bench/results/memory.{json,md,svg}.
 *
 *   npm run bench:memory
 *   npm run bench:memory -- --rows 50000 --time 8 --caches 200        # a quick run
 *   npm run bench:memory -- --phases caches
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { note } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { benchServers } from './lib/servers.js';
import { parseSkew } from './lib/zipf.js';
import { MAX_CACHES, runCaches, type CachesResult } from './memory-caches.js';
import { memoryMarkdown, memorySvg, perRow, sizeLabel, targets, type MemoryReport } from './memory-report.js';
import { POLICIES, prepareBigTable, runZipf, type Policy, type ZipfLoad, type ZipfRunResult } from './memory-run.js';

const PHASES = ['budget', 'policy', 'caches'] as const;
type Phase = (typeof PHASES)[number];
const MIB = 2 ** 20;

function count(v: string): number {
  const n = Number(v.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

function positive(v: string): number {
  const n = count(v);
  if (n === 0) throw new InvalidArgumentError('must be at least 1');
  return n;
}

/** "16MiB" / "1GiB" / "65536": bytes, at least 1 MiB (Rotor's own minimum). */
export function parseSize(v: string): number {
  const m = /^(\d+)\s*(B|KiB|MiB|GiB|K|M|G)?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`"${v}" is not a size (bytes, or e.g. 64MiB, 1GiB)`);
  const unit = (m[2] ?? 'B').toUpperCase()[0];
  const bytes = Number(m[1]) * ({ B: 1, K: 2 ** 10, M: MIB, G: 2 ** 30 } as Record<string, number>)[unit];
  if (bytes < MIB) throw new InvalidArgumentError(`"${v}": the limit must be at least 1MiB`);
  return bytes;
}

function oneOf<T extends string>(all: ReadonlyArray<T>, what: string) {
  return (v: string): T[] => {
    const list = v.split(',').map((s) => s.trim()).filter(Boolean);
    for (const x of list) if (!(all as ReadonlyArray<string>).includes(x)) throw new InvalidArgumentError(`unknown ${what} "${x}" (${all.join(', ')})`);
    return list as T[];
  };
}

const opts = new Command('bench:memory')
  .description('Rotor under a memory budget: RSS vs --memory-limit under Zipf, eviction policies under a cold scan, cost of registered caches')
  .option('--rows <n>', 'rows the Zipf clients read', positive, 200_000)
  .option('--scan-rows <n>', 'cold rows after them, read only by the scan (default: half of --rows)', count)
  .option('--limits <list>', 'memory limits, one run each (the smallest is used for the policy comparison)',
    (v) => v.split(',').map((s) => parseSize(s)), [16 * MIB, 64 * MIB])
  .option('--policies <list>', POLICIES.join(','), oneOf(POLICIES, 'policy'), [...POLICIES])
  .option('--skew <s>', 'Zipf skew of the ids read', parseSkew, 1.08)
  .option('--clients <n>', 'Zipf client connections', positive, 32)
  .option('--workers <n>', 'Zipf load generator processes', positive, 2)
  .option('--time <s>', 'seconds of Zipf per run', positive, 20)
  .option('--scan-time <s>', 'seconds of cold scan after the Zipf part of each policy run', positive, 10)
  .option('--scan-clients <n>', 'scan client connections (one process)', positive, 32)
  .option('--caches <n>', `caches registered in phase 3 (at most ${MAX_CACHES})`, positive, 1000)
  .option('--cache-step <n>', 'measure memory every this many registrations', positive, 100)
  .option('--idle <s>', 'seconds of each idle-CPU measurement', positive, 15)
  .option('--phases <list>', PHASES.join(','), oneOf(PHASES, 'phase'), [...PHASES])
  .option('--seed <n>', 'random seed', count, 1)
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench")')
  .option('--json <path>', 'JSON result path (default bench/results/memory.json)')
  .option('--name <base>', 'base name of the result files', 'memory')
  .parse()
  .opts<{
    rows: number; scanRows?: number; limits: number[]; policies: Policy[]; skew: number; clients: number; workers: number; time: number;
    scanTime: number; scanClients: number; caches: number; cacheStep: number; idle: number; phases: Phase[]; seed: number;
    upstream?: string; json?: string; name: string;
  }>();

const scanRows = opts.scanRows ?? Math.ceil(opts.rows / 2);
const limits = [...new Set(opts.limits)].sort((a, b) => a - b);
const servers = await benchServers({ upstream: opts.upstream, needRedis: false });
note(`upstream ${servers.upstreamUrl}; phases ${opts.phases.join(', ')}`);
// Every Rotor here runs with a preload that collects garbage on SIGUSR2 (memory after GC).
const gcPreload = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'lib', 'gc-on-signal.mjs')).href;
process.env.ROTOR_BENCH_NODE_FLAGS = `${process.env.ROTOR_BENCH_NODE_FLAGS ?? ''} --expose-gc --import ${gcPreload}`;

const budget: ZipfRunResult[] = [];
const policies: ZipfRunResult[] = [];
let caches: CachesResult | null = null;
let load: { loaded: boolean; seconds: number } | null = null;
if (opts.phases.includes('budget') || opts.phases.includes('policy')) {
  note(`mem_big: ${opts.rows.toLocaleString('en-US')} rows + ${scanRows.toLocaleString('en-US')} cold rows…`);
  load = await prepareBigTable(servers.upstreamUrl, { rows: opts.rows, scanRows, seed: opts.seed });
  const zipfLoad: ZipfLoad = {
    upstreamUrl: servers.upstreamUrl, rows: opts.rows, scanRows, skew: opts.skew, clients: opts.clients,
    scanClients: opts.scanClients, workers: opts.workers, seed: opts.seed,
  };
  if (opts.phases.includes('budget')) {
    for (const limitBytes of [...limits, null]) {
      budget.push(await runZipf(zipfLoad, {
        phase: 'budget', label: `limit ${sizeLabel(limitBytes)}`, limitBytes, policy: 'admission', seconds: opts.time, scanSeconds: 0,
      }));
    }
  }
  if (opts.phases.includes('policy')) {
    for (const policy of opts.policies) {
      policies.push(await runZipf(zipfLoad, {
        phase: 'policy', label: `${policy} ${sizeLabel(limits[0])}`, limitBytes: limits[0], policy, seconds: opts.time, scanSeconds: opts.scanTime,
      }));
    }
  }
}
if (opts.phases.includes('caches')) {
  caches = await runCaches({ upstreamUrl: servers.upstreamUrl, caches: opts.caches, step: opts.cacheStep, idleSeconds: opts.idle });
}

const params = { ...opts, scanRows, limits, machine: machine(), finishedAt: new Date().toISOString(), load };
const report: MemoryReport = {
  params, budget, policies, caches,
  summary: { perRow: perRow(budget.find((b) => b.spec.limitBytes === null && b.status === 'ok')), targets: targets({ budget, policies, caches }) },
};
const markdown = memoryMarkdown(report);
process.stdout.write(`${markdown}\n`);
const files = writeReport(opts.name, { json: report, markdown, svg: memorySvg(report) }, opts.json);
note(`wrote ${files.join(', ')}`);
const failed = [...budget, ...policies].filter((r) => r.status === 'failed').map((r) => `${r.spec.label} (${r.reason})`);
if (caches?.status === 'failed') failed.push(`caches (${caches.reason})`);
if (failed.length) note(`FAILED: ${failed.join('; ')}`);
process.exit(failed.length ? 1 : 0);
