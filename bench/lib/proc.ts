/** CPU time and memory of a process, read from /proc (Linux), for "CPU-µs per query" figures. */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on

/** User + system CPU time of `pid` in microseconds, or null when it cannot be read. */
export function cpuMicros(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces; fields after the closing paren are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1_000_000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Resident set size of `pid` in bytes, or null. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Measures the CPU a set of processes spends between `start()` and `stop()`. */
export class CpuMeter {
  readonly #pids: ReadonlyMap<string, number>;
  #before = new Map<string, number | null>();

  constructor(pids: Readonly<Record<string, number | undefined>>) {
    this.#pids = new Map(Object.entries(pids).filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] > 0));
  }

  start(): void {
    this.#before = new Map([...this.#pids].map(([name, pid]) => [name, cpuMicros(pid)]));
  }

  /** CPU µs per process name since `start()`; a process that could not be read is left out. */
  stop(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pid] of this.#pids) {
      const a = this.#before.get(name);
      const b = cpuMicros(pid);
      if (a !== null && a !== undefined && b !== null) out[name] = b - a;
    }
    return out;
  }
}
