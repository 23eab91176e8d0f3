/**
 * Load generation in several processes, so the client is not the bottleneck (one Node process
 * saturates near 20–25k qps). The coordinator forks workers, sends each its share, waits until all
 * have connected their clients, starts them together, collects progress and results, and adds up
 * the workers' own CPU so the report can show what the load generator cost.
 *
 * Protocol: coordinator → worker `init` then `go` (or `stop`); worker → coordinator `ready`,
 * `progress`, then `result` or `error`.
 */
import { fork, type ChildProcess } from 'node:child_process';

type ToWorker<I> = { type: 'init'; init: I } | { type: 'go' } | { type: 'stop' };
type FromWorker<R> =
  | { type: 'ready' }
  | { type: 'progress'; progress: Progress }
  | { type: 'result'; result: R; cpuMicros: number }
  | { type: 'error'; message: string };

/** What a worker reports while running (cumulative). */
export interface Progress {
  readonly done: number;
  readonly retries: number;
  readonly [extra: string]: number;
}

/** A worker's run, prepared (connections open) and waiting for the start signal. */
export interface PreparedRun<R> {
  /** Runs the load; `report` sends cumulative progress; `stopped()` is true once the coordinator asked to stop. */
  run(report: (p: Progress) => void, stopped: () => boolean): Promise<R>;
}

/** Called in the worker file: serves the protocol with `prepare` doing the worker's setup. */
export function serveWorker<I, R>(prepare: (init: I) => Promise<PreparedRun<R>>): void {
  let prepared: PreparedRun<R> | null = null;
  let stopped = false;
  const send = (msg: FromWorker<R>): void => {
    process.send?.(msg);
  };
  const fail = (err: unknown): void => {
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    setTimeout(() => process.exit(1), 100);
  };
  process.on('message', (msg: ToWorker<I>) => {
    if (msg.type === 'init') {
      prepare(msg.init).then((p) => {
        prepared = p;
        send({ type: 'ready' });
      }, fail);
    } else if (msg.type === 'go' && prepared) {
      const before = process.cpuUsage();
      prepared.run((progress) => send({ type: 'progress', progress }), () => stopped).then((result) => {
        const cpu = process.cpuUsage(before);
        send({ type: 'result', result, cpuMicros: cpu.user + cpu.system });
        process.disconnect?.();
      }, fail);
    } else if (msg.type === 'stop') {
      stopped = true;
    }
  });
}

/** The coordinator's handle on a set of workers. */
export interface WorkerSet<R> {
  readonly pids: ReadonlyArray<number>;
  /** Starts every worker's load at once. */
  go(): void;
  /** Asks every worker to stop (duration-based runs). */
  stop(): void;
  /** Each worker's result, with its CPU time; rejects on the first worker failure. */
  readonly results: Promise<ReadonlyArray<{ readonly result: R; readonly cpuMicros: number }>>;
  /** Kills every worker (after a failure). */
  kill(): void;
}

/**
 * Forks one worker per init (running `script` through tsx) and resolves once all are ready.
 * `onProgress` receives each worker's cumulative progress.
 */
export async function startWorkers<I, R>(
  script: string, inits: ReadonlyArray<I>, onProgress: (worker: number, p: Progress) => void,
): Promise<WorkerSet<R>> {
  const children: ChildProcess[] = inits.map(() => fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const out: ({ result: R; cpuMicros: number } | undefined)[] = inits.map(() => undefined);
  let readyCount = 0;
  let onReady!: () => void;
  let onFail!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    onReady = res;
    onFail = rej;
  });
  let resolveAll!: (r: { result: R; cpuMicros: number }[]) => void;
  let rejectAll!: (e: Error) => void;
  const results = new Promise<{ result: R; cpuMicros: number }[]>((res, rej) => {
    resolveAll = res;
    rejectAll = rej;
  });
  results.catch(() => undefined); // observed by the caller; avoid an unhandled rejection before that
  let failed = false;
  const fail = (e: Error): void => {
    if (failed) return;
    failed = true;
    onFail(e);
    rejectAll(e);
  };
  children.forEach((child, i) => {
    child.on('message', (msg: FromWorker<R>) => {
      if (msg.type === 'ready') {
        if (++readyCount === children.length) onReady();
      } else if (msg.type === 'progress') {
        onProgress(i, msg.progress);
      } else if (msg.type === 'result') {
        out[i] = { result: msg.result, cpuMicros: msg.cpuMicros };
        if (out.every((r) => r !== undefined)) resolveAll(out as { result: R; cpuMicros: number }[]);
      } else if (msg.type === 'error') {
        fail(new Error(`worker ${i}: ${msg.message}`));
      }
    });
    child.on('exit', (code, sig) => {
      if (out[i] === undefined) fail(new Error(`worker ${i} exited (${sig ?? code}) before reporting a result`));
    });
    child.send({ type: 'init', init: inits[i] } satisfies ToWorker<I>);
  });
  const kill = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  try {
    await ready;
  } catch (e) {
    kill();
    throw e;
  }
  return {
    pids: children.map((c) => c.pid ?? 0),
    go: () => children.forEach((c) => c.send({ type: 'go' } satisfies ToWorker<I>)),
    stop: () => children.forEach((c) => c.connected && c.send({ type: 'stop' } satisfies ToWorker<I>)),
    results,
    kill,
  };
}

/** Splits `total` into `parts` near-equal integers (the first ones get the remainder). */
export function split(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  const rem = total % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < rem ? 1 : 0));
}
