/**
 * Range parameters ([note: range-state]): `col > ?`, `col >= ?`, `col < ?`, `col <= ?` (either side
 * written first) and `col BETWEEN ? AND ?`, ANDed in WHERE beside equality parameters, on one
 * column, at most one bound on each side; the rows are ordered by that column, optionally cut by a
 * constant LIMIT (keyset pagination: `WHERE id > ? ORDER BY id LIMIT 20`).
 *
 * What is refused, and why: a range over a join, an aggregate, DISTINCT, `LIMIT ?` or an IN list
 * (not planned yet); another ORDER BY than the range column (then the primary key), or a LIMIT
 * without that ORDER BY (its rows would be any); FLOAT/DOUBLE columns (a double compared with the
 * parameter's text is not a plain order of values), TIME, YEAR, ENUM, SET, binary strings and text
 * under a `_bin` collation.
 */
import { columnRef, isPlaceholder, type AstNode } from './parse.js';
import { columnClass, type ColumnInfo } from './schema.js';
import { unsupported } from './unsupported.js';
import type { LimitParam, LimitSpec } from './limit.js';
import type { ParamSpec, RangePlan } from './query-plan.js';

/** One bound of a range as written: which side it bounds and whether it includes its value. */
export interface RangeBound {
  readonly ref: { table: string | null; column: string };
  /** The placeholder. */
  readonly node: AstNode;
  readonly side: 'lower' | 'upper';
  readonly incl: boolean;
}

const FLIP: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** The bounds a conjunct of WHERE sets on a column with placeholders, or null when it is not one. */
export function paramRange(n: AstNode): RangeBound[] | null {
  if (n.type !== 'binary_expr') return null;
  const op = String(n.operator);
  const l = n.left as AstNode, r = n.right as AstNode;
  if (op === 'BETWEEN' && r.type === 'expr_list') {
    const ref = columnRef(l);
    const [lo, hi] = r.value as AstNode[];
    if (ref === null || !isPlaceholder(lo) || !isPlaceholder(hi)) return null;
    return [{ ref, node: lo, side: 'lower', incl: true }, { ref, node: hi, side: 'upper', incl: true }];
  }
  if (!(op in FLIP)) return null;
  let ref = columnRef(l), node = r, cmp = op;
  if (ref === null || !isPlaceholder(r)) {
    ref = columnRef(r);
    node = l;
    cmp = FLIP[op];
    if (ref === null || !isPlaceholder(l)) return null;
  }
  return [{ ref, node, side: cmp[0] === '>' ? 'lower' : 'upper', incl: cmp.length === 2 }];
}

/** How a range column's values order: only where MariaDB's comparison with the parameter is a plain order. */
function rangeable(c: ColumnInfo): boolean {
  switch (columnClass(c)) {
    case 'integer': case 'decimal': return c.dataType.toLowerCase() !== 'year';
    case 'text': return c.dataType !== 'enum' && c.dataType !== 'set';
    case 'temporal': return ['date', 'datetime', 'timestamp'].includes(c.dataType.toLowerCase());
    default: return false;
  }
}

/** The bounds, checked: one column, not an equality parameter's, at most one bound on each side. */
export function rangeParams(bounds: ReadonlyArray<RangeBound & { column: number }>, paramColumns: ReadonlySet<number>, cols: ReadonlyArray<ColumnInfo>): ReadonlyArray<RangeBound & { column: number }> {
  if (bounds.length === 0) return bounds;
  const column = bounds[0].column;
  const name = cols[column].name;
  if (bounds.some((b) => b.column !== column)) throw unsupported('WHERE', 'range parameters on two columns');
  if (paramColumns.has(column)) throw unsupported('WHERE', `a range and an equality parameter on column ${name}`);
  for (const side of ['lower', 'upper'] as const) {
    if (bounds.filter((b) => b.side === side).length > 1) throw unsupported('WHERE', `two ${side} bounds on column ${name}`);
  }
  const c = cols[column];
  if (!rangeable(c)) throw unsupported('WHERE', `a range on ${c.dataType.toUpperCase()} column ${name} (ranges are cached on integer, DECIMAL, text, DATE, DATETIME and TIMESTAMP columns)`);
  return bounds;
}

/** The range plan of a query whose WHERE has range bounds, or a refusal naming what does not fit. */
export function rangePlan(q: {
  rangeBounds: ReadonlyArray<RangeBound & { column: number }>;
  params: ReadonlyArray<ParamSpec>;
  cols: ReadonlyArray<ColumnInfo>;
  orderBy: ReadonlyArray<{ readonly stage: number; readonly desc: boolean }>;
  limit: LimitSpec | null;
  limitParam: LimitParam | null;
  isAgg: boolean;
  distinct: boolean;
  join: boolean;
}): RangePlan {
  const column = q.rangeBounds[0].column;
  const name = q.cols[column].name;
  if (q.join) throw unsupported('WHERE', 'range parameters over a join');
  if (q.isAgg) throw unsupported('WHERE', 'range parameters with aggregates');
  if (q.distinct) throw unsupported('SELECT', 'SELECT DISTINCT with range parameters');
  if (q.limitParam !== null) throw unsupported('LIMIT', '`LIMIT ?` with range parameters');
  if (q.params.some((p) => p.multi)) throw unsupported('WHERE', '`IN (?, …)` beside range parameters');
  const order = q.orderBy;
  const primary = q.cols.flatMap((c, i) => (c.primary === true ? [i] : []));
  if (order.length > 0) {
    const tie = order[1];
    const ok = order[0].stage === column && order.length <= 2
      && (tie === undefined || (primary.length === 1 && tie.stage === primary[0] && tie.desc === order[0].desc));
    if (!ok) throw unsupported('ORDER BY', `an order other than the range column ${name} (then the primary key, in the same direction)`);
  } else if (q.limit !== null) {
    throw unsupported('LIMIT', `a LIMIT without ORDER BY ${name} beside range parameters`);
  }
  const bound = (side: 'lower' | 'upper'): RangePlan['lower'] => {
    const b = q.rangeBounds.find((x) => x.side === side);
    if (b === undefined) return null;
    const param = q.params.findIndex((p) => p.bound === side);
    return { param, incl: b.incl };
  };
  return { column, lower: bound('lower'), upper: bound('upper'), desc: order[0]?.desc ?? false };
}
