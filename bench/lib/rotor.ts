/**
 * Starts Rotor for a benchmark contender (`node bin/rotor.js start …` on free loopback ports), talks
 * to its admin API (register caches, read cache stats and status) and stops it. A Rotor that cannot
 * start is reported as a reason string, so a benchmark can mark the contender skipped instead of
 * failing the whole run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/private-server.js';
import { rssBytes } from './proc.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** An admin API answer that was not 2xx. */
/**
 * Flags for a Rotor that fills key by key: a benchmark measuring misses, fills, warm starts or
 * eviction over a table small enough to be filled whole would otherwise measure hits
 * (`--complete-rows`, README "Complete caches").
 */
export const KEY_BY_KEY: readonly string[] = ['--complete-rows', '0'];

export class RotorApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, body: unknown) {
    const msg = typeof body === 'object' && body && 'message' in body ? String((body as { message: unknown }).message) : JSON.stringify(body);
    super(`${method} ${path} -> ${status}: ${msg}`);
    this.status = status;
    this.body = body;
  }
}

/** A running Rotor started by a benchmark. */
export interface RotorProcess {
  readonly pid: number;
  /** MySQL endpoint, same user/password/database as the upstream URL. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly adminUrl: string;
  readonly logFile: string;
  /** Registers a cache; resolves to its id. Rejects with RotorApiError (e.g. 422 not cacheable). */
  registerCache(sql: string, database?: string): Promise<string>;
  /** GET /api/caches/:id */
  cache(id: string): Promise<{ stats?: Record<string, number> } & Record<string, unknown>>;
  /** GET /api/status */
  status(): Promise<Record<string, unknown>>;
  /** Binlog lag in ms from /api/status, or null when Rotor does not report one. */
  lagMs(): Promise<number | null>;
  /** Resident memory in bytes (from /api/status when reported, else /proc). */
  rss(): Promise<number | null>;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

/** Why Rotor cannot run from this checkout (or from `root`, another one), or null when it can be tried. */
export function rotorUnavailable(root = repoRoot): string | null {
  if (!existsSync(join(root, 'bin', 'rotor.js'))) return `${root === repoRoot ? '' : `${root}: `}bin/rotor.js is missing`;
  if (!existsSync(join(root, 'src', 'cli.ts'))) return 'src/cli.ts is missing (Rotor not built yet)';
  if (!existsSync(join(root, 'src', 'index.ts'))) return 'src/index.ts is missing (Rotor not wired yet)';
  return null;
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text for the error message
  }
  if (!res.ok) throw new RotorApiError(method, path, res.status, parsed);
  return parsed;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The value at `path` inside a parsed JSON answer, or undefined. */
export function pick(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * Starts Rotor in front of `upstream` and waits until /health says ok (at most `timeoutMs`). `env`
 * adds environment variables for that Rotor only (e.g. ROTOR_EVICTION_POLICY); `root` runs the Rotor of
 * another checkout (an A/B of two commits in one run).
 */
export async function startRotor(
  upstream: string,
  opts: { timeoutMs?: number; extraArgs?: readonly string[]; env?: Readonly<Record<string, string>>; root?: string } = {},
): Promise<RotorProcess> {
  const root = opts.root === undefined ? repoRoot : resolve(opts.root);
  const why = rotorUnavailable(root);
  if (why) throw new Error(why);
  const port = await freePort();
  const adminPort = await freePort();
  const logFile = join(mkdtempSync(join(tmpdir(), 'rotor-bench-')), 'rotor.log');
  const log = createWriteStream(logFile);
  const args = [
    join(root, 'bin', 'rotor.js'), 'start', '--upstream', upstream,
    '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`, '--log-level', 'warn',
    ...(opts.extraArgs ?? []),
  ];
  // ROTOR_BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the Rotor under test.
  const nodeFlags = (process.env.ROTOR_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env, TZ: 'UTC' } });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: string | null = null;
  const gone = new Promise<void>((res) => child.once('exit', (code, sig) => {
    exited = `exited with ${sig ?? code}`;
    res();
  }));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (true) {
    if (exited) throw new Error(`rotor ${exited}: ${tail(logFile) || '(no output)'}`);
    try {
      const res = await fetch(`${adminUrl}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`rotor did not become healthy within ${(opts.timeoutMs ?? 30_000) / 1000}s: ${tail(logFile) || '(no output)'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = new URL(upstream);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  const pid = child.pid ?? 0;
  return {
    pid, url: url.href, host: '127.0.0.1', port, adminUrl, logFile,
    async registerCache(sql, database) {
      const body = await api(adminUrl, 'POST', '/api/caches', database ? { sql, database } : { sql });
      const id = pick(body, 'id');
      if (typeof id !== 'string' && typeof id !== 'number') throw new Error(`POST /api/caches answered without an id: ${JSON.stringify(body)}`);
      return String(id);
    },
    async cache(id) {
      return (await api(adminUrl, 'GET', `/api/caches/${encodeURIComponent(id)}`)) as { stats?: Record<string, number> };
    },
    async status() {
      return (await api(adminUrl, 'GET', '/api/status')) as Record<string, unknown>;
    },
    async lagMs() {
      const lag = pick(await api(adminUrl, 'GET', '/api/status'), 'binlog', 'lagMs');
      return typeof lag === 'number' && Number.isFinite(lag) ? lag : null;
    },
    async rss() {
      const fromApi = pick(await api(adminUrl, 'GET', '/api/status').catch(() => null), 'memory', 'rss');
      return typeof fromApi === 'number' ? fromApi : rssBytes(pid);
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
      log.end();
    },
  };
}

/** Hits and misses of caches `ids` of `rotor`, summed (over its workers too); null when one cannot be read. */
export async function cacheHitCounts(rotor: RotorProcess, ids: ReadonlyArray<string>): Promise<{ hits: number; misses: number } | null> {
  let hits = 0;
  let misses = 0;
  for (const id of ids) {
    const s = (await rotor.cache(id).catch(() => ({ stats: undefined }))).stats;
    if (!s || typeof s.hits !== 'number') return null;
    hits += s.hits;
    misses += typeof s.misses === 'number' ? s.misses : 0;
  }
  return { hits, misses };
}
