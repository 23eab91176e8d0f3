/**
 * sysbench (C, independent of Node) as a load generator against any MySQL endpoint: prepare the
 * sbtest tables, run a built-in OLTP test, parse its summary. Installs Debian's sysbench when it is
 * missing and we run as root.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { note } from './progress.js';
import { connect, withEndpoint } from './servers.js';

/** What one sysbench run measured. */
export interface SysbenchResult {
  readonly queries: number;
  readonly qps: number;
  readonly transactions: number;
  readonly tps: number;
  readonly errors: number;
  readonly reconnects: number;
  readonly seconds: number;
  readonly latencyMs: { readonly min: number; readonly avg: number; readonly p99: number; readonly max: number };
}

export interface SysbenchTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/** The sysbench binary, installing it with apt-get when missing (as root). */
export function sysbenchBinary(): string {
  for (const p of ['/usr/bin/sysbench', '/usr/local/bin/sysbench']) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v sysbench'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  if (process.getuid?.() !== 0) throw new Error('sysbench is missing: apt-get install sysbench');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'sysbench'], { stdio: 'ignore', env });
  if (r.status !== 0) throw new Error('apt-get install sysbench failed');
  return '/usr/bin/sysbench';
}

/** A target from a mysql:// URL (database from its path unless given). */
export function targetOf(url: string, database?: string): SysbenchTarget {
  const u = new URL(url);
  return {
    host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password), database: database ?? (u.pathname.slice(1) || 'sbtest'),
  };
}

function connArgs(t: SysbenchTarget): string[] {
  return [`--mysql-host=${t.host}`, `--mysql-port=${t.port}`, `--mysql-user=${t.user}`, `--mysql-password=${t.password}`, `--mysql-db=${t.database}`];
}

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(sysbenchBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** Creates `tables` sbtest tables of `tableSize` rows (dropping any old ones first). */
export async function sysbenchPrepare(t: SysbenchTarget, tables: number, tableSize: number): Promise<void> {
  const common = ['oltp_common', ...connArgs(t), `--tables=${tables}`, `--table-size=${tableSize}`];
  await run([...common, 'cleanup'], 120_000);
  const r = await run([...common, `--threads=${Math.min(tables, 4)}`, 'prepare'], 600_000);
  if (r.code !== 0) throw new Error(`sysbench prepare failed: ${r.out.trim().split('\n').slice(-5).join(' | ')}`);
}

function num(out: string, re: RegExp): number {
  const m = re.exec(out);
  return m ? Number(m[1]) : NaN;
}

/** Parses sysbench 1.0's final report. */
export function parseSysbench(out: string): SysbenchResult {
  return {
    queries: num(out, /queries:\s+(\d+)\s+\(/),
    qps: num(out, /queries:\s+\d+\s+\(([\d.]+) per sec/),
    transactions: num(out, /transactions:\s+(\d+)\s+\(/),
    tps: num(out, /transactions:\s+\d+\s+\(([\d.]+) per sec/),
    errors: num(out, /ignored errors:\s+(\d+)/),
    reconnects: num(out, /reconnects:\s+(\d+)/),
    seconds: num(out, /total time:\s+([\d.]+)s/),
    latencyMs: {
      min: num(out, /min:\s+([\d.]+)/),
      avg: num(out, /avg:\s+([\d.]+)/),
      p99: num(out, /\d+th percentile:\s+([\d.]+)/),
      max: num(out, /max:\s+([\d.]+)/),
    },
  };
}

/** Options of one run. */
export interface SysbenchRun {
  readonly test: string;
  readonly threads: number;
  readonly seconds: number;
  readonly psMode: 'auto' | 'disable';
  readonly tables: number;
  readonly tableSize: number;
  readonly extra?: ReadonlyArray<string>;
}

/** Runs one sysbench test against `t`; throws with sysbench's own message when it fails. */
export async function sysbenchRun(t: SysbenchTarget, o: SysbenchRun): Promise<SysbenchResult> {
  const args = [
    o.test, ...connArgs(t), `--threads=${o.threads}`, `--time=${o.seconds}`, `--db-ps-mode=${o.psMode}`,
    `--tables=${o.tables}`, `--table-size=${o.tableSize}`, '--percentile=99', '--report-interval=0', '--rand-type=uniform',
    ...(o.extra ?? []), 'run',
  ];
  const r = await run(args, (o.seconds + 120) * 1000);
  const res = parseSysbench(r.out);
  if (r.code !== 0 || !Number.isFinite(res.queries)) {
    const msg = r.out.split('\n').filter((l) => /FATAL|error|Error/.test(l)).slice(0, 3).join(' | ') || r.out.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`sysbench ${o.test} (${o.threads} threads, ps ${o.psMode}) failed: ${msg}`);
  }
  return res;
}

/** Hits and misses of a Rotor's caches, summed; null when they cannot be read. */
export type HitCounts = () => Promise<{ hits: number; misses: number } | null>;

/**
 * Point selects through a Rotor in short sysbench runs (16 threads, 2 s, alternating `psModes`)
 * until 99 % of a run's reads hit (by `counts`) or `seconds` are spent: fills its caches before a
 * measurement.
 */
export async function warmUntilHits(t: SysbenchTarget, counts: HitCounts, o: { seconds: number; psModes: ReadonlyArray<'auto' | 'disable'>; tables: number; tableSize: number }): Promise<void> {
  const end = performance.now() + o.seconds * 1000;
  let chunk = 0;
  while (performance.now() < end) {
    const before = await counts();
    await sysbenchRun(t, { test: 'oltp_point_select', threads: 16, seconds: 2, psMode: o.psModes[chunk++ % o.psModes.length], tables: o.tables, tableSize: o.tableSize });
    const after = await counts();
    if (!before || !after) continue;
    const total = after.hits + after.misses - before.hits - before.misses;
    if (total > 0 && (after.hits - before.hits) / total >= 0.99) return;
  }
}

/**
 * The `sbtest` database on the MariaDB at `serverUrl` with `tables` sysbench tables of `tableSize`
 * rows (created when missing): its URL, the benchmarks' upstream.
 */
export async function sbtestUpstream(serverUrl: string, tables: number, tableSize: number): Promise<string> {
  const admin = await connect(serverUrl);
  await admin.query('CREATE DATABASE IF NOT EXISTS sbtest');
  // oltp_read_write with 1,000 threads prepares more statements than MariaDB's default allows.
  await admin.query('SET GLOBAL max_prepared_stmt_count = 1048576').catch((e: Error) => note(`max_prepared_stmt_count: ${e.message}`));
  await admin.end();
  const url = new URL(serverUrl);
  const upstream = withEndpoint(serverUrl, url.hostname, Number(url.port)).replace(/\/[^/]*$/, '/sbtest');
  note(`upstream ${upstream}; preparing ${tables} sbtest table(s) of ${tableSize} rows…`);
  await sysbenchPrepare(targetOf(upstream), tables, tableSize);
  return upstream;
}
