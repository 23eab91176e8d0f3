/**
 * `npm run bench:binlog`: how fast Rotor's binlog ingestion is (its targets are printed with the results).
 *
 *   1. catch-up decode rate: a backlog written before the stream starts, read as fast as it can:
 *      rows/s (1,000-row transactions) and single-row transactions/s, with the CPU time the reading
 *      process spent (per core);
 *   2. commit → batch latency at a steady write rate (default 2,000 single-row transactions/s)
 *      from a separate writer process: from the moment the writer holds the commit's OK to the
 *      moment the batch reaches the sink (same monotonic clock), p50/p99/max.
 *
 * Writes bench/results/binlog.{json,md,svg}. About a minute with the defaults.
 *
 *   npm run bench:binlog -- --rows 300000 --transactions 100000 --rate 2000 --seconds 20
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import mysql from 'mysql2/promise';
import ZongJi, { type AnyBinlogEvent } from '@vlasky/zongji';
import { startMariaDb } from '../scripts/private-server.js';
import { comparePositions, type Batch, type BinlogPosition } from '../src/dataflow/batch.js';
import type { BinlogSink } from '../src/binlog/sink.js';
import { BinlogStream } from '../src/binlog/stream.js';
import { binlogConnectionOptions } from '../src/binlog/row-values.js';
import { fmt, table } from './lib/markdown.js';
import { ProgressBar, note } from './lib/progress.js';
import { machine, writeReport } from './lib/report.js';
import { percentile, round } from './lib/stats.js';
import { barChart, svgDocument } from './lib/svg.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function positive(v: string): number {
  const n = Number(v.replace(/[_,]/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

const opts = new Command('bench:binlog')
  .description('Binlog ingestion: catch-up decode rate and commit → batch latency at a steady write rate')
  .option('--rows <n>', 'rows in the bulk backlog (1,000-row transactions)', positive, 300_000)
  .option('--transactions <n>', 'single-row transactions in the second backlog', positive, 100_000)
  .option('--rate <n>', 'steady writes per second for the latency phase', positive, 2_000)
  .option('--seconds <n>', 'length of the latency phases (split between zongji alone and Rotor)', positive, 30)
  .option('--upstream <url>', 'MariaDB to use (default: the private MariaDB "bench-binlog")')
  .parse()
  .opts<{ rows: number; transactions: number; rate: number; seconds: number; upstream?: string }>();

const loadBefore = loadavg()[0];
const url = opts.upstream ?? (await startMariaDb('bench-binlog')).url;
const admin = await mysql.createConnection({ uri: url, multipleStatements: true });
await admin.query('DROP DATABASE IF EXISTS bench_binlog; CREATE DATABASE bench_binlog; USE bench_binlog');
await admin.query('CREATE TABLE bulk (id INT PRIMARY KEY, a BIGINT, b VARCHAR(64), c DECIMAL(12,2), d DATETIME(6))');
await admin.query('CREATE TABLE single (id INT PRIMARY KEY, v INT)');
await admin.query('CREATE TABLE steady (id INT PRIMARY KEY, v VARCHAR(32))');
await admin.query(`CREATE PROCEDURE singles(n INT) BEGIN DECLARE i INT DEFAULT 0;
  WHILE i < n DO INSERT INTO single VALUES (i, i); SET i = i + 1; END WHILE; END`);
note(`upstream ${url}`);

async function binlogEnd(): Promise<BinlogPosition> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
  return { file: String(rows[0].File), position: Number(rows[0].Position) };
}

class CountingSink implements BinlogSink {
  rows = 0;
  batches = 0;
  onBatch: ((b: Batch, at: bigint) => void) | null = null;
  applyBatch(batch: Batch): void {
    this.batches++;
    for (const c of batch.changes) this.rows += c.deltas.length;
    this.onBatch?.(batch, process.hrtime.bigint());
  }
  applySchemaChange(): void { /* not measured */ }
}

interface CatchUp { rows: number; transactions: number; seconds: number; cpuSeconds: number; rowsPerSecond: number; transactionsPerSecond: number; transactionsPerCpuSecond: number; rowsPerCpuSecond: number }

/** Reads [from, to) as fast as the stream can and times it. */
async function catchUp(label: string, from: BinlogPosition, to: BinlogPosition, expectBatches: number): Promise<CatchUp> {
  const sink = new CountingSink();
  const stream = new BinlogStream({ url, serverId: 4242, sink, startAt: from });
  const bar = new ProgressBar(label, expectBatches);
  // Timed from the moment the stream is connected (start() resolves before the first event).
  await stream.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      bar.update(sink.batches, `${fmt(sink.rows / ((performance.now() - t0) / 1000), 0)} rows/s`);
      const p = stream.appliedPosition();
      if (p && comparePositions(p, to) >= 0) { clearInterval(tick); done(); }
    }, 5);
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  bar.done(sink.batches, `${fmt(sink.rows / seconds, 0)} rows/s`);
  await stream.stop();
  return {
    rows: sink.rows, transactions: sink.batches, seconds: round(seconds), cpuSeconds: round(cpuSeconds),
    rowsPerSecond: Math.round(sink.rows / seconds), transactionsPerSecond: Math.round(sink.batches / seconds),
    rowsPerCpuSecond: Math.round(sink.rows / cpuSeconds), transactionsPerCpuSecond: Math.round(sink.batches / cpuSeconds),
  };
}

/** The same backlog through zongji alone (no batches, no sink): the library's own ceiling. */
async function zongjiAlone(label: string, from: BinlogPosition, to: BinlogPosition, expect: number): Promise<{ transactions: number; seconds: number; cpuSeconds: number; transactionsPerCpuSecond: number }> {
  const z = new ZongJi({ uri: url, ...binlogConnectionOptions });
  const bar = new ProgressBar(label, expect);
  let commits = 0;
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  await new Promise<void>((done, fail) => {
    z.on('error', fail);
    // Timed from 'ready', like the stream: zongji emits it before it asks for the first event.
    z.once('ready', () => {
      cpu0 = process.cpuUsage();
      t0 = performance.now();
    });
    z.on('binlog', (ev: AnyBinlogEvent) => {
      if (ev.getEventName() !== 'xid') return;
      commits++;
      bar.update(commits);
      if (z.options.filename === to.file && ev.nextPosition >= to.position) done();
    });
    z.start({ serverId: 4244, filename: from.file, position: from.position });
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  bar.done(commits);
  z.stop();
  return { transactions: commits, seconds: round(seconds), cpuSeconds: round(cpuSeconds), transactionsPerCpuSecond: Math.round(commits / cpuSeconds) };
}

// Phase 1a: bulk rows.
let from = await binlogEnd();
{
  const bar = new ProgressBar('write bulk', opts.rows);
  for (let i = 0; i < opts.rows; i += 1000) {
    const n = Math.min(1000, opts.rows - i);
    const values = Array.from({ length: n }, (_, k) => `(${i + k}, ${(i + k) * 7919}, 'row ${i + k} of the bulk backlog', ${(i + k) % 100000}.25, '2026-11-22 07:00:00.${String(k).padStart(6, '0')}')`);
    await admin.query(`INSERT INTO bulk VALUES ${values.join(',')}`);
    bar.update(i + n);
  }
  bar.done(opts.rows);
}
const bulk = await catchUp('read bulk', from, await binlogEnd(), Math.ceil(opts.rows / 1000));

// Phase 1b: single-row transactions (a server-side loop writes them fastest).
from = await binlogEnd();
note(`writing ${opts.transactions} single-row transactions…`);
await admin.query('CALL singles(?)', [opts.transactions]);
const singlesEnd = await binlogEnd();
const zongjiOnly = await zongjiAlone('zongji alone', from, singlesEnd, opts.transactions);
const single = await catchUp('read singles', from, singlesEnd, opts.transactions);

// Phase 2: commit → batch latency at a steady rate, the writer in its own process.
const writerCode = `
const mysql = require('mysql2');
const [url, rate, seconds] = process.argv.slice(1);
const total = Math.round(Number(rate) * Number(seconds));
const conns = [0, 1, 2, 3].map(() => mysql.createConnection({ uri: url, database: 'bench_binlog' }));
let next = 0, done = 0, buf = [];
const t0 = process.hrtime.bigint() + 200000000n;
function flush() { if (buf.length) { process.send(buf); buf = []; } }
function loop(c) {
  if (next >= total) { if (++done === conns.length) { flush(); conns.forEach((x) => x.end()); process.send('done'); } return; }
  const id = next++;
  const due = t0 + BigInt(Math.round(id * 1e9 / Number(rate)));
  const wait = Number(due - process.hrtime.bigint()) / 1e6;
  const go = () => { const sent = process.hrtime.bigint(); c.query('INSERT INTO steady VALUES (?, ?)', [id, 'steady write ' + id], (err) => {
    if (err) { console.error(err.message); process.exit(1); }
    const ok = process.hrtime.bigint();
    buf.push([id, String(ok), Number(ok - sent) / 1e6]);
    if (buf.length >= 200) flush();
    loop(c);
  }); };
  if (wait > 1) setTimeout(go, wait); else go();
}
conns.forEach(loop);
`;
interface Latency {
  writes: number; delivered: number; missing: number; deliveredBeforeClientOk: number;
  p50Ms: number; p99Ms: number; maxMs: number; achievedRate: number;
  insertRoundTrip: { p50Ms: number; p99Ms: number }; cpuPercent: number;
}

/**
 * Writes `steady` rows at the target rate from a writer process and times each row from the
 * writer's OK to its arrival: in a batch at the sink (`rotor`), or at its commit event read by
 * zongji with no Rotor code in between (`zongji`).
 */
async function steadyLatency(label: string, reader: 'rotor' | 'zongji', seconds: number): Promise<Latency> {
  await admin.query('TRUNCATE TABLE steady');
  const okAt = new Map<number, bigint>();
  const roundTrips: number[] = [];
  const arrivedAt = new Map<number, bigint>();
  let stop: () => Promise<void>;
  if (reader === 'rotor') {
    const sink = new CountingSink();
    sink.onBatch = (batch, at) => {
      for (const c of batch.changes) if (c.table === 'steady') for (const d of c.deltas) arrivedAt.set(d.row[0] as number, at);
    };
    const stream = new BinlogStream({ url, serverId: 4243, sink });
    await stream.start();
    stop = () => stream.stop();
  } else {
    const z = new ZongJi({ uri: url, ...binlogConnectionOptions });
    let open: number[] = [];
    z.on('binlog', (ev: AnyBinlogEvent) => {
      const name = ev.getEventName();
      if (name === 'writerows') {
        const e = ev as unknown as { rows: Array<Record<string, unknown>> };
        for (const r of e.rows) if (typeof r.v === 'string' && r.v.startsWith('steady')) open.push(r.id as number);
      } else if (name === 'xid') {
        const at = process.hrtime.bigint();
        for (const id of open) arrivedAt.set(id, at);
        open = [];
      }
    });
    await new Promise<void>((ready, fail) => {
      z.once('ready', ready);
      z.on('error', fail);
      z.start({ serverId: 4245, startAtEnd: true });
    });
    stop = async () => { z.stop(); };
  }
  const total = Math.round(opts.rate * seconds);
  const bar = new ProgressBar(label, total);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, ['-e', writerCode, url, String(opts.rate), String(seconds)], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m: unknown) => {
      if (m === 'done') return done();
      for (const [id, at, rtt] of m as Array<[number, string, number]>) {
        okAt.set(id, BigInt(at));
        roundTrips.push(rtt);
      }
      bar.update(okAt.size);
    });
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`the writer exited with ${code}`))));
  });
  await new Promise((r) => setTimeout(r, 500));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  bar.done(okAt.size);
  await stop();
  const latencies: number[] = [];
  let beforeOk = 0;
  for (const [id, ok] of okAt) {
    const at = arrivedAt.get(id);
    if (at === undefined) continue;
    const ms = Number(at - ok) / 1e6;
    if (ms < 0) beforeOk++;
    latencies.push(Math.max(0, ms));
  }
  return {
    writes: okAt.size, delivered: latencies.length, missing: okAt.size - latencies.length, deliveredBeforeClientOk: beforeOk,
    p50Ms: round(percentile(latencies, 0.5)), p99Ms: round(percentile(latencies, 0.99)), maxMs: round(Math.max(0, ...latencies)),
    achievedRate: Math.round(okAt.size / elapsed),
    insertRoundTrip: { p50Ms: round(percentile(roundTrips, 0.5)), p99Ms: round(percentile(roundTrips, 0.99)) },
    cpuPercent: round(((cpu.user + cpu.system) / 1e6 / elapsed) * 100, 1),
  };
}

const phaseSeconds = opts.seconds / 2;
const zongjiLatency = await steadyLatency('steady: zongji', 'zongji', phaseSeconds);
const latency = await steadyLatency('steady: rotor', 'rotor', phaseSeconds);
await admin.end();
const missing = latency.missing;
const beforeOk = latency.deliveredBeforeClientOk;

const load = { before: round(loadBefore, 1), after: round(loadavg()[0], 1) };
const result = {
  benchmark: 'binlog', date: new Date().toISOString(), params: { ...opts, upstream: opts.upstream ?? 'private MariaDB "bench-binlog"', machine: machine() }, loadAverage: load,
  catchUp: { bulk, single, zongjiAlone: zongjiOnly, rotorOverZongji: round(single.transactionsPerCpuSecond / zongjiOnly.transactionsPerCpuSecond, 2) },
  latency, latencyZongjiAlone: zongjiLatency,
  targets: { p99Ms: 5, singleTransactionsPerCpuSecond: 50_000 },
};

const markdown = [
  '# Binlog ingestion',
  '',
  `${new Date().toISOString().slice(0, 10)}, ${machine().cpus} cores (${String(machine().cpuModel)}), ${process.version}. One Node process reads the binlog (zongji → batches → a counting sink). Machine load average (1 min) ${load.before} before, ${load.after} after: a shared box, so compare within a run.`,
  '',
  '## Catch-up decode rate',
  '',
  table(['backlog', 'rows', 'transactions', 'seconds', 'rows/s', 'transactions/s', 'rows per CPU-s', 'transactions per CPU-s'], [
    ['1,000-row transactions', fmt(bulk.rows, 0), fmt(bulk.transactions, 0), fmt(bulk.seconds), fmt(bulk.rowsPerSecond, 0), fmt(bulk.transactionsPerSecond, 0), fmt(bulk.rowsPerCpuSecond, 0), fmt(bulk.transactionsPerCpuSecond, 0)],
    ['single-row transactions', fmt(single.rows, 0), fmt(single.transactions, 0), fmt(single.seconds), fmt(single.rowsPerSecond, 0), fmt(single.transactionsPerSecond, 0), fmt(single.rowsPerCpuSecond, 0), fmt(single.transactionsPerCpuSecond, 0)],
  ]),
  '',
  `The same single-row backlog through zongji alone (no batches, no sink): ${fmt(zongjiOnly.transactionsPerCpuSecond, 0)} transactions per CPU-s; Rotor's stream reaches ${fmt(single.transactionsPerCpuSecond / zongjiOnly.transactionsPerCpuSecond, 2)}× of that.`,
  '',
  `Target: ≥ 50,000 single-row transactions/s on one core (per CPU-second above).`,
  '',
  `## Commit → batch latency at ${fmt(opts.rate, 0)} writes/s`,
  '',
  table(['reader', 'writes', 'achieved writes/s', 'p50 ms', 'p99 ms', 'max ms', 'reader CPU %', 'missing'], [
    ['zongji alone (commit event)', fmt(zongjiLatency.writes, 0), fmt(zongjiLatency.achievedRate, 0), fmt(zongjiLatency.p50Ms, 3), fmt(zongjiLatency.p99Ms, 3), fmt(zongjiLatency.maxMs, 3), fmt(zongjiLatency.cpuPercent, 1), fmt(zongjiLatency.missing, 0)],
    ['Rotor stream (batch at the sink)', fmt(latency.writes, 0), fmt(latency.achievedRate, 0), fmt(latency.p50Ms, 3), fmt(latency.p99Ms, 3), fmt(latency.maxMs, 3), fmt(latency.cpuPercent, 1), fmt(missing, 0)],
  ]),
  '',
  `From the writer process holding the commit's OK to the batch reaching the sink (one monotonic clock). ${fmt(beforeOk, 0)} batches arrived before their writer saw the OK (counted as 0). Target: p99 ≤ 5 ms.`,
  '',
  `Each reader gets ${fmt(phaseSeconds, 0)} s of writes, back to back. For scale, the INSERT round trip the writer saw (send → OK, the upstream's own commit latency on this box): p50 ${fmt(latency.insertRoundTrip.p50Ms, 3)} ms, p99 ${fmt(latency.insertRoundTrip.p99Ms, 3)} ms during the Rotor phase.`,
].join('\n');

const svg = svgDocument([
  barChart('Catch-up: single-row transactions per CPU-second', 'transactions per CPU-s', ['single-row transactions'], ['zongji alone', 'Rotor stream'], [[zongjiOnly.transactionsPerCpuSecond], [single.transactionsPerCpuSecond]]),
  barChart('Catch-up: rows per CPU-second (1,000-row transactions)', 'rows per CPU-s', ['bulk rows'], ['Rotor stream'], [[bulk.rowsPerCpuSecond]]),
  barChart(`Commit → delivery latency at ${opts.rate} writes/s`, 'ms', ['p50', 'p99'], ['zongji alone', 'Rotor stream'], [[zongjiLatency.p50Ms, zongjiLatency.p99Ms], [latency.p50Ms, latency.p99Ms]]),
], 'bench:binlog');

for (const f of writeReport('binlog', { json: result, markdown, svg })) note(`wrote ${f}`);
process.stdout.write(`${markdown}\n`);
process.exit(missing === 0 ? 0 : 1);
