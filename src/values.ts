/**
 * [note: value-representation] The one representation of a column value inside Rotor, shared by the
 * binlog path (zongji) and the upquery path (mysql2). Both paths MUST normalize to it, or a row
 * from a fill and the same row from a later binlog delta will not compare equal.
 *
 * | MySQL type                                  | Value                                            |
 * |---------------------------------------------|--------------------------------------------------|
 * | TINYINT … BIGINT (signed/unsigned), YEAR    | number when a safe integer, else bigint          |
 * | DECIMAL                                     | string, exact, as MySQL prints it ("12.30")      |
 * | FLOAT, DOUBLE                               | number                                           |
 * | DATE, DATETIME, TIMESTAMP, TIME             | string, MySQL's own text, fractional digits kept |
 * | CHAR, VARCHAR, TEXT, ENUM, SET, JSON        | string (JSON as text)                            |
 * | BINARY, VARBINARY, BLOB, BIT, GEOMETRY      | Buffer                                           |
 * | NULL                                        | null                                             |
 *
 * Rotor runs with TZ=UTC and upstream sessions with time_zone='+00:00'.
 */
export type Value = null | number | bigint | string | Buffer;

/** An integer as a Value: a number when it is safe, else a bigint. */
export function intValue(v: bigint | number | string): number | bigint {
  if (typeof v === 'number') return v;
  const b = typeof v === 'bigint' ? v : BigInt(v);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/**
 * Compares two values as MySQL would for ordering (NULL first, numbers numerically, strings by
 * code unit — collation-aware comparison is the caller's business where it matters).
 */
export function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return Buffer.compare(a, b);
  const sa = Buffer.isBuffer(a) ? a.toString('latin1') : String(a);
  const sb = Buffer.isBuffer(b) ? b.toString('latin1') : String(b);
  if (isNumericString(sa) && isNumericString(sb)) {
    const na = Number(sa), nb = Number(sb);
    if (na !== nb) return na < nb ? -1 : 1;
  }
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function isNumericString(s: string): boolean {
  return s.length > 0 && s.length < 40 && /^-?\d+(\.\d+)?$/.test(s);
}

/** True when two values are the same value (bigint and number compare by magnitude). */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    return (typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint') && BigInt(a) === BigInt(b);
  }
  return false;
}
