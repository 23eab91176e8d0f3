/**
 * Where the upstream's binlog ends now: one function for every place Rotor's own code asks
 * ({@link binlogEnd}), hiding the flavor difference. MariaDB and MySQL up to 8.3 answer
 * `SHOW MASTER STATUS`; MySQL 8.4 removed it for `SHOW BINARY LOG STATUS` (added in 8.2), which
 * MariaDB does not know. Both answer with the file and the offset as their first two columns.
 */
import type mysql from 'mysql2/promise';
import type { BinlogPosition } from '../dataflow/batch.js';
import { connectTo } from './connections.js';

/** Anything that runs one statement: a connection, a pooled connection, a pool. */
export interface StatementRunner {
  query(options: mysql.QueryOptions): Promise<[unknown, unknown]>;
}

const STATEMENTS = ['SHOW MASTER STATUS', 'SHOW BINARY LOG STATUS'] as const;

/** ER_PARSE_ERROR: the server does not know the statement. */
const ER_PARSE_ERROR = 1064;

// The statement the upstream knew last time. Rotor has one upstream; a wrong guess (the first ask
// of a MySQL 8.4) costs one refused statement, which changes nothing on the connection: a
// statement that fails to parse neither ends a transaction nor releases its locks.
let known = 0;

/**
 * Where the upstream's binlog ends now, asked on `conn` (so on a connection inside a transaction,
 * under the locks it holds: [note: fill-position]), or null when the binlog is off. A query
 * taking longer than `timeoutMs` fails.
 */
export async function binlogEnd(conn: StatementRunner, timeoutMs?: number): Promise<BinlogPosition | null> {
  for (let tried = 0; ; tried++) {
    const at = known;
    try {
      const [rows] = await conn.query({ sql: STATEMENTS[at], rowsAsArray: true, ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}) });
      const row = (rows as unknown[][])[0];
      return row === undefined ? null : { file: String(row[0]), position: Number(row[1]) };
    } catch (e) {
      if (tried > 0 || (e as { errno?: number }).errno !== ER_PARSE_ERROR) throw e;
      if (known === at) known = 1 - at;
    }
  }
}

export interface BinlogStart {
  readonly end: BinlogPosition;
  /** MariaDB's `@@GLOBAL.gtid_binlog_pos`; null on MySQL (its GTIDs arrive per batch once streaming). */
  readonly gtid: string | null;
}

/** The upstream's binlog end and GTID position, from one short-lived connection: where a stream starts. */
export async function binlogStart(url: string): Promise<BinlogStart> {
  const conn = await connectTo(url, 10_000);
  try {
    const end = await binlogEnd(conn);
    if (end === null) throw new Error(`${STATEMENTS[known]} returned nothing: is the binary log enabled?`);
    let gtid: string | null = null;
    try {
      const [[g]] = await conn.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.gtid_binlog_pos AS gtid');
      gtid = g.gtid ? String(g.gtid) : null;
    } catch {
      // MySQL has no gtid_binlog_pos; its GTIDs are reported per batch once streaming.
    }
    return { end, gtid };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/**
 * Samples the binlog's end on a connection of its own, one question at a time. A failure or a
 * question slower than `timeoutMs` drops the connection (a half-open one would stall sampling) and
 * the next sample opens another.
 */
export class BinlogEndSampler {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #stopped: () => boolean;
  #conn: mysql.Connection | null = null;

  /** `stopped`: whether the owner stopped meanwhile (a connection opened then is not kept). */
  constructor(url: string, timeoutMs: number, stopped: () => boolean) {
    this.#url = url;
    this.#timeoutMs = timeoutMs;
    this.#stopped = stopped;
  }

  /** The binlog's end now; null without a binlog, or when stopped meanwhile. Throws on failure. */
  async sample(): Promise<BinlogPosition | null> {
    try {
      if (this.#conn === null) {
        const conn = await connectTo(this.#url, 2_000);
        if (this.#stopped()) { conn.destroy(); return null; }
        this.#conn = conn;
      }
      return await binlogEnd(this.#conn, this.#timeoutMs);
    } catch (e) {
      this.#conn?.destroy();
      this.#conn = null;
      throw e;
    }
  }

  /** Drops the connection; the next {@link sample} opens another. */
  close(): void {
    this.#conn?.destroy();
    this.#conn = null;
  }
}
