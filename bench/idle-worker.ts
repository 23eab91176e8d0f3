/**
 * A client process of the idle-connections benchmark: holds its share of the client connections
 * open through Rotor and does nothing with them until asked. Several of these run at once so no one
 * process has to hold thousands of sockets and their mysql2 state.
 *
 * Protocol (IPC): coordinator → worker `open` (reach this many open connections), `check` (one
 * `SELECT 1` on every connection), `close`; worker → coordinator `opened`, `checked`, `closed`, or
 * `error`.
 */
import mysql from 'mysql2';
import { connectionOptions } from './lib/servers.js';

export type ToIdleWorker =
  | { readonly type: 'open'; readonly url: string; readonly target: number }
  | { readonly type: 'check' }
  | { readonly type: 'close' };

export type FromIdleWorker =
  | { readonly type: 'opened'; readonly open: number; readonly lost: number }
  | { readonly type: 'checked'; readonly ok: number; readonly failed: number; readonly firstError: string | null }
  | { readonly type: 'closed' }
  | { readonly type: 'error'; readonly message: string };

// Connect a few at a time: thousands of handshakes at once overflow accept backlogs.
const CONNECT_BATCH = 25;
const CHECK_BATCH = 200;

const conns: mysql.Connection[] = [];
let lost = 0;

function send(msg: FromIdleWorker): void {
  process.send?.(msg);
}

function openOne(opts: mysql.ConnectionOptions): Promise<mysql.Connection> {
  return new Promise((resolve, reject) => {
    const conn = mysql.createConnection(opts);
    conn.connect((err) => {
      if (err) {
        conn.destroy();
        reject(err);
        return;
      }
      // An idle connection that drops later is counted, not thrown: the check at the end finds it.
      conn.on('error', () => {
        lost++;
      });
      resolve(conn);
    });
  });
}

async function openTo(url: string, target: number): Promise<void> {
  const opts = connectionOptions(url) as mysql.ConnectionOptions;
  while (conns.length < target) {
    const n = Math.min(CONNECT_BATCH, target - conns.length);
    conns.push(...(await Promise.all(Array.from({ length: n }, () => openOne(opts)))));
  }
}

function selectOne(conn: mysql.Connection): Promise<void> {
  return new Promise((resolve, reject) => {
    conn.query('SELECT 1 AS one', (err, rows) => {
      if (err) reject(err);
      else if (!Array.isArray(rows) || Number((rows[0] as { one?: unknown } | undefined)?.one) !== 1) reject(new Error(`unexpected answer ${JSON.stringify(rows)}`));
      else resolve();
    });
  });
}

async function checkAll(): Promise<FromIdleWorker> {
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  for (let i = 0; i < conns.length; i += CHECK_BATCH) {
    const results = await Promise.allSettled(conns.slice(i, i + CHECK_BATCH).map(selectOne));
    for (const r of results) {
      if (r.status === 'fulfilled') {
        ok++;
      } else {
        failed++;
        firstError ??= (r.reason as Error).message;
      }
    }
  }
  return { type: 'checked', ok, failed, firstError };
}

process.on('message', (msg: ToIdleWorker) => {
  const fail = (err: unknown): void => send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  if (msg.type === 'open') {
    openTo(msg.url, msg.target).then(() => send({ type: 'opened', open: conns.length, lost }), fail);
  } else if (msg.type === 'check') {
    checkAll().then(send, fail);
  } else if (msg.type === 'close') {
    for (const c of conns) c.destroy();
    conns.length = 0;
    send({ type: 'closed' });
    process.disconnect?.();
  }
});
