/**
 * Every client session holds two sockets (the client's and its upstream session's), so thousands
 * of clients need tens of thousands of file descriptors. Node has no setrlimit(2); on Linux the
 * util-linux `prlimit` tool raises this process's soft RLIMIT_NOFILE to its hard limit, which any
 * process may do for itself. Raising the hard limit needs root (`ulimit -Hn`, systemd's
 * LimitNOFILE): Rotor says so when the hard limit is below what `--max-clients` needs.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export interface FdLimits {
  readonly soft: number;
  readonly hard: number;
}

/** This process's open-files limits, from /proc (null where /proc is not Linux's). */
export function fdLimits(pid: number | 'self' = 'self'): FdLimits | null {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const m = line ? /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(line) : null;
    if (!m) return null;
    const n = (s: string) => (s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
    return { soft: n(m[1]), hard: n(m[2]) };
  } catch {
    return null;
  }
}

/** Descriptors `maxClients` sessions need: two sockets each, plus the listeners, logs and pools. */
export function fdsNeeded(maxClients: number): number {
  return 2 * maxClients + 256;
}

/**
 * Raises the soft limit to the hard limit when it is lower. Returns the limits in effect and a
 * warning when they still fall short of `needed`.
 */
export function raiseFdLimit(needed: number): { limits: FdLimits | null; warning: string | null } {
  let limits = fdLimits();
  if (limits !== null && limits.soft < limits.hard) {
    const hard = limits.hard === Number.MAX_SAFE_INTEGER ? 'unlimited' : String(limits.hard);
    spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`], { stdio: 'ignore' });
    limits = fdLimits();
  }
  if (limits === null || limits.soft >= needed) return { limits, warning: null };
  return {
    limits,
    warning: `the open-files limit is ${limits.soft}; --max-clients needs about ${needed} (two sockets per client): ` +
      `raise it (ulimit -n ${needed}, or LimitNOFILE=${needed} under systemd) or lower --max-clients`,
  };
}
