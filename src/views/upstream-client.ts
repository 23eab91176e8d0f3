/**
 * Rotor's own connection pool to the upstream: upqueries inside consistent snapshots, table schemas
 * from information_schema, and the exact column definitions of a query's result.
 */
import mysql from 'mysql2/promise';
import type { FieldPacket, RowDataPacket } from 'mysql2';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { SnapshotReader, SnapshotResult } from '../dataflow/upquery.js';
import type { Row } from '../dataflow/delta.js';
import type { TableSchema } from '../planner/schema.js';
import { normalizeMysql2Row, upqueryConnectionOptions } from '../upstream/mysql2-values.js';
import type { Value } from '../values.js';

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
  }

  /**
   * Runs `sql` in a consistent snapshot and returns its rows with the snapshot's binlog position,
   * in one round trip. [note: fill-position]
   */
  async snapshotQuery(sql: string): Promise<SnapshotResult> {
    const text = "SET time_zone = '+00:00'; START TRANSACTION WITH CONSISTENT SNAPSHOT; SHOW STATUS LIKE 'binlog_snapshot_%'; " + sql + '; COMMIT';
    const [results, fields] = (await this.#pool.query({ sql: text, rowsAsArray: true })) as unknown as [unknown[], (FieldPacket[] | undefined)[]];
    const status = results[2] as Value[][];
    let file = '', position = -1;
    for (const [name, value] of status) {
      if (String(name).toLowerCase() === 'binlog_snapshot_file') file = String(value);
      if (String(name).toLowerCase() === 'binlog_snapshot_position') position = Number(value);
    }
    const f = fields[3] ?? [];
    const rows = (results[3] as Value[][]).map((r) => normalizeMysql2Row(f, r) as Row);
    return { rows, position: file !== '' && position >= 0 ? { file, position } : null };
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
