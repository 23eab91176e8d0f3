/**
 * What Rotor reads of the upstream's schema and settings, on its control connections: a table's
 * columns, why a table cannot be kept exact, the column definitions of a query's result, the
 * global settings a cache's answers depend on, and collations.
 */
import type mysql from 'mysql2/promise';
import type { FieldPacket, RowDataPacket } from 'mysql2';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import { membersOf, type TableSchema } from '../planner/schema.js';
import type { CollationEntry } from '../dataflow/collation.js';
import { loadCollation } from './collations.js';
import type { ViewDefinition } from '../planner/index.js';
import { unsupported } from '../planner/unsupported.js';

/** The upstream's settings a cache's answers depend on. */
export interface GlobalSettings {
  readonly sqlMode: string;
  /** `@@GLOBAL.time_zone`, `SYSTEM` resolved to `@@system_time_zone`. */
  readonly timeZone: string;
  readonly divPrecisionIncrement: number;
  readonly groupConcatMaxLen: number;
  /** The global default isolation (`REPEATABLE-READ`…), from `transaction_isolation` or `tx_isolation`, whichever the server has. */
  readonly isolation: string;
}

export async function globalSettings(control: mysql.Pool): Promise<GlobalSettings> {
  const [rows] = await control.query<RowDataPacket[]>({ sql: 'SELECT @@GLOBAL.sql_mode AS m, @@GLOBAL.time_zone AS tz, @@system_time_zone AS sys, @@GLOBAL.div_precision_increment AS dpi, @@GLOBAL.group_concat_max_len AS gcml', rowsAsArray: false });
  const r = rows[0];
  const tz = String(r?.tz ?? '');
  // MySQL 8 has only transaction_isolation, MariaDB before 11.1 only tx_isolation.
  const [iso] = await control.query<RowDataPacket[]>({ sql: "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('transaction_isolation', 'tx_isolation')", rowsAsArray: true });
  return { sqlMode: String(r?.m ?? ''), timeZone: tz === 'SYSTEM' ? String(r?.sys ?? '') : tz, divPrecisionIncrement: Number(r?.dpi ?? 4), groupConcatMaxLen: Number(r?.gcml ?? 1048576), isolation: String(iso[0]?.[1] ?? '') };
}

export async function collation(control: mysql.Pool, name: string): Promise<CollationEntry> {
  return loadCollation(async (sql, values) => {
    const [rows] = await control.query({ sql, values: values as unknown[], rowsAsArray: true });
    return rows as unknown[][];
  }, name);
}

/**
 * Why the binlog cannot keep a cache over this table exact (a view, a system-versioned table, a
 * table that is not InnoDB, a child of a cascading foreign key), or null.
 */
export async function tableRefusal(control: mysql.Pool, database: string, table: string): Promise<string | null> {
  const [tables] = await control.query<RowDataPacket[]>({
    sql: 'SELECT TABLE_TYPE, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    values: [database, table], rowsAsArray: false,
  });
  const t = tables[0];
  if (t === undefined) return null;
  const type = String(t.TABLE_TYPE);
  if (type === 'VIEW') return 'a view (row changes reach the binlog under its base tables: cache the query over them)';
  if (type === 'SYSTEM VERSIONED') return 'a system-versioned table (updates and deletes reach the binlog as history rows)';
  if (t.ENGINE !== null && String(t.ENGINE).toLowerCase() !== 'innodb') return `a ${String(t.ENGINE)} table (a fill is exact only against InnoDB's row locks)`;
  const [fks] = await control.query<RowDataPacket[]>({
    sql: "SELECT UNIQUE_CONSTRAINT_SCHEMA AS db, REFERENCED_TABLE_NAME AS t, DELETE_RULE AS d, UPDATE_RULE AS u FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? AND (DELETE_RULE <> 'RESTRICT' AND DELETE_RULE <> 'NO ACTION' OR UPDATE_RULE <> 'RESTRICT' AND UPDATE_RULE <> 'NO ACTION')",
    values: [database, table], rowsAsArray: false,
  });
  const fk = fks[0];
  if (fk !== undefined) return `a foreign key ON ${String(fk.d) !== 'RESTRICT' && String(fk.d) !== 'NO ACTION' ? `DELETE ${String(fk.d)}` : `UPDATE ${String(fk.u)}`} to ${String(fk.db)}.${String(fk.t)} changes its rows inside InnoDB, with no row events`;
  return null;
}

/**
 * The view's definition as MariaDB keeps it ([note: view-expansion]), or null when `table` is not
 * a view. MariaDB shows a view's text only to an account with SHOW VIEW on it (or its definer): a
 * view Rotor's account cannot read is refused, naming the grant.
 */
export async function viewDefinition(control: mysql.Pool, database: string, table: string): Promise<ViewDefinition | null> {
  const [rows] = await control.query<RowDataPacket[]>({
    sql: 'SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, ALGORITHM, SECURITY_TYPE FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    values: [database, table], rowsAsArray: false,
  });
  // information_schema may compare names without their case; the upstream's tables do not.
  const v = rows.find((r) => String(r.TABLE_SCHEMA) === database && String(r.TABLE_NAME) === table);
  if (v === undefined) return null;
  const definition = String(v.VIEW_DEFINITION ?? '');
  if (definition.trim() === '') throw unsupported('FROM', `view ${database}.${table}: Rotor's account cannot read its definition (GRANT SHOW VIEW ON ${database}.* to it)`);
  return { database, name: table, definition, algorithm: String(v.ALGORITHM), security: String(v.SECURITY_TYPE) };
}

/** The table's columns from information_schema, or null when there is no such table. */
export async function loadTable(control: mysql.Pool, database: string, table: string): Promise<TableSchema | null> {
  const [rows] = await control.query<RowDataPacket[]>({
    sql: 'SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, COLLATION_NAME, COLUMN_KEY, EXTRA, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
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
        ...(/^(decimal|numeric)$/i.test(String(r.DATA_TYPE)) && r.NUMERIC_PRECISION !== null ? { precision: Number(r.NUMERIC_PRECISION) } : {}),
        collation: r.COLLATION_NAME === null ? null : String(r.COLLATION_NAME),
        ...(r.COLUMN_KEY === 'PRI' ? { primary: true } : {}),
        // UNI: the first column of a UNIQUE index, and that index's only one (a composite UNIQUE
        // index shows MUL, or PRI on every column when it stands in for a missing primary key).
        ...(r.COLUMN_KEY === 'UNI' ? { unique: true } : {}),
        ...(r.IS_NULLABLE === 'NO' ? { notNull: true } : {}),
        ...(/\bINVISIBLE\b/i.test(String(r.EXTRA ?? '')) ? { invisible: true } : {}),
        ...(members !== null ? { members } : {}),
      };
    }),
  };
}

/** The result column definitions MariaDB sends for `sql` (run with `LIMIT 0` by the caller). */
export async function columnDefinitions(control: mysql.Pool, sql: string, database: string | null): Promise<ColumnDefinition[]> {
  const conn = await control.getConnection();
  try {
    // A pooled session keeps the global values it started with; AVG's decimals and GROUP_CONCAT's
    // type and length follow the current ones.
    await conn.query('SET SESSION div_precision_increment = @@GLOBAL.div_precision_increment, group_concat_max_len = @@GLOBAL.group_concat_max_len');
    if (database !== null) await conn.query(`USE \`${database.replace(/`/g, '``')}\``);
    const [, fields] = await conn.query({ sql, rowsAsArray: true });
    return (fields as FieldPacket[]).map(toColumnDefinition);
  } finally {
    // The USE changed the pooled connection's database: give the pool a clean one back.
    conn.destroy();
  }
}

export function toColumnDefinition(f: FieldPacket): ColumnDefinition {
  return {
    catalog: 'def', schema: f.schema ?? f.db ?? '', table: f.table, orgTable: f.orgTable, name: f.name, orgName: f.orgName,
    characterSet: f.characterSet ?? f.charsetNr ?? 63, columnLength: f.columnLength ?? f.length ?? 0,
    type: f.columnType ?? f.type ?? 253, flags: typeof f.flags === 'number' ? f.flags : 0, decimals: f.decimals,
    // MariaDB's extended metadata (a JSON column is LONGTEXT with format `json`), as upstream sends it.
    ...(f.extendedTypeName ? { extendedTypeName: f.extendedTypeName } : {}),
    ...(f.extendedFormat ? { extendedFormat: f.extendedFormat } : {}),
  };
}
