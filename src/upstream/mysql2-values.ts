/**
 * The upquery path's half of [note: value-representation]: mysql2 connection options and a row
 * normalizer that together turn a result, text protocol (`query`) or binary protocol (`execute`),
 * into Rotor's {@link Value}s. test/binlog/type-matrix.test.ts pins both against the binlog path.
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
// Decimals at or above this mean "not fixed": the server prints FLOAT with 6 significant digits.
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
    else if (type === TYPE_FLOAT) row[i] = floatValue(typeof v === 'number' ? v : Number(v), f.decimals);
    else if (STRINGISH_TYPES.has(type) && typeof v === 'string' && f.characterSet === BINARY_CHARSET) row[i] = Buffer.from(v, 'binary');
  }
  return row;
}

/**
 * FLOAT as the server prints it: the binary protocol sends the float32 itself (1.1 arrives as
 * 1.100000023841858), the text protocol the printed digits; both become the printed number.
 */
function floatValue(v: number, decimals: number | undefined): number {
  if (!Number.isFinite(v)) return v;
  if (decimals !== undefined && decimals < NOT_FIXED_DECIMALS) return Number(v.toFixed(decimals));
  return Number(v.toPrecision(6));
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
