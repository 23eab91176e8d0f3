/**
 * The per-group rules of COUNT(*), COUNT(col), COUNT(DISTINCT col), SUM and AVG for the grouped
 * wrapper (grouped.ts). SUM and AVG of integer and DECIMAL columns are exact and print as MariaDB
 * does: SUM is a DECIMAL of the argument's scale, AVG a DECIMAL with `scale + div_precision_increment`
 * digits (4 by default) rounded half away from zero.
 *
 * [note: float-sum] Over FLOAT/DOUBLE both are doubles that MariaDB adds one row at a time in the
 * order it reads them, and floating-point addition is not associative (0.1 + 0.2 + 0.3 is
 * 0.6000000000000001, 0.3 + 0.2 + 0.1 is 0.6): no sum kept by `+` and `−` can promise MariaDB's
 * digits. A change to a non-NULL value of such a group is reported (apply returns false), so the
 * grouped wrapper evicts the key and the next read (or the background refill) takes MariaDB's own
 * SUM from an aggregate upquery. The planner refuses these aggregates over joins, whose rows Rotor
 * would add in its own order. Pinned by test/e2e/floats.test.ts.
 */
import { addDecimal, divideDecimal, formatDecimal, toDecimal, ZERO, type Decimal } from '../dataflow/decimal.js';
import { keyString, type KeyFold } from '../dataflow/state.js';
import type { AggregateRule } from './grouped.js';
import type { Value } from '../values.js';

interface Count { n: number }

export function countStar(): AggregateRule<Count> {
  return {
    name: 'COUNT(*)', arg: null,
    init: () => ({ n: 0 }),
    apply: (s, _v, sign) => { s.n += sign; return true; },
    result: (s) => s.n,
    stateSql: () => ['COUNT(*)'],
    fromSql: (v) => ({ n: Number(v[0]) }),
  };
}

export function countColumn(arg: number, name: string): AggregateRule<Count> {
  return {
    name: `COUNT(${name})`, arg,
    init: () => ({ n: 0 }),
    apply: (s, v, sign) => { if (v !== null) s.n += sign; return true; },
    result: (s) => s.n,
    stateSql: (a) => [`COUNT(${a})`],
    fromSql: (v) => ({ n: Number(v[0]) }),
  };
}

interface Distinct { readonly seen: Map<string, number> }

/** COUNT(DISTINCT): values equal under the column's collation count once. */
export function countDistinct(arg: number, name: string, fold: KeyFold = 'exact'): AggregateRule<Distinct> {
  const folds = [fold];
  return {
    name: `COUNT(DISTINCT ${name})`, arg,
    init: () => ({ seen: new Map() }),
    apply: (s, v, sign) => {
      if (v === null) return true;
      const k = keyString([v], folds);
      const n = (s.seen.get(k) ?? 0) + sign;
      if (n <= 0) s.seen.delete(k);
      else s.seen.set(k, n);
      return true;
    },
    result: (s) => s.seen.size,
    stateSql: () => null,
    fromSql: () => ({ seen: new Map() }),
  };
}

/** How SUM/AVG compute: exactly (integers, DECIMAL with `scale` digits) or as doubles. */
export type NumericKind = { readonly exact: true; readonly scale: number } | { readonly exact: false };

interface Sum { sum: Decimal; f: number; n: number }

/** Applies one value; false when the result is no longer MariaDB's (a double changed: [note: float-sum]). */
function addValue(s: Sum, v: Value, sign: 1 | -1, kind: NumericKind): boolean {
  if (v === null) return true;
  s.n += sign;
  if (kind.exact) {
    s.sum = addDecimal(s.sum, toDecimal(v) ?? ZERO, sign);
    return true;
  }
  s.f += sign * Number(v);
  return false;
}

function sumFromSql(v: ReadonlyArray<Value>, kind: NumericKind): Sum {
  const n = Number(v[1]);
  if (v[0] === null) return { sum: ZERO, f: 0, n };
  return kind.exact ? { sum: toDecimal(v[0]) ?? ZERO, f: 0, n } : { sum: ZERO, f: Number(v[0]), n };
}

export function sum(arg: number, name: string, kind: NumericKind): AggregateRule<Sum> {
  return {
    name: `SUM(${name})`, arg,
    init: () => ({ sum: ZERO, f: 0, n: 0 }),
    apply: (s, v, sign) => addValue(s, v, sign, kind),
    result: (s) => (s.n <= 0 ? null : kind.exact ? formatDecimal(s.sum, Math.max(kind.scale, s.sum.s)) : s.f),
    stateSql: (a) => [`SUM(${a})`, `COUNT(${a})`],
    fromSql: (v) => sumFromSql(v, kind),
  };
}

/** AVG; `increment` is the upstream's `div_precision_increment`, the digits AVG adds to a DECIMAL's. */
export function avg(arg: number, name: string, kind: NumericKind, increment = 4): AggregateRule<Sum> {
  return {
    name: `AVG(${name})`, arg,
    ...(kind.exact ? { variant: `/${increment}` } : {}),
    init: () => ({ sum: ZERO, f: 0, n: 0 }),
    apply: (s, v, sign) => addValue(s, v, sign, kind),
    result: (s) => {
      if (s.n <= 0) return null;
      if (!kind.exact) return s.f / s.n;
      const scale = Math.min(kind.scale + increment, 38);
      return formatDecimal(divideDecimal(s.sum, BigInt(s.n), scale));
    },
    stateSql: (a) => [`SUM(${a})`, `COUNT(${a})`],
    fromSql: (v) => sumFromSql(v, kind),
  };
}
