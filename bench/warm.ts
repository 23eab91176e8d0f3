/**
 * `npm run bench:warm`: what warm start buys after a restart. One Rotor (`--data-dir`, the default
 * `--miss-policy relay`) serves `--train` Zipf reads of `--keys` rows and stops cleanly, recording
 * its hot keys. Then, each from a copy of that data dir, back to back in this run:
 * - **warm, read at once**: restarted; the reads begin as soon as it answers /health, while the
 *   warm-up runs;
 * - **warm, after warm-up**: restarted; the reads begin once `/api/status` says the warm-up is done;
 * - **cold**: restarted with `--warm-keys 0`.
 * Each reads the same `--reads` Zipf keys (another seed than the training) on one connection; the
 * hit rate (the cache's hits / reads) is reported over the first 100, 1,000 and all of them.
 *
 * Writes bench/results/warm.{json,md,svg}.
 *
 *   npm run bench:warm
 *   npm run bench:warm -- --keys 100000 --train 50000 --reads 5000 --warm-keys 500
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
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

const opts = new Command('bench:warm')
  .description('Hit rate of the first reads after a restart, with and without warm start')
  .option('--keys <n>', 'rows (distinct keys)', positive, 20_000)
  .option('--train <n>', 'reads before the restart', positive, 20_000)
  .option('--reads <n>', 'reads measured after each restart', positive, 5_000)
  .option('--skew <s>', 'Zipf skew of the keys read', Number, 1.08)
  .option('--warm-keys <n>', 'hot keys recorded per cache', positive, 500)
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench")')
  .option('--json <path>', 'JSON result path (default bench/results/warm.json)')
  .parse()
  .opts<{ keys: number; train: number; reads: number; skew: number; warmKeys: number; upstream?: string; json?: string }>();

const servers = await benchServers({ upstream: opts.upstream, needRedis: false });
const admin = await connect(servers.upstreamUrl);
note(`preparing ${opts.keys} rows…`);
await admin.query('DROP TABLE IF EXISTS warm_kv; CREATE TABLE warm_kv (id INT PRIMARY KEY, c CHAR(100) NOT NULL)');
await admin.query(`INSERT INTO warm_kv SELECT seq, REPEAT(CHAR(97 + seq % 26), 100) FROM seq_1_to_${opts.keys}`);
await admin.end();

const SQL = 'SELECT c FROM warm_kv WHERE id = ';
const trained = await mkdtemp(join(tmpdir(), 'rotor-bench-warm-'));

async function hits(rotor: RotorProcess, id: string): Promise<number> {
  return (await rotor.cache(id)).stats?.hits ?? 0;
}

/** Reads `n` Zipf keys (seed `seed`) through Rotor; the cache's hits after the first 100, 1,000 and n reads. */
async function readKeys(rotor: RotorProcess, id: string, n: number, seed: number, label: string): Promise<number[]> {
  const zipf = new Zipf(opts.keys, opts.skew, seededRandom(seed));
  const conn = await connect(rotor.url);
  const base = await hits(rotor, id);
  const marks: number[] = [];
  const bar = new ProgressBar(label, n);
  try {
    for (let i = 1; i <= n; i++) {
      await conn.query(SQL + zipf.next());
      if (i === 100 || i === 1000 || i === n) marks.push((await hits(rotor, id)) - base);
      if (i % 100 === 0) bar.update(i);
    }
  } finally {
    await conn.end();
  }
  bar.done(n);
  return marks;
}

// Training: the instance whose hot keys the others start from.
const first = await startRotor(servers.upstreamUrl, { extraArgs: ['--data-dir', trained, '--warm-keys', String(opts.warmKeys), ...KEY_BY_KEY] });
let cacheId: string;
try {
  cacheId = await first.registerCache(`${SQL}?`);
  await readKeys(first, cacheId, opts.train, 1, 'training');
} finally {
  await first.stop();
}

interface Contender { readonly name: string; readonly warmKeys: number; readonly waitForWarmUp: boolean }
const contenders: Contender[] = [
  { name: 'warm, read at once', warmKeys: opts.warmKeys, waitForWarmUp: false },
  { name: 'warm, after warm-up', warmKeys: opts.warmKeys, waitForWarmUp: true },
  { name: 'cold (--warm-keys 0)', warmKeys: 0, waitForWarmUp: false },
];
const windows = [100, 1000, opts.reads];
const results: Array<{ name: string; hitRate: number[]; warm: unknown; warmUpMs: number | null }> = [];
for (const c of contenders) {
  const dir = await mkdtemp(join(tmpdir(), 'rotor-bench-warm-'));
  await cp(trained, dir, { recursive: true });
  const t0 = Date.now();
  const rotor = await startRotor(servers.upstreamUrl, { extraArgs: ['--data-dir', dir, '--warm-keys', String(c.warmKeys), ...KEY_BY_KEY] });
  try {
    let warmUpMs: number | null = null;
    if (c.waitForWarmUp) {
      while (pick(await rotor.status(), 'warm', 'done') !== true) await new Promise((r) => setTimeout(r, 20));
      warmUpMs = Date.now() - t0;
    }
    const marks = await readKeys(rotor, cacheId, opts.reads, 2, c.name.slice(0, 14));
    results.push({ name: c.name, hitRate: marks.map((h, i) => h / Math.min(windows[i], opts.reads)), warm: pick(await rotor.status(), 'warm'), warmUpMs });
  } finally {
    await rotor.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
await rm(trained, { recursive: true, force: true });

const cold = results[results.length - 1];
const ratio = (r: typeof cold, i: number): string => cold.hitRate[i] > 0 ? `${fmt(r.hitRate[i] / cold.hitRate[i], 2)}×` : '—';
const header = ['contender', 'hit rate: first 100', 'first 1,000', `all ${opts.reads.toLocaleString('en-US')}`, '÷ cold: first 100', 'first 1,000', 'all', 'warm-up done (ms after start)'];
const md = [
  `# Warm start — hit rate of the first reads after a restart`,
  '',
  `${opts.keys.toLocaleString('en-US')} keys, Zipf ${opts.skew}; ${opts.train.toLocaleString('en-US')} reads before the restart; --warm-keys ${opts.warmKeys}, --warm-rate default; --miss-policy relay.`,
  '',
  table(header, results.map((r) => [r.name, ...r.hitRate.map((h) => `${fmt(h * 100, 1)} %`), ratio(r, 0), ratio(r, 1), ratio(r, 2), r.warmUpMs])),
].join('\n');
const svg = svgDocument([
  barChart('Hit rate of the first reads after a restart', '%', windows.map((w) => `first ${w.toLocaleString('en-US')}`), results.map((r) => r.name), results.map((r) => r.hitRate.map((h) => Math.round(h * 1000) / 10))),
]);
for (const f of writeReport('warm', { json: { params: { ...opts, machine: machine() }, results }, markdown: md, svg }, opts.json)) note(`wrote ${f}`);
process.stdout.write(`${md}\n`);
process.exit(0);
