/**
 * A load worker of the memory benchmark: closed-loop clients, each its own mysql2 connection,
 * reading `SELECT payload FROM mem_big WHERE id = ?` through Rotor until the coordinator says stop.
 * `zipf` clients draw ids by Zipf over 1..rows (id 1 the hottest); `scan` clients share one counter
 * walking ids downwards from `scanFrom` to `scanTo`, each id read exactly once, and stop when the
 * range is used up.
 */
import mysql from 'mysql2/promise';
import { connectionOptions } from './lib/servers.js';
import { Histogram, type HistogramData } from './lib/stats.js';
import { serveWorker, type Progress } from './lib/workers.js';
import { seededRandom, Zipf } from './lib/zipf.js';

export interface MemoryWorkerInit {
  readonly mode: 'zipf' | 'scan';
  readonly url: string;
  readonly clients: number;
  /** Zipf draws ids 1..rows. */
  readonly rows: number;
  readonly skew: number;
  readonly seed: number;
  /** Scan: the first (highest) id read, then downwards to `scanTo` inclusive. */
  readonly scanFrom: number;
  readonly scanTo: number;
}

export interface MemoryWorkerResult {
  readonly reads: HistogramData;
  readonly errors: number;
  readonly firstError: string | null;
  /** A scan that read every id of its range before it was stopped. */
  readonly exhausted: boolean;
}

/** The point read every client runs; ids are integers, so the literal is safe to inline. */
export function readSql(id: number): string {
  return `SELECT payload FROM mem_big WHERE id = ${id}`;
}

// Progress is reported often: the coordinator aligns these counts with Rotor's hit/miss counters.
const REPORT_MS = 100;

serveWorker<MemoryWorkerInit, MemoryWorkerResult>(async (init) => {
  const opts = connectionOptions(init.url);
  const conns: mysql.Connection[] = [];
  for (let i = 0; i < init.clients; i += 25) {
    conns.push(...(await Promise.all(Array.from({ length: Math.min(25, init.clients - i) }, () => mysql.createConnection(opts)))));
  }
  const zipf = init.mode === 'zipf' ? new Zipf(init.rows, init.skew, seededRandom(init.seed)) : null;
  const reads = new Histogram();
  let nextScan = init.scanFrom;
  let errors = 0;
  let firstError: string | null = null;

  const nextId = (): number | null => {
    if (zipf) return zipf.next();
    return nextScan >= init.scanTo ? nextScan-- : null;
  };

  async function client(conn: mysql.Connection, stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      const id = nextId();
      if (id === null) return;
      const t = performance.now();
      try {
        await conn.query(readSql(id));
        reads.record(performance.now() - t);
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
        if (errors > 1000) throw new Error(`more than 1,000 failed reads; the first: ${firstError}`);
      }
    }
  }

  return {
    async run(report: (p: Progress) => void, stopped: () => boolean) {
      const send = (): void => report({ done: reads.count, retries: 0, errors });
      const timer = setInterval(send, REPORT_MS);
      try {
        await Promise.all(conns.map((c) => client(c, stopped)));
      } finally {
        clearInterval(timer);
        send();
        await Promise.all(conns.map((c) => c.end().catch(() => undefined)));
      }
      return { reads: reads.toData(), errors, firstError, exhausted: zipf === null && nextScan < init.scanTo };
    },
  };
});
