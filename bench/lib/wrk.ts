/**
 * wrk (C, independent of Node) as an HTTP load generator: keep-alive connections sending GETs of
 * random keys, built by a small Lua script; its summary parsed. Installs Debian's wrk when missing
 * (as root), as sysbench.ts does for sysbench.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTool } from '../../scripts/private-server.js';

export interface WrkResult {
  readonly requests: number;
  readonly rps: number;
  readonly seconds: number;
  /** Answers that were neither 2xx nor 3xx, and socket errors. */
  readonly errors: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly avg: number; readonly max: number };
}

export interface WrkRun {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /** The path before the key: `/v1/caches/NAME?key=` (a key from 1 to `keys` is appended). */
  readonly pathPrefix: string;
  readonly keys: number;
  readonly connections: number;
  readonly threads: number;
  readonly seconds: number;
  readonly headers?: Readonly<Record<string, string>>;
}

function ms(value: string, unit: string): number {
  const v = Number(value);
  return unit === 'us' ? v / 1000 : unit === 's' ? v * 1000 : unit === 'm' ? v * 60_000 : v;
}

/** Parses wrk 4's report (run with --latency). */
export function parseWrk(out: string): WrkResult {
  const lat = (re: RegExp): number => {
    const m = re.exec(out);
    return m ? ms(m[1], m[2]) : NaN;
  };
  const requests = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sockets = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: requests ? Number(requests[1]) : NaN,
    seconds: requests ? ms(requests[2], requests[3]) / 1000 : NaN,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    errors: (non2xx ? Number(non2xx[1]) : 0) + (sockets ? Number(sockets[1]) + Number(sockets[2]) + Number(sockets[3]) + Number(sockets[4]) : 0),
    latencyMs: {
      avg: lat(/Latency\s+([\d.]+)(us|ms|s|m)/),
      max: lat(/Latency\s+[\d.]+(?:us|ms|s|m)\s+[\d.]+(?:us|ms|s|m)\s+([\d.]+)(us|ms|s|m)/),
      p50: lat(/50%\s+([\d.]+)(us|ms|s|m)/),
      p99: lat(/99%\s+([\d.]+)(us|ms|s|m)/),
    },
  };
}

/** Runs wrk once; throws with its output when it fails or sees errors. */
export async function wrkRun(o: WrkRun): Promise<WrkResult> {
  const bin = ensureTool('wrk', 'wrk');
  const dir = mkdtempSync(join(tmpdir(), 'rotor-wrk-'));
  const script = join(dir, 'keys.lua');
  const headers = Object.entries(o.headers ?? {}).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join('\n');
  writeFileSync(script, `${headers}
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function() math.randomseed(os.time() + (seed or 0)) end
request = function() return wrk.format("GET", ${JSON.stringify(o.pathPrefix)} .. math.random(1, ${o.keys})) end
`);
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, '--latency', '-s', script, o.url];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (o.seconds + 60) * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`wrk exited ${code}: ${text.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
  const r = parseWrk(out);
  if (!Number.isFinite(r.requests) || r.requests === 0) throw new Error(`wrk measured nothing: ${out.trim().split('\n').slice(-3).join(' | ')}`);
  if (r.errors > r.requests / 100) throw new Error(`wrk saw ${r.errors} errors in ${r.requests} requests`);
  return r;
}
