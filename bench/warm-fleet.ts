/**
 * `npm run bench:warm-fleet`: what warm start over Redis buys a new instance joining a fleet. A
 * first Rotor (`--redis`, no data dir, `--miss-policy relay`) serves `--train` Zipf reads of
 * `--keys` rows and stops cleanly, leaving its hot keys in Redis. Then, back to back in this run,
 * a new Rotor with no data dir starts against the same Redis and reads at once (no wait for the
 * warm-up), with `--warm-keys` 0 (cold) and each of `--warm-keys-list`, then with the largest of
 * them reading once its warm-up is done (the time includes the wait); before each, Redis holds
 * exactly what the first Rotor left (a contender's own contribution is removed).
 *
 * Each reads Zipf keys (another seed than the training) on one connection until a window of
 * `--window` reads is at least 90 % hits (the cache's hits, from /api/caches) or `--max-reads`:
 * reported are the reads and the milliseconds from its start (spawn to the end of that window),
 * as ratios to cold.
 *
 * Writes bench/results/warm-fleet.{json,md,svg}.
 *
 *   npm run bench:warm-fleet
 *   npm run bench:warm-fleet -- --keys 20000 --warm-keys-list 500,2000
 */
import { Command, InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import { startRedis } from '../scripts/private-server.js';
import { fmt, table } from './lib/markdown.js';
import { note, ProgressBar } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { KEY_BY_KEY, pick, startRotor, type RotorProcess } from './lib/rotor.js';
import { benchServers, connect } from './lib/servers.js';
import { barChart, svgDocument } from './lib/svg.js';
import { seededRandom, Zipf } from './lib/zipf.js';

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const opts = new Command('bench:warm-fleet')
  .description('Reads and time for a new instance to reach 90 % hits, with and without warm start over Redis')
  .option('--keys <n>', 'rows (distinct keys)', positive, 5_000)
  .option('--train <n>', 'reads served by the first instance', positive, 20_000)
  .option('--skew <s>', 'Zipf skew of the keys read', Number, 1.08)
  .option('--warm-keys-list <list>', 'the warm contenders\' --warm-keys', '500,2000')
  .option('--window <n>', 'reads per hit-rate window', positive, 250)
  .option('--target <p>', 'hit rate to reach', Number, 0.9)
  .option('--max-reads <n>', 'reads at most per contender', positive, 60_000)
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench")')
  .option('--json <path>', 'JSON result path (default bench/results/warm-fleet.json)')
  .parse()
  .opts<{ keys: number; train: number; skew: number; warmKeysList: string; window: number; target: number; maxReads: number; upstream?: string; json?: string }>();

const warmList = opts.warmKeysList.split(',').map((s) => positive(s.trim()));
const servers = await benchServers({ upstream: opts.upstream, needRedis: false });
// A private Redis of this benchmark's own, emptied: a registry of another run would be shared.
const redisUrl = (await startRedis('warm-fleet')).url;
const redis = new Redis(redisUrl);
await redis.flushdb();

const admin = await connect(servers.upstreamUrl);
note(`preparing ${opts.keys} rows…`);
await admin.query('DROP TABLE IF EXISTS warm_fleet_kv; CREATE TABLE warm_fleet_kv (id INT PRIMARY KEY, c CHAR(100) NOT NULL)');
await admin.query(`INSERT INTO warm_fleet_kv SELECT seq, REPEAT(CHAR(97 + seq % 26), 100) FROM seq_1_to_${opts.keys}`);
await admin.end();

const SQL = 'SELECT c FROM warm_fleet_kv WHERE id = ';
const args = (warmKeys: number, serverId: number): string[] => ['--redis', redisUrl, '--warm-keys', String(warmKeys), '--server-id', String(serverId), ...KEY_BY_KEY];
const hits = async (rotor: RotorProcess, id: string): Promise<number> => (await rotor.cache(id)).stats?.hits ?? 0;

// The fleet so far: one instance, which leaves its hot keys in Redis at its clean stop.
const first = await startRotor(servers.upstreamUrl, { extraArgs: args(Math.max(...warmList), 4901) });
let cacheId: string;
try {
  cacheId = await first.registerCache(`${SQL}?`);
  const zipf = new Zipf(opts.keys, opts.skew, seededRandom(1));
  const conn = await connect(first.url);
  const bar = new ProgressBar('training', opts.train);
  for (let i = 1; i <= opts.train; i++) {
    await conn.query(SQL + zipf.next());
    if (i % 500 === 0) bar.update(i);
  }
  bar.done(opts.train);
  await conn.end();
} finally {
  await first.stop();
}
const HOT = `rotor:hot:${cacheId}`;
const trained = await redis.hgetall(HOT);

interface Result { name: string; warmKeys: number; waitForWarmUp: boolean; reads: number | null; ms: number | null; firstWindow: number; warm: unknown }
const results: Result[] = [];
const contenders = [
  { warmKeys: 0, waitForWarmUp: false },
  ...warmList.map((warmKeys) => ({ warmKeys, waitForWarmUp: false })),
  { warmKeys: Math.max(...warmList), waitForWarmUp: true },
];
for (const [i, { warmKeys, waitForWarmUp }] of contenders.entries()) {
  await redis.del(HOT);
  if (Object.keys(trained).length > 0) await redis.hset(HOT, trained);
  const name = warmKeys === 0 ? 'cold (--warm-keys 0)' : `warm, --warm-keys ${warmKeys}, ${waitForWarmUp ? 'reads after the warm-up' : 'reads at once'}`;
  const t0 = performance.now();
  const rotor = await startRotor(servers.upstreamUrl, { extraArgs: args(warmKeys, 4902 + i) });
  try {
    // The registry reaches it at start; reads begin at once (during the warm-up), or once it is done.
    while (waitForWarmUp && pick(await rotor.status(), 'warm', 'done') !== true) await new Promise((r) => setTimeout(r, 20));
    const zipf = new Zipf(opts.keys, opts.skew, seededRandom(2));
    const conn = await connect(rotor.url);
    const bar = new ProgressBar(name.slice(0, 14), opts.maxReads);
    let base = await hits(rotor, cacheId);
    let reads: number | null = null;
    let ms: number | null = null;
    let firstWindow = -1;
    for (let n = 1; n <= opts.maxReads; n++) {
      await conn.query(SQL + zipf.next());
      if (n % opts.window !== 0) continue;
      const h = await hits(rotor, cacheId);
      const rate = (h - base) / opts.window;
      base = h;
      if (firstWindow < 0) firstWindow = rate;
      bar.update(n);
      if (rate >= opts.target) {
        reads = n;
        ms = Math.round(performance.now() - t0);
        break;
      }
    }
    bar.done(reads ?? opts.maxReads);
    await conn.end();
    results.push({ name, warmKeys, waitForWarmUp, reads, ms, firstWindow, warm: pick(await rotor.status(), 'warm') });
  } finally {
    await rotor.stop();
  }
}
redis.disconnect();

const cold = results[0];
const ratio = (x: number | null, c: number | null): string => (x !== null && c !== null && x > 0 ? `${fmt(c / x, 1)}× fewer` : '—');
const pct = (opts.target * 100).toFixed(0);
const md = [
  `# Warm start over Redis — a new instance joining the fleet`,
  '',
  `${opts.keys.toLocaleString('en-US')} keys, Zipf ${opts.skew}; the first instance served ${opts.train.toLocaleString('en-US')} reads and left its hot keys in Redis; the new instance (no data dir) reads at once or after its warm-up, --miss-policy relay, --warm-rate default. Reached: the first window of ${opts.window} reads with ≥ ${pct} % hits.`,
  '',
  table(
    ['new instance', `reads to ${pct} %`, `ms from start to ${pct} %`, 'hit rate, first window', 'reads ÷ cold', 'ms ÷ cold'],
    results.map((r) => [r.name, r.reads ?? `> ${opts.maxReads}`, r.ms ?? '—', `${fmt(r.firstWindow * 100, 1)} %`, r === cold ? '1' : ratio(r.reads, cold.reads), r === cold ? '1' : ratio(r.ms, cold.ms)]),
  ),
].join('\n');
const svg = svgDocument([
  barChart(`Reads until a window is ${pct} % hits`, 'reads', ['reads'], results.map((r) => r.name), results.map((r) => [r.reads ?? opts.maxReads])),
]);
for (const f of writeReport('warm-fleet', { json: { params: { ...opts, machine: machine() }, results }, markdown: md, svg }, opts.json)) note(`wrote ${f}`);
process.stdout.write(`${md}\n`);
process.exit(0);
