/**
 * The upquery path's half of [note: value-representation]: mysql2 connection options and a row
 * normalizer that together turn a result, text protocol (`query`) or binary protocol (`execute`),
 * into Rotor's {@link Value}s. test/binlog/type-matrix.test.ts pins both against the binlog path.
 *
 * [note: float-exact] A FLOAT is kept as its float32's exact double (what MariaDB compares and
 * sums), and printed with 6 significant digits only on the wire (value-codec.ts). The binary
 * protocol sends the float32 itself; the text protocol only the 6 printed digits, which name the
 * float32 nearest to them (`Math.fround`), not always the one stored (1/3 prints 0.333333). So
 * Rotor's upqueries never read a FLOAT column as text: the base table selects it as
 * `CAST(col AS DOUBLE)`, whose text is the double's shortest round-trip digits
 * (src/operators/base-table.ts). Pinned by test/binlog/type-matrix.test.ts and
 * test/e2e/floats.test.ts.
 */
import type { FieldPacket } from 'mysql2';
import { intValue, type Value } from '../values.js';

/** Options every upstream connection used for upqueries MUST carry. */
export const upqueryConnectionOptions = {
  timezone: 'Z',
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  jsonStrings: true,
  rowsAsArray: true,
} as const;

// MySQL column type codes (include/mysql_com.h: enum_field_types).
const INTEGER_TYPES = new Set([1, 2, 3, 8, 9, 13]); // TINY, SHORT, LONG, LONGLONG, INT24, YEAR
const TEMPORAL_TYPES = new Set([7, 11, 12]); // TIMESTAMP, TIME, DATETIME
const TYPE_FLOAT = 4;
const TYPE_DOUBLE = 5;
// Decimals at or above this mean "not fixed" (fractional seconds of temporal types).
const NOT_FIXED_DECIMALS = 31;
const BINARY_CHARSET = 63;
const STRINGISH_TYPES = new Set([15, 245, 247, 248, 249, 250, 251, 252, 253, 254]);

/** Normalizes one `rowsAsArray` row from mysql2 (text or binary protocol), in place, and returns it. */
export function normalizeMysql2Row(fields: ReadonlyArray<FieldPacket>, row: Value[]): Value[] {
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (v === null) continue;
    const f = fields[i];
    const type = f.columnType ?? f.type ?? 0;
    if (INTEGER_TYPES.has(type)) row[i] = intValue(v as string | number);
    else if (TEMPORAL_TYPES.has(type) && typeof v === 'string') row[i] = temporalText(v, f.decimals);
    else if (type === TYPE_DOUBLE) row[i] = typeof v === 'number' ? v : Number(v);
    else if (type === TYPE_FLOAT) row[i] = Math.fround(typeof v === 'number' ? v : Number(v));
    else if (STRINGISH_TYPES.has(type) && typeof v === 'string' && f.characterSet === BINARY_CHARSET) row[i] = Buffer.from(v, 'binary');
  }
  return row;
}

/**
 * DATETIME/TIMESTAMP/TIME with exactly the column's fractional digits, as the text protocol
 * prints them: the binary protocol leaves a zero fraction out (`00:00:00` for `00:00:00.000000`).
 */
function temporalText(v: string, decimals: number | undefined): string {
  if (decimals === undefined || decimals >= NOT_FIXED_DECIMALS) return v;
  const d = decimals;
  const dot = v.indexOf('.');
  const whole = dot < 0 ? v : v.slice(0, dot);
  if (d === 0) return whole;
  const frac = dot < 0 ? '' : v.slice(dot + 1);
  return frac.length === d ? v : `${whole}.${frac.padEnd(d, '0').slice(0, d)}`;
}
