/**
 * A result column as the MySQL protocol describes it (Protocol::ColumnDefinition41). Cached
 * answers carry the definitions upstream sent for the same statement, so a client cannot tell a
 * cached result from upstream's.
 */
export interface ColumnDefinition {
  readonly catalog: string; // always "def"
  readonly schema: string;
  readonly table: string;
  readonly orgTable: string;
  readonly name: string;
  readonly orgName: string;
  /** Collation id of the column's values as sent (63 = binary). */
  readonly characterSet: number;
  readonly columnLength: number;
  /** enum_field_types code (3 = LONG, 8 = LONGLONG, 246 = NEWDECIMAL, 253 = VAR_STRING …). */
  readonly type: number;
  readonly flags: number;
  readonly decimals: number;
  /**
   * MariaDB's extended metadata (sent only to clients that negotiated
   * MARIADB_CLIENT_EXTENDED_METADATA): the data type name (`uuid`, `inet6`, `point` …) and the
   * format (`json`). Absent for ordinary columns.
   */
  readonly extendedTypeName?: string;
  readonly extendedFormat?: string;
}
