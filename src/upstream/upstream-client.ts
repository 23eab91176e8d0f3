/**
 * Rotor's own connection pools to the upstream: upqueries as locking reads at a binlog position
 * (one pool), table schemas from information_schema, binlog positions and the exact column
 * definitions of a registered query's result (the other, src/upstream/schema-reads.ts).
 */
import type mysql from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FieldPacket } from 'mysql2';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { SnapshotReader, SnapshotResult } from '../dataflow/upquery.js';
import type { BinlogPosition } from '../dataflow/batch.js';
import type { Row } from '../dataflow/delta.js';
import type { TableSchema } from '../planner/schema.js';
import type { CollationEntry } from '../dataflow/collation.js';
import type { Value } from '../values.js';
import { normalizeMysql2Row } from './mysql2-values.js';
import { createPool } from './connections.js';
import { binlogEnd } from './binlog-status.js';
import * as schema from './schema-reads.js';

export { toColumnDefinition } from './schema-reads.js';

/** How long an upquery waits for a writer's row locks, and how often a lock conflict is retried. */
const LOCK_WAIT_SECONDS = 10;
const LOCK_RETRIES = 10;

/**
 * [note: upquery-literals] Upqueries carry key values as literals written by `sqlLiteral`
 * (src/dataflow/sql.ts): quotes, backslashes and NUL escaped with backslashes, in utf8mb4. That
 * writing is exact only where a backslash escapes and `"` quotes a string, so every upquery
 * connection pins its `sql_mode` at connect time to the upstream's global mode without the flags
 * that change how Rotor's own text parses, and the pool never runs more than one statement per
 * request (no `multipleStatements`): a value that somehow ended its literal could not start a
 * second statement. Pinned by test/e2e/injection.test.ts.
 */
const PARSE_MODES = ['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES', 'PIPES_AS_CONCAT', 'IGNORE_SPACE', 'HIGH_NOT_PRECEDENCE', 'ORACLE', 'MSSQL', 'DB2', 'POSTGRESQL', 'MAXDB', 'ANSI', 'MYSQL323', 'MYSQL40'];
const PINNED_SQL_MODE = `TRIM(BOTH ',' FROM REGEXP_REPLACE(@@GLOBAL.sql_mode, '(?<=^|,)(${PARSE_MODES.join('|')})(,|$)', ''))`;

/** Upquery connections: UTC values, the pinned sql_mode, SERIALIZABLE transactions left open until COMMIT. */
const UPQUERY_SETUP = [
  `SET time_zone = '+00:00', innodb_lock_wait_timeout = ${LOCK_WAIT_SECONDS}, autocommit = 0, sql_mode = ${PINNED_SQL_MODE}`,
  'SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE',
];

/** Control connections (schemas, column definitions, binlog positions): UTC, the upstream's own sql_mode. */
const CONTROL_SETUP = [`SET time_zone = '+00:00'`];

/** ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT. */
function isLockConflict(e: unknown): boolean {
  const errno = (e as { errno?: number }).errno;
  return errno === 1213 || errno === 1205;
}

export class UpstreamClient implements SnapshotReader {
  readonly #upqueries: mysql.Pool;
  readonly #control: mysql.Pool;

  constructor(url: string, connectionLimit = 4) {
    this.#upqueries = createPool(url, connectionLimit, UPQUERY_SETUP);
    this.#control = createPool(url, 2, CONTROL_SETUP);
  }

  /**
   * Runs `sql` as a locking read and returns its rows with the binlog position they are exact at.
   * [note: fill-position]
   *
   * SERIALIZABLE turns every read of the statement (derived tables and UNION branches included)
   * into a shared-locking read of the latest committed rows. While those locks are held no
   * transaction that would change the answer can commit, and every one that did is already in the
   * binlog (InnoDB commits after the binlog write), so the binlog's end (`SHOW MASTER STATUS`)
   * read under the locks, on the same connection in the same transaction, splits the transactions
   * that touch the answer exactly. The connection runs with autocommit off, so the read opens the
   * transaction and the COMMIT after the position releases its locks: two round trips on the
   * reader's path, the COMMIT off it. A lock wait or deadlock is retried.
   */
  async snapshotQuery(sql: string): Promise<SnapshotResult> {
    for (let attempt = 1; ; attempt++) {
      const conn = await this.#upqueries.getConnection();
      let results: Value[][], fields: FieldPacket[], position: BinlogPosition | null;
      try {
        [results, fields] = (await conn.query({ sql, rowsAsArray: true })) as unknown as [Value[][], FieldPacket[]];
        position = await binlogEnd(conn);
      } catch (e) {
        // A failed statement can leave the transaction open: this connection is not reused.
        conn.destroy();
        if (attempt >= LOCK_RETRIES || !isLockConflict(e)) throw e;
        await sleep(Math.random() * 5 * attempt);
        continue;
      }
      conn.query('COMMIT').then(() => conn.release(), () => conn.destroy());
      const rows = results.map((r) => normalizeMysql2Row(fields, r) as Row);
      return { rows, position };
    }
  }

  /** Where the upstream's binlog ends now, or null without a binlog. */
  binlogEnd(): Promise<BinlogPosition | null> {
    return binlogEnd(this.#control);
  }

  globalSettings(): Promise<schema.GlobalSettings> {
    return schema.globalSettings(this.#control);
  }

  collation(name: string): Promise<CollationEntry> {
    return schema.collation(this.#control, name);
  }

  tableRefusal(database: string, table: string): Promise<string | null> {
    return schema.tableRefusal(this.#control, database, table);
  }

  loadTable(database: string, table: string): Promise<TableSchema | null> {
    return schema.loadTable(this.#control, database, table);
  }

  /** The result column definitions MariaDB sends for `sql` (run with `LIMIT 0` by the caller). */
  columnDefinitions(sql: string, database: string | null): Promise<ColumnDefinition[]> {
    return schema.columnDefinitions(this.#control, sql, database);
  }

  async close(): Promise<void> {
    await Promise.all([this.#upqueries.end(), this.#control.end()]);
  }
}
