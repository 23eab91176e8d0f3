/**
 * Scalar predicates over a node's rows (WHERE constants, HAVING): evaluated in JS with SQL's
 * three-valued logic, rendered back to SQL for upqueries, and described for `describe()`.
 *
 * Comparison follows MySQL where the planner lets it in: numerically when either side is numeric
 * (exactly, through decimals; as doubles when either side is a FLOAT/DOUBLE value, as MariaDB
 * does: a FLOAT holding 0.1 is its float32, 0.10000000149011612, so `f <= 0.1` is false
 * [note: float-exact]), else as strings: under the text column's collation
 * ([note: collations]), by code unit otherwise.
 */
import type { Value } from '../values.js';
import { compareDecimal, toDecimal } from './decimal.js';
import type { Collation } from './collation.js';

export type CompareOp = '=' | '<>' | '<' | '>' | '<=' | '>=';

export type Expr =
  | { readonly k: 'col'; readonly i: number; readonly name: string; readonly numeric: boolean; readonly collation: Collation | null; readonly real?: boolean }
  | { readonly k: 'lit'; readonly v: Value; readonly sql: string; readonly numeric: boolean }
  | { readonly k: 'cmp'; readonly op: CompareOp; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'and' | 'or'; readonly args: ReadonlyArray<Expr> }
  | { readonly k: 'not'; readonly a: Expr }
  | { readonly k: 'isnull'; readonly a: Expr; readonly neg: boolean }
  | { readonly k: 'in'; readonly a: Expr; readonly list: ReadonlyArray<Expr>; readonly neg: boolean }
  | { readonly k: 'between'; readonly a: Expr; readonly lo: Expr; readonly hi: Expr; readonly neg: boolean };

type Truth = boolean | null;

function isNumeric(e: Expr): boolean {
  return (e.k === 'col' || e.k === 'lit') && e.numeric;
}

/** A FLOAT/DOUBLE value (a column, or an aggregate over one): compared as a double. */
function isReal(e: Expr): boolean {
  return e.k === 'col' && e.real === true;
}

function collationOf(e: Expr): Collation | null {
  return e.k === 'col' ? e.collation : null;
}

/** Compares two values as MySQL compares these two expressions; null when either is NULL. */
function compare(a: Value, b: Value, numeric: boolean, collation: Collation | null, real = false): number | null {
  if (a === null || b === null) return null;
  if (real) {
    const x = toDouble(a), y = toDouble(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (numeric) {
    const x = toDecimal(a), y = toDecimal(b);
    if (x !== null && y !== null) return compareDecimal(x, y);
    const fx = Number(typeof a === 'string' ? parseFloat(a) || 0 : a), fy = Number(typeof b === 'string' ? parseFloat(b) || 0 : b);
    return fx < fy ? -1 : fx > fy ? 1 : 0;
  }
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    return Buffer.compare(Buffer.isBuffer(a) ? a : Buffer.from(String(a)), Buffer.isBuffer(b) ? b : Buffer.from(String(b)));
  }
  const sa = String(a), sb = String(b);
  if (collation !== null) return collation.compare(sa, sb);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

// A string as MariaDB reads a number from it: its longest numeric prefix, else 0.
function toDouble(v: Exclude<Value, null>): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return parseFloat(Buffer.isBuffer(v) ? v.toString('latin1') : v) || 0;
}

function value(e: Expr, row: ReadonlyArray<Value>): Value {
  if (e.k === 'col') return row[e.i];
  if (e.k === 'lit') return e.v;
  const t = evaluate(e, row);
  return t === null ? null : t ? 1 : 0;
}

function cmpOf(a: Expr, b: Expr, row: ReadonlyArray<Value>): number | null {
  return compare(value(a, row), value(b, row), isNumeric(a) || isNumeric(b), collationOf(a) ?? collationOf(b), isReal(a) || isReal(b));
}

/** SQL truth of a predicate for a row. */
export function evaluate(e: Expr, row: ReadonlyArray<Value>): Truth {
  switch (e.k) {
    case 'col': case 'lit': {
      const v = value(e, row);
      if (v === null) return null;
      const d = toDecimal(v);
      return d !== null ? d.m !== 0n : typeof v === 'string' ? (parseFloat(v) || 0) !== 0 : true;
    }
    case 'cmp': {
      const c = cmpOf(e.a, e.b, row);
      if (c === null) return null;
      switch (e.op) {
        case '=': return c === 0;
        case '<>': return c !== 0;
        case '<': return c < 0;
        case '>': return c > 0;
        case '<=': return c <= 0;
        case '>=': return c >= 0;
      }
      return null;
    }
    case 'and': {
      let r: Truth = true;
      for (const a of e.args) {
        const t = evaluate(a, row);
        if (t === false) return false;
        if (t === null) r = null;
      }
      return r;
    }
    case 'or': {
      let r: Truth = false;
      for (const a of e.args) {
        const t = evaluate(a, row);
        if (t === true) return true;
        if (t === null) r = null;
      }
      return r;
    }
    case 'not': {
      const t = evaluate(e.a, row);
      return t === null ? null : !t;
    }
    case 'isnull': return (value(e.a, row) === null) !== e.neg;
    case 'in': {
      let r: Truth = false;
      for (const x of e.list) {
        const c = cmpOf(e.a, x, row);
        if (c === 0) { r = true; break; }
        if (c === null) r = null;
      }
      return r === null ? null : r !== e.neg;
    }
    case 'between': {
      const lo = cmpOf(e.a, e.lo, row), hi = cmpOf(e.a, e.hi, row);
      let r: Truth;
      if (lo === null || hi === null) r = (lo !== null && lo < 0) || (hi !== null && hi > 0) ? false : null;
      else r = lo >= 0 && hi <= 0;
      return r === null ? null : r !== e.neg;
    }
  }
}

/** SQL text of a predicate, with column `i` rendered as `columns[i]`. */
export function renderExpr(e: Expr, columns: ReadonlyArray<string>): string {
  const r = (x: Expr): string => renderExpr(x, columns);
  switch (e.k) {
    case 'col': return columns[e.i];
    case 'lit': return e.sql;
    case 'cmp': return `${r(e.a)} ${e.op} ${r(e.b)}`;
    case 'and': case 'or': return e.args.map((a) => `(${r(a)})`).join(e.k === 'and' ? ' AND ' : ' OR ');
    case 'not': return `NOT (${r(e.a)})`;
    case 'isnull': return `${r(e.a)} IS ${e.neg ? 'NOT ' : ''}NULL`;
    case 'in': return `${r(e.a)} ${e.neg ? 'NOT ' : ''}IN (${e.list.map(r).join(', ')})`;
    case 'between': return `${r(e.a)} ${e.neg ? 'NOT ' : ''}BETWEEN ${r(e.lo)} AND ${r(e.hi)}`;
  }
}

/** The same expression with every column index mapped through `map`. */
export function remapExpr(e: Expr, map: (i: number) => number): Expr {
  const m = (x: Expr): Expr => remapExpr(x, map);
  switch (e.k) {
    case 'col': return { ...e, i: map(e.i) };
    case 'lit': return e;
    case 'cmp': return { ...e, a: m(e.a), b: m(e.b) };
    case 'and': case 'or': return { k: e.k, args: e.args.map(m) };
    case 'not': return { k: 'not', a: m(e.a) };
    case 'isnull': return { ...e, a: m(e.a) };
    case 'in': return { ...e, a: m(e.a), list: e.list.map(m) };
    case 'between': return { ...e, a: m(e.a), lo: m(e.lo), hi: m(e.hi) };
  }
}
