/**
 * Rotor's own connection pool to the upstream: upqueries as locking reads at a binlog position, table schemas
 * from information_schema, and the exact column definitions of a query's result.
 */
import mysql from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FieldPacket, PoolConnection as CorePoolConnection, RowDataPacket } from 'mysql2';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { SnapshotReader, SnapshotResult } from '../dataflow/upquery.js';
import type { BinlogPosition } from '../binlog/batch.js';
import type { Row } from '../dataflow/delta.js';
import type { TableSchema } from '../planner/schema.js';
import { normalizeMysql2Row, upqueryConnectionOptions } from '../upstream/mysql2-values.js';
import type { Value } from '../values.js';

/** How long an upquery waits for a writer's row locks, and how often a lock conflict is retried. */
const LOCK_WAIT_SECONDS = 10;
const LOCK_RETRIES = 10;

/** Every pooled connection: UTC values, SERIALIZABLE transactions (the upqueries' locking reads). */
const SESSION_SETUP = `SET time_zone = '+00:00', innodb_lock_wait_timeout = ${LOCK_WAIT_SECONDS}; SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE`;

/** ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT. */
function isLockConflict(e: unknown): boolean {
  const errno = (e as { errno?: number }).errno;
  return errno === 1213 || errno === 1205;
}

export class UpstreamClient implements SnapshotReader {
  readonly #pool: mysql.Pool;

  constructor(url: string, connectionLimit = 4) {
    const u = new URL(url);
    this.#pool = mysql.createPool({
      host: u.hostname, port: Number(u.port || 3306),
      user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
      database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
      ...upqueryConnectionOptions, multipleStatements: true, connectionLimit,
    });
    // Once per pooled connection, ahead of anything it runs: the settings every upquery needs.
    // The event hands over mysql2's callback connection, whatever the promise pool's types say.
    this.#pool.on('connection', (conn) => {
      const core = conn as unknown as CorePoolConnection;
      core.query(SESSION_SETUP, (err) => {
        if (err) core.destroy();
      });
    });
  }

  /**
   * Runs `sql` as a locking read and returns its rows with the binlog position they are exact at,
   * in one round trip. [note: fill-position]
   *
   * SERIALIZABLE turns every read of the statement (derived tables and UNION branches included)
   * into a shared-locking read of the latest committed rows. While those locks are held no
   * transaction that would change the answer can commit, and every one that did is already in the
   * binlog (InnoDB commits after the binlog write), so SHOW MASTER STATUS read under the locks
   * splits the transactions that touch the answer exactly. A lock wait or deadlock is retried.
   */
  async snapshotQuery(sql: string): Promise<SnapshotResult> {
    const text = `START TRANSACTION; ${sql}; SHOW MASTER STATUS; COMMIT`;
    for (let attempt = 1; ; attempt++) {
      const conn = await this.#pool.getConnection();
      let results: unknown[], fields: (FieldPacket[] | undefined)[];
      try {
        [results, fields] = (await conn.query({ sql: text, rowsAsArray: true })) as unknown as [unknown[], (FieldPacket[] | undefined)[]];
      } catch (e) {
        // A failed statement can leave the transaction open: this connection is not reused.
        conn.destroy();
        if (attempt >= LOCK_RETRIES || !isLockConflict(e)) throw e;
        await sleep(Math.random() * 5 * attempt);
        continue;
      }
      conn.release();
      const f = fields[1] ?? [];
      const rows = (results[1] as Value[][]).map((r) => normalizeMysql2Row(f, r) as Row);
      const status = (results[2] as Value[][])[0];
      return { rows, position: status === undefined ? null : { file: String(status[0]), position: Number(status[1]) } };
    }
  }

  /** Where the upstream's binlog ends now (`SHOW MASTER STATUS`), or null without a binlog. */
  async binlogEnd(): Promise<BinlogPosition | null> {
    const [rows] = await this.#pool.query<RowDataPacket[]>({ sql: 'SHOW MASTER STATUS', rowsAsArray: false });
    return rows.length === 0 ? null : { file: String(rows[0].File), position: Number(rows[0].Position) };
  }

  async loadTable(database: string, table: string): Promise<TableSchema | null> {
    const [rows] = await this.#pool.query<RowDataPacket[]>({
      sql: 'SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_SCALE, COLLATION_NAME, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      values: [database, table], rowsAsArray: false,
    });
    if (rows.length === 0) return null;
    return {
      database, table,
      columns: rows.map((r) => ({
        name: String(r.COLUMN_NAME), dataType: String(r.DATA_TYPE).toLowerCase(),
        scale: r.NUMERIC_SCALE === null ? 0 : Number(r.NUMERIC_SCALE),
        collation: r.COLLATION_NAME === null ? null : String(r.COLLATION_NAME),
        ...(r.COLUMN_KEY === 'PRI' ? { primary: true } : {}),
      })),
    };
  }

  /** The result column definitions MariaDB sends for `sql` (run with `LIMIT 0` by the caller). */
  async columnDefinitions(sql: string, database: string | null): Promise<ColumnDefinition[]> {
    const conn = await this.#pool.getConnection();
    try {
      if (database !== null) await conn.query(`USE \`${database.replace(/`/g, '``')}\``);
      const [, fields] = await conn.query({ sql, rowsAsArray: true });
      return (fields as FieldPacket[]).map(toColumnDefinition);
    } finally {
      // The USE changed the pooled connection's database: give the pool a clean one back.
      conn.destroy();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

export function toColumnDefinition(f: FieldPacket): ColumnDefinition {
  return {
    catalog: 'def', schema: f.schema ?? f.db ?? '', table: f.table, orgTable: f.orgTable, name: f.name, orgName: f.orgName,
    characterSet: f.characterSet ?? f.charsetNr ?? 63, columnLength: f.columnLength ?? f.length ?? 0,
    type: f.columnType ?? f.type ?? 253, flags: typeof f.flags === 'number' ? f.flags : 0, decimals: f.decimals,
  };
}
