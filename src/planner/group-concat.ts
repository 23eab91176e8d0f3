/**
 * GROUP_CONCAT in a cached query: `GROUP_CONCAT([DISTINCT] col, … ORDER BY col [ASC|DESC], …
 * [SEPARATOR 'str'])` over one table's columns. Its value is MariaDB's own, refilled from an
 * aggregate upquery whenever a row of the group changes ([note: group-concat-refill]), so what the
 * planner decides is only whether that value is the one the client's own statement would get:
 *
 * - an ORDER BY is required. Without one MariaDB concatenates in the order it reads the rows, which
 *   follows its plan: the client's `WHERE k = 5` and the upquery's `WHERE k IN (5, 7) GROUP BY k`
 *   may read them in different orders, so no cache can promise MariaDB's answer;
 * - rows that tie in that ORDER BY must not print differently, for the same reason: the ORDER BY
 *   holds the table's primary key, or every concatenated column (then tied rows hold equal values:
 *   text equal under its collation, as GROUP BY's spellings, [note: collations]). FLOAT/DOUBLE
 *   columns need the primary key (0 and -0 tie and print apart);
 * - with DISTINCT, the ORDER BY is over exactly the concatenated columns (MariaDB does not say
 *   which of the rows a duplicate came from orders it).
 */
import { columnRef, literalOf, type AstNode } from './parse.js';
import { columnClass, type ColumnInfo } from './schema.js';
import type { RuleSpec } from './query-plan.js';
import { unsupported } from './unsupported.js';

type Resolve = (ref: { table: string | null; column: string }, clause: string) => number;

/** The rule of one GROUP_CONCAT (its `args` node as node-sql-parser reads it), or throws why not. */
export function concatRule(args: AstNode, resolve: Resolve, cols: ReadonlyArray<ColumnInfo>): RuleSpec {
  const clause = 'SELECT';
  const e = args?.expr as AstNode | undefined;
  const exprs = e?.type === 'expr_list' ? (e.value as AstNode[]) : e === undefined ? [] : [e];
  const concat = exprs.map((x) => {
    const ref = columnRef(x);
    if (ref === null || ref.column === '*') throw unsupported(clause, 'GROUP_CONCAT of an expression (only columns)');
    return resolve(ref, 'field list');
  });
  if (concat.length === 0) throw unsupported(clause, 'GROUP_CONCAT without arguments');
  const order = args.orderby as AstNode[] | null;
  if (!Array.isArray(order) || order.length === 0) {
    throw unsupported(clause, 'GROUP_CONCAT without ORDER BY (MariaDB concatenates in the order its plan reads the rows)');
  }
  const orderBy = order.map((o) => {
    const ref = columnRef(o.expr as AstNode);
    if (ref === null) throw unsupported(clause, 'GROUP_CONCAT ordered by an expression or a position (only columns)');
    return { column: resolve(ref, 'order clause'), desc: o.type === 'DESC' };
  });
  const sepNode = (args.separator as AstNode | null)?.value as AstNode | undefined;
  let separator = ',';
  if (sepNode !== undefined) {
    const lit = literalOf(sepNode);
    if (lit === null || typeof lit.value !== 'string') throw unsupported(clause, 'a GROUP_CONCAT SEPARATOR that is not a string literal');
    separator = lit.value;
  }
  const distinct = args.distinct === 'DISTINCT';
  const ordered = new Set(orderBy.map((o) => o.column));
  const float = concat.filter((c) => columnClass(cols[c]) === 'float');
  const allArgs = concat.every((c) => ordered.has(c));
  if (distinct) {
    if (!allArgs || orderBy.some((o) => !concat.includes(o.column)) || float.length > 0) {
      throw unsupported(clause, 'GROUP_CONCAT(DISTINCT …) not ordered by exactly its columns (or over FLOAT/DOUBLE)');
    }
  } else {
    const primary = cols.flatMap((c, i) => (c.primary === true ? [i] : []));
    const byKey = primary.length > 0 && primary.every((p) => ordered.has(p));
    if (!byKey && (!allArgs || float.length > 0)) {
      throw unsupported(clause, 'GROUP_CONCAT whose ORDER BY leaves ties that print differently (order by every concatenated column, or add the primary key)');
    }
  }
  return { fn: 'GROUP_CONCAT', arg: concat[0], distinct, concat: { args: concat, orderBy, separator } };
}
