/**
 * Rotor's own connection pools to the upstream: upqueries as locking reads at a binlog position
 * (one pool), table schemas from information_schema, binlog positions and the exact column
 * definitions of a registered query's result (the other).
 */
import mysql from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FieldPacket, PoolConnection as CorePoolConnection, RowDataPacket } from 'mysql2';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { SnapshotReader, SnapshotResult } from '../dataflow/upquery.js';
import type { BinlogPosition } from '../dataflow/batch.js';
import type { Row } from '../dataflow/delta.js';
import { membersOf, type TableSchema } from '../planner/schema.js';
import { normalizeMysql2Row, upqueryConnectionOptions } from '../upstream/mysql2-values.js';
import { loadCollation } from '../upstream/collations.js';
import type { CollationEntry } from '../dataflow/collation.js';
import type { Value } from '../values.js';

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

function createPool(url: string, connectionLimit: number, setup: ReadonlyArray<string>): mysql.Pool {
  const u = new URL(url);
  const pool = mysql.createPool({
    host: u.hostname, port: Number(u.port || 3306),
    user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
    database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
    ...upqueryConnectionOptions, multipleStatements: false, charset: 'UTF8MB4_GENERAL_CI', connectionLimit,
  });
  // Once per pooled connection, ahead of anything it runs (mysql2 runs a connection's commands in
  // order, and the event fires before the connection is handed out). The event hands over mysql2's
  // callback connection, whatever the promise pool's types say.
  pool.on('connection', (conn) => {
    const core = conn as unknown as CorePoolConnection;
    for (const sql of setup) {
      core.query(sql, (err) => {
        if (err) core.destroy();
      });
    }
  });
  return pool;
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
   * binlog (InnoDB commits after the binlog write), so SHOW MASTER STATUS read under the locks
   * splits the transactions that touch the answer exactly. The connection runs with autocommit off,
   * so the read opens the transaction and the COMMIT after the position releases its locks: two
   * round trips on the reader's path, the COMMIT off it. A lock wait or deadlock is retried.
   */
  async snapshotQuery(sql: string): Promise<SnapshotResult> {
    for (let attempt = 1; ; attempt++) {
      const conn = await this.#upqueries.getConnection();
      let results: Value[][], fields: FieldPacket[], status: Value[] | undefined;
      try {
        [results, fields] = (await conn.query({ sql, rowsAsArray: true })) as unknown as [Value[][], FieldPacket[]];
        const [end] = (await conn.query({ sql: 'SHOW MASTER STATUS', rowsAsArray: true })) as unknown as [Value[][]];
        status = end[0];
      } catch (e) {
        // A failed statement can leave the transaction open: this connection is not reused.
        conn.destroy();
        if (attempt >= LOCK_RETRIES || !isLockConflict(e)) throw e;
        await sleep(Math.random() * 5 * attempt);
        continue;
      }
      conn.query('COMMIT').then(() => conn.release(), () => conn.destroy());
      const rows = results.map((r) => normalizeMysql2Row(fields, r) as Row);
      return { rows, position: status === undefined ? null : { file: String(status[0]), position: Number(status[1]) } };
    }
  }

  /** Where the upstream's binlog ends now (`SHOW MASTER STATUS`), or null without a binlog. */
  async binlogEnd(): Promise<BinlogPosition | null> {
    const [rows] = await this.#control.query<RowDataPacket[]>({ sql: 'SHOW MASTER STATUS', rowsAsArray: false });
    return rows.length === 0 ? null : { file: String(rows[0].File), position: Number(rows[0].Position) };
  }

  async globalSettings(): Promise<{ sqlMode: string; timeZone: string; divPrecisionIncrement: number }> {
    const [rows] = await this.#control.query<RowDataPacket[]>({ sql: 'SELECT @@GLOBAL.sql_mode AS m, @@GLOBAL.time_zone AS tz, @@system_time_zone AS sys, @@GLOBAL.div_precision_increment AS dpi', rowsAsArray: false });
    const r = rows[0];
    const tz = String(r?.tz ?? '');
    return { sqlMode: String(r?.m ?? ''), timeZone: tz === 'SYSTEM' ? String(r?.sys ?? '') : tz, divPrecisionIncrement: Number(r?.dpi ?? 4) };
  }

  async collation(name: string): Promise<CollationEntry> {
    return loadCollation(async (sql, values) => {
      const [rows] = await this.#control.query({ sql, values: values as unknown[], rowsAsArray: true });
      return rows as unknown[][];
    }, name);
  }

  async tableRefusal(database: string, table: string): Promise<string | null> {
    const [tables] = await this.#control.query<RowDataPacket[]>({
      sql: 'SELECT TABLE_TYPE, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      values: [database, table], rowsAsArray: false,
    });
    const t = tables[0];
    if (t === undefined) return null;
    const type = String(t.TABLE_TYPE);
    if (type === 'VIEW') return 'a view (row changes reach the binlog under its base tables: cache the query over them)';
    if (type === 'SYSTEM VERSIONED') return 'a system-versioned table (updates and deletes reach the binlog as history rows)';
    if (t.ENGINE !== null && String(t.ENGINE).toLowerCase() !== 'innodb') return `a ${String(t.ENGINE)} table (a fill is exact only against InnoDB's row locks)`;
    const [fks] = await this.#control.query<RowDataPacket[]>({
      sql: "SELECT UNIQUE_CONSTRAINT_SCHEMA AS db, REFERENCED_TABLE_NAME AS t, DELETE_RULE AS d, UPDATE_RULE AS u FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? AND (DELETE_RULE <> 'RESTRICT' AND DELETE_RULE <> 'NO ACTION' OR UPDATE_RULE <> 'RESTRICT' AND UPDATE_RULE <> 'NO ACTION')",
      values: [database, table], rowsAsArray: false,
    });
    const fk = fks[0];
    if (fk !== undefined) return `a foreign key ON ${String(fk.d) !== 'RESTRICT' && String(fk.d) !== 'NO ACTION' ? `DELETE ${String(fk.d)}` : `UPDATE ${String(fk.u)}`} to ${String(fk.db)}.${String(fk.t)} changes its rows inside InnoDB, with no row events`;
    return null;
  }

  async loadTable(database: string, table: string): Promise<TableSchema | null> {
    const [rows] = await this.#control.query<RowDataPacket[]>({
      sql: 'SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, NUMERIC_SCALE, COLLATION_NAME, COLUMN_KEY, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      values: [database, table], rowsAsArray: false,
    });
    if (rows.length === 0) return null;
    return {
      database, table,
      columns: rows.map((r) => {
        const members = membersOf(String(r.COLUMN_TYPE));
        return {
          name: String(r.COLUMN_NAME), dataType: String(r.DATA_TYPE).toLowerCase(),
          scale: r.NUMERIC_SCALE === null ? 0 : Number(r.NUMERIC_SCALE),
          collation: r.COLLATION_NAME === null ? null : String(r.COLLATION_NAME),
          ...(r.COLUMN_KEY === 'PRI' ? { primary: true } : {}),
          ...(/\bINVISIBLE\b/i.test(String(r.EXTRA ?? '')) ? { invisible: true } : {}),
          ...(members !== null ? { members } : {}),
        };
      }),
    };
  }

  /** The result column definitions MariaDB sends for `sql` (run with `LIMIT 0` by the caller). */
  async columnDefinitions(sql: string, database: string | null): Promise<ColumnDefinition[]> {
    const conn = await this.#control.getConnection();
    try {
      // A pooled session keeps the global value it started with; AVG's decimals follow the current one.
      await conn.query('SET SESSION div_precision_increment = @@GLOBAL.div_precision_increment');
      if (database !== null) await conn.query(`USE \`${database.replace(/`/g, '``')}\``);
      const [, fields] = await conn.query({ sql, rowsAsArray: true });
      return (fields as FieldPacket[]).map(toColumnDefinition);
    } finally {
      // The USE changed the pooled connection's database: give the pool a clean one back.
      conn.destroy();
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#upqueries.end(), this.#control.end()]);
  }
}

export function toColumnDefinition(f: FieldPacket): ColumnDefinition {
  return {
    catalog: 'def', schema: f.schema ?? f.db ?? '', table: f.table, orgTable: f.orgTable, name: f.name, orgName: f.orgName,
    characterSet: f.characterSet ?? f.charsetNr ?? 63, columnLength: f.columnLength ?? f.length ?? 0,
    type: f.columnType ?? f.type ?? 253, flags: typeof f.flags === 'number' ? f.flags : 0, decimals: f.decimals,
  };
}
