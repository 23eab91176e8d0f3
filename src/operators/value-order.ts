/**
 * [note: typed-order] How values of the types whose order is not their text's order sort, as
 * MariaDB sorts them: DECIMAL by exact value (beyond 2^53 too), TIME as a signed duration
 * (`-01:00:00` < `99:00:00` < `100:00:00`), ENUM by its member's index in the definition, SET by
 * its bits. The planner picks one {@link ValueOrder} per column from its type (`orderOf` in
 * src/planner/build-parts.ts) for ORDER BY, top-k and MIN/MAX alike, and HAVING compares
 * aggregates as the type of their result (`ruleInfo` in src/planner/conditions.ts); text orders by its collation
 * (extremum.ts). MIN and MAX compare ENUM and SET by their text, not their index, as MariaDB does.
 * Pinned by test/views/typed-order.test.ts.
 *
 * NULL sorts first, as in MariaDB's ascending order. A value the order cannot read (which Rotor's
 * value representation never produces) falls back to {@link compareValues}.
 */
import { compareValues, type Value } from '../values.js';
import { compareDecimal, toDecimal } from '../dataflow/decimal.js';
import type { ValueOrder } from './extremum.js';

function nulls(a: Value, b: Value): number | null {
  if (a === null) return b === null ? 0 : -1;
  return b === null ? 1 : null;
}

/** DECIMAL (and integers) by exact value. */
export const decimalOrder: ValueOrder = (a, b) => {
  const n = nulls(a, b);
  if (n !== null) return n;
  const x = toDecimal(a), y = toDecimal(b);
  return x !== null && y !== null ? compareDecimal(x, y) : compareValues(a, b);
};

const TIME = /^(-)?(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;

/** A TIME's text (`-838:59:59.000000` … `838:59:59`) as signed microseconds, or null. */
export function timeMicros(v: Value): number | null {
  if (typeof v !== 'string') return null;
  const m = TIME.exec(v);
  if (m === null) return null;
  const us = ((Number(m[2]) * 60 + Number(m[3])) * 60 + Number(m[4])) * 1e6 + Number((m[5] ?? '').padEnd(6, '0'));
  return m[1] === '-' ? -us : us;
}

/** TIME as a signed duration. */
export const timeOrder: ValueOrder = (a, b) => {
  const n = nulls(a, b);
  if (n !== null) return n;
  const x = timeMicros(a), y = timeMicros(b);
  if (x === null || y === null) return compareValues(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * ENUM by index: the members' positions from 1, the error value `''` 0 (as MariaDB stores a value a
 * non-strict INSERT could not match).
 */
export function enumOrder(members: ReadonlyArray<string>): ValueOrder {
  const index = new Map<string, number>(members.map((m, i) => [m, i + 1]));
  const at = (v: Value): number | null => (typeof v === 'string' ? (v === '' ? 0 : index.get(v) ?? null) : null);
  return (a, b) => {
    const n = nulls(a, b);
    if (n !== null) return n;
    const x = at(a), y = at(b);
    if (x === null || y === null) return compareValues(a, b);
    return x - y;
  };
}

/** SET by its value as a number: member i (from 0) is bit 2^i. */
export function setOrder(members: ReadonlyArray<string>): ValueOrder {
  const bit = new Map<string, bigint>(members.map((m, i) => [m, 1n << BigInt(i)]));
  const bits = (v: Value): bigint | null => {
    if (typeof v !== 'string') return null;
    if (v === '') return 0n;
    let r = 0n;
    for (const m of v.split(',')) {
      const b = bit.get(m);
      if (b === undefined) return null;
      r |= b;
    }
    return r;
  };
  return (a, b) => {
    const n = nulls(a, b);
    if (n !== null) return n;
    const x = bits(a), y = bits(b);
    if (x === null || y === null) return compareValues(a, b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

/**
 * DATE, DATETIME and TIMESTAMP as points in time, so a date compares with a datetime as MariaDB
 * compares them (`'2024-01-01'` = `'2024-01-01 00:00:00'`, `'…:00'` = `'…:00.000'`): both read with
 * their time and six fractional digits written out. A range's parameter values are checked to be
 * such text (planner/coerce.ts `coerceRangeParam`).
 */
export const temporalOrder: ValueOrder = (a, b) => {
  const n = nulls(a, b);
  if (n !== null) return n;
  if (typeof a !== 'string' || typeof b !== 'string') return compareValues(a, b);
  const x = pointInTime(a), y = pointInTime(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

function pointInTime(s: string): string {
  if (s.length === 10) return `${s} 00:00:00.000000`;
  if (s.length === 19) return `${s}.000000`;
  return s.length < 26 ? s.padEnd(26, '0') : s;
}
