/**
 * A parameter value as the key of the column it is compared with: `WHERE id = '5'` looks up the
 * same key as `WHERE id = 5`, and `WHERE price = 1.5` the key `"1.50"` of a DECIMAL(10,2). When the
 * comparison MySQL would make is not a plain equality of representations (a string against an
 * integer column that is not an integer, a number against a text column), the answer is
 * `undefined`: the statement goes upstream.
 *
 * [note: value-types] How MariaDB compares a column with a value depends on the value's SQL type,
 * which its JS type does not always tell: `1.5` and `'1.5'` are both the string "1.5" here, a
 * DOUBLE parameter and an INT one both a number, a DATETIME parameter and a VARCHAR one both a
 * string. So a value that is a number written with a point or an exponent (a literal, or a DECIMAL
 * parameter), a FLOAT/DOUBLE parameter, or a date or time parameter comes with its
 * {@link ValueType} (views/cache.ts `ValueSource`, from the fingerprint's literals and the execute
 * packet's parameter types), and is keyed only where the comparison is still a plain equality: a
 * text, ENUM or SET column compares with a number as numbers (`s = 1.5` finds '1.50', `e = 1.0` the
 * first member) and with a date as dates, and a DECIMAL column compares with a DOUBLE as doubles
 * (exact only up to 15 digits). A parameter bound as a type MariaDB reads otherwise than as sent
 * (BIT, YEAR, INT24: as NULL) is never keyed (views/router.ts). Pinned by
 * test/e2e/value-types.test.ts.
 */
import { formatDecimal, toDecimal } from '../dataflow/decimal.js';
import { intValue, type Value } from '../values.js';
import { collationOf, columnClass, type ColumnInfo } from './schema.js';

const FLOAT_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;
const TIME = /^-?\d{2,3}:\d{2}:\d{2}(\.\d{1,6})?$/;
/**
 * A number written as text, between the spaces MariaDB skips when it reads one (its character
 * set's spaces: ASCII space, tab, LF, VT, FF, CR; not a no-break or an ideographic space, which make
 * `'\u00a05'` the number 0, as JavaScript's `\s` would not).
 */
const INTEGER_TEXT = /^[ \t\n\v\f\r]*[-+]?\d+(\.\d*)?[ \t\n\v\f\r]*$/;
const DECIMAL_TEXT = /^[ \t\n\v\f\r]*[-+]?(\d+\.?\d*|\.\d+)[ \t\n\v\f\r]*$/;

/**
 * Text the column's character set can hold; else undefined: MariaDB refuses to compare the column
 * with it ("Illegal mix of collations"), so the statement goes upstream for that answer.
 */
function covered(v: string | undefined, c: ColumnInfo): string | undefined {
  // ASCII is in every character set Rotor reproduces: only other text is weighed twice (here and as the key).
  if (v === undefined || isAscii(v)) return v;
  return collationOf(c)?.covers(v) === false ? undefined : v;
}

/**
 * Bytes (a BLOB parameter: a binary string) compared with a text column: MariaDB reads them as
 * text of the column's character set (0xC39F is 'ß' to a utf8mb4 column, 'Ã' and a control
 * character to a latin1 one). Keyed only where that text is the bytes' UTF-8 (ASCII, or a utf8mb4
 * column and valid UTF-8); else undefined.
 */
function bytesAsText(v: Buffer, c: ColumnInfo): string | undefined {
  const s = v.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(v)) return undefined;
  return isAscii(s) || (c.collation ?? '').startsWith('utf8mb4') ? s : undefined;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * A value's SQL type where its JS type does not tell it ([note: value-types]): a number written as
 * text (a literal `1.5` or `1e3`, a DECIMAL parameter), a FLOAT/DOUBLE parameter, a date or time
 * parameter. Absent: the JS type says (a string is a string, a number or bigint an integer).
 */
export type ValueType = 'decimal' | 'double' | 'temporal';

/** The most digits every DECIMAL value of a column keeps apart as a double (DBL_DIG). */
const DOUBLE_DIGITS = 15;

export function coerceParam(v: Value, c: ColumnInfo, type?: ValueType): Value | undefined {
  if (v === null) return undefined;
  const cls = columnClass(c);
  if (type !== undefined) {
    // [note: value-types] Compared as numbers (or dates), not as strings.
    if (cls === 'text' || cls === 'binary' || cls === 'other') return undefined;
    // As doubles: two values of more digits (or of digits not known) may be one double.
    if (type === 'double' && cls === 'decimal' && (c.precision === undefined || c.precision > DOUBLE_DIGITS)) return undefined;
  }
  switch (cls) {
    case 'integer': {
      // As doubles: beyond 2^53 one double equals several integers (-9223372036854775808 and its neighbours all equal -2^63).
      if (type === 'double' && typeof v === 'number' && !Number.isSafeInteger(v)) return undefined;
      const n = integerOf(v);
      return n === undefined || c.dataType !== 'year' ? n : yearOf(n, typeof v === 'string');
    }
    case 'decimal': {
      if (Buffer.isBuffer(v)) return undefined;
      const d = toDecimal(typeof v === 'string' && !DECIMAL_TEXT.test(v) ? '' : v);
      if (d === null) return undefined;
      if (d.s > c.scale) {
        const drop = 10n ** BigInt(d.s - c.scale);
        if (d.m % drop !== 0n) return undefined;
        return formatDecimal({ m: d.m / drop, s: c.scale });
      }
      return formatDecimal(d, c.scale);
    }
    case 'float': {
      // [note: float-exact] MariaDB compares a FLOAT/DOUBLE column with any number or numeric
      // string as doubles: the key is that double (a FLOAT holding 0.1 is 0.10000000149011612,
      // so `f = 0.1` finds nothing, as upstream). Strings MariaDB would read with a warning go up.
      const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v)
        : typeof v === 'string' && FLOAT_TEXT.test(v) ? Number(v) : NaN;
      return Number.isFinite(n) ? n : undefined;
    }
    case 'text':
      return covered(typeof v === 'string' ? v : Buffer.isBuffer(v) ? bytesAsText(v, c) : undefined, c);
    case 'binary':
      // Text under a `_bin` collation (ENUM and SET included: their values are strings) is keyed
      // by its string; only byte columns by Buffers.
      if (c.dataType.includes('char') || c.dataType.includes('text') || c.dataType === 'enum' || c.dataType === 'set') return covered(typeof v === 'string' ? v : undefined, c);
      // A BIT column compares with a string as an integer (`b = '5'` finds b'101') unless MariaDB
      // reads it through an index, as bytes: its answer follows its plan, so only it can give it.
      if (c.dataType === 'bit') return undefined;
      return Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v, 'utf8') : undefined;
    case 'temporal': {
      if (typeof v !== 'string') return undefined;
      const t = c.dataType;
      if (t === 'date') return DATE.test(v) && isCalendarDay(v) ? v : undefined;
      // DATETIME/TIME keys depend on the column's fractional precision, which Rotor does not
      // track yet: leave those lookups to upstream rather than miss rows.
      void TIME;
      return undefined;
    }
    default:
      return undefined;
  }
}

/** An integer written as a number or a string of one (`'5'`, `' 5'`, `'5.0'`), else undefined. */
function integerOf(v: Value): number | bigint | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'bigint') return intValue(v);
  if (typeof v === 'string') {
    const d = toDecimal(v);
    if (d === null || !INTEGER_TEXT.test(v)) return undefined;
    if (d.s > 0 && d.m % 10n ** BigInt(d.s) !== 0n) return undefined;
    return intValue(d.m / 10n ** BigInt(d.s));
  }
  return undefined;
}

/**
 * A YEAR column's key for integer `n`: MariaDB compares the column with the year it would store
 * for `n`, which is not always `n` (`24` and `'24'` are 2024, `99` is 1999, `'0'` is 2000 while `0`
 * and `'0000'` are 0000, and a number out of YEAR's range is compared as itself). Only `n` that is a
 * year itself (1901 to 2155, or a number 0) is a key; the rest goes upstream.
 */
function yearOf(n: number | bigint, fromText: boolean): number | undefined {
  if (typeof n !== 'number') return undefined;
  if (n >= 1901 && n <= 2155) return n;
  return n === 0 && !fromText ? 0 : undefined;
}

/**
 * True when `v` (`YYYY-MM-DD…`) begins with a day of the calendar. Zero dates and days a month does
 * not have are read by MariaDB as its sql_mode says, the server's global one included (under
 * `sql_mode=''`, `d = '2024-02-30'` finds the rows holding 0000-00-00), which Rotor does not
 * follow: such a value is never a key.
 */
function isCalendarDay(v: string): boolean {
  const [y, m, d] = [Number(v.slice(0, 4)), Number(v.slice(5, 7)), Number(v.slice(8, 10))];
  const day = new Date(Date.UTC(y, m - 1, d));
  return y !== 0 && day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

/**
 * A range's bound ([note: range-state]) as a value of the column it bounds, or undefined where the
 * comparison MariaDB would make is not a plain order of the column's values (the statement goes
 * upstream): NULL (no row is in such a range), a number against text or a date, a string that is
 * not an integer against an integer column (`id > '1.5'`), a date that is not a real calendar
 * date. A DATE, DATETIME or TIMESTAMP bound is a date (`2024-01-31`) or a datetime
 * (`2024-01-31 10:00:00`, up to six fractional digits), as the values themselves are written.
 */
export function coerceRangeParam(v: Value, c: ColumnInfo, type?: ValueType): Value | undefined {
  if (columnClass(c) !== 'temporal') return coerceParam(v, c, type);
  if (typeof v !== 'string') return undefined;
  if (!DATE.test(v) && !DATETIME.test(v)) return undefined;
  if (!isCalendarDay(v)) return undefined;
  if (v.length > 10 && (Number(v.slice(11, 13)) > 23 || Number(v.slice(14, 16)) > 59 || Number(v.slice(17, 19)) > 59)) return undefined;
  return v;
}
