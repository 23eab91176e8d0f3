/**
 * `npm run demo`: on a fresh machine, starts a private MariaDB and Redis (scripts/private-server.ts),
 * then runs a short rotating-blades comparison — every contender, Rotor started in front of MariaDB
 * by the benchmark itself — and prints the table. Takes well under three minutes on 2 cores.
 *
 *   npm run demo                      # 200 clients, 5,000 iterations
 *   npm run demo -- --keep            # leave the private servers running afterwards
 *   npm run demo -- --clients 500 --iterations 10000
 *
 * Contenders that cannot run yet (e.g. Rotor not built, a cache Rotor does not support) are listed
 * as skipped with the reason; the demo fails only if a contender that ran got a wrong final count.
 */
import { DEFAULT_CONTENDERS } from '../bench/blades-queries.js';
import { bladesMarkdown, bladesSvg } from '../bench/blades-report.js';
import { runBlades } from '../bench/blades-run.js';
import { machine, writeReport } from '../bench/lib/report.js';
import { startMariaDb, startRedis, stopServer } from './private-server.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}

const clients = flag('clients', 200);
const iterations = flag('iterations', 5000);
const keep = process.argv.includes('--keep');
const started = performance.now();
process.stderr.write('starting a private MariaDB and Redis (installing them first if they are missing)…\n');
const mariadb = await startMariaDb('demo');
const redis = await startRedis('demo');
process.stderr.write(`MariaDB ${mariadb.url}\nRedis   ${redis.url}\n`);
process.stderr.write(`rotating blades: ${clients} clients, ${iterations} iterations, contenders ${DEFAULT_CONTENDERS.join(', ')}\n`);

const report = await runBlades({
  clients, iterations, item: 12345678, contenders: DEFAULT_CONTENDERS, workers: 2, ttlSeconds: 5, stallSeconds: 60, deadlockDetect: false, pin: null, rate: null,
  upstreamUrl: mariadb.url, redisUrl: redis.url, mariadbPid: mariadb.pid,
});
const full = { ...report, params: { ...report.params, machine: machine() } };
const markdown = bladesMarkdown(full);
writeReport('demo', { json: full, markdown, svg: bladesSvg(full) });

process.stdout.write(`\n${markdown}\n\n`);
const results = Object.entries(report.contenders);
const skipped = results.filter(([, r]) => r.status === 'skipped');
const failed = results.filter(([, r]) => r.status === 'failed');
for (const [name, r] of skipped) process.stdout.write(`SKIPPED ${name}: ${r.reason}\n`);
for (const [name, r] of failed) process.stdout.write(`FAILED  ${name}: ${r.reason}\n`);
process.stdout.write(`\ndemo took ${((performance.now() - started) / 1000).toFixed(0)} s; charts and JSON in bench/results/demo.{svg,json,md}\n`);
if (keep) {
  process.stdout.write('The private servers keep running (stop them with: npx tsx scripts/private-server.ts stop-all).\n');
} else {
  await stopServer('mariadb', 'demo');
  await stopServer('redis', 'demo');
}
process.exit(failed.length ? 1 : 0);
