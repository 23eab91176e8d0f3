/**
 * The per-group rules of MIN and MAX. Inserting can only move the extreme outward; deleting the
 * current extreme leaves a group whose new extreme Rotor does not know, so the rule reports it and
 * the grouped wrapper evicts the key ([note: evict-not-guess]): the next read refills it from MySQL.
 */
import { compareValues, type Value } from '../values.js';
import type { Collation } from '../dataflow/collation.js';
import type { AggregateRule } from './grouped.js';

interface Extreme { v: Value; n: number }

/** Orders values as the column's collation would, for the cases Rotor supports. */
export type ValueOrder = (a: Value, b: Value) => number;

export const binaryOrder: ValueOrder = compareValues;

/** Text under a binary collation: by code unit, never as numbers (unlike DECIMAL strings). */
export const textOrder: ValueOrder = (a, b) =>
  typeof a === 'string' && typeof b === 'string' ? (a < b ? -1 : a > b ? 1 : 0) : compareValues(a, b);

/** Text under its collation ([note: collations]); other values (NULL, numbers) by value. */
export function collationOrder(collation: Collation): ValueOrder {
  return (a, b) => (typeof a === 'string' && typeof b === 'string' ? collation.compare(a, b) : compareValues(a, b));
}

function extremum(fn: 'MIN' | 'MAX', arg: number, name: string, order: ValueOrder): AggregateRule<Extreme> {
  const better = fn === 'MIN' ? (a: Value, b: Value) => order(a, b) < 0 : (a: Value, b: Value) => order(a, b) > 0;
  return {
    name: `${fn}(${name})`, arg,
    init: () => ({ v: null, n: 0 }),
    apply: (s, v, sign) => {
      if (v === null) return true;
      if (sign === 1) {
        if (s.n === 0 || better(v, s.v)) s.v = v;
        s.n++;
        return true;
      }
      s.n--;
      if (s.n <= 0) { s.n = 0; s.v = null; return true; }
      // Deleting something other than the extreme leaves it standing; deleting the extreme does not.
      return order(v, s.v) !== 0;
    },
    result: (s) => (s.n > 0 ? s.v : null),
    stateSql: (a) => [`${fn}(${a})`, `COUNT(${a})`],
    fromSql: (v) => ({ v: v[0], n: Number(v[1]) }),
  };
}

export function min(arg: number, name: string, order: ValueOrder = binaryOrder): AggregateRule<Extreme> {
  return extremum('MIN', arg, name, order);
}

export function max(arg: number, name: string, order: ValueOrder = binaryOrder): AggregateRule<Extreme> {
  return extremum('MAX', arg, name, order);
}
