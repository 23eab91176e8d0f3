/**
 * Rewrite pass: a scalar subquery in the select list, correlated by equalities, as a left join
 * with a derived table that has at most one row per correlation value:
 *
 *   - `(SELECT MIN|MAX|SUM|AVG(c) FROM t WHERE t.k = outer.x [AND constants])`: the derived table
 *     `(SELECT t.k, MAX(c) … GROUP BY t.k)`; no row for `x` is the aggregate of no rows, NULL, as
 *     the left join gives. `COUNT` is 0 over no rows, which the left join does not give: refused.
 *   - `(SELECT c FROM t WHERE t.pk = outer.x [AND constants])`: the derived table `(SELECT t.pk,
 *     c FROM t …)`, kept only when the correlation covers t's whole primary key (checked in
 *     planner/join.ts, which knows the keys): at most one row, as MariaDB requires (error 1242
 *     otherwise, which a cache would not give).
 *
 * [note: scalar-subquery] The sources added are named with {@link SCALAR_PREFIX} (hidden from
 * `SELECT *`); the select item reads the derived table's value column. Returns `ast` itself when
 * the select list has no subquery.
 */
import { columnRef, type AstNode } from '../parse.js';
import { unsupported } from '../unsupported.js';
import { andAll, SCALAR_PREFIX } from '../join.js';
import { correlation, ownNames } from './semi-join.js';

const AGGREGATES = new Set(['MIN', 'MAX', 'SUM', 'AVG']);

export function scalarSubqueries(ast: AstNode): AstNode {
  if (ast.type !== 'select' || !Array.isArray(ast.columns) || !Array.isArray(ast.from)) return ast;
  const items = ast.columns as AstNode[];
  if (!items.some((it) => scalarOf(it) !== undefined)) return ast;
  const from = [...(ast.from as AstNode[])];
  const columns = items.map((it): AstNode => {
    const sub = scalarOf(it);
    if (sub === undefined) return it;
    const what = 'a scalar subquery';
    const own = ownNames(sub, what);
    const subItems = sub.columns as AstNode[];
    if (!Array.isArray(subItems) || subItems.length !== 1) throw unsupported('SELECT', `${what} of more than one column`);
    const value = subItems[0].expr as AstNode;
    const aggregate = value.type === 'aggr_func';
    if (aggregate) {
      const fn = String(value.name).toUpperCase();
      if (!AGGREGATES.has(fn)) throw unsupported('SELECT', `${what} of ${fn}() (${fn === 'COUNT' ? 'COUNT is 0 where the subquery finds no row' : 'only MIN, MAX, SUM and AVG'})`);
    } else if (columnRef(value) === null || columnRef(value)?.column === '*') throw unsupported('SELECT', `${what} of an expression`);
    const { pairs, where } = correlation(sub, own, what, 'SELECT');
    const name = `${SCALAR_PREFIX}${from.length}`;
    const keys = pairs.map((p, i) => ({ expr: p.inner, as: `${name}_k${i}` }));
    from.push({
      expr: { ast: { ...sub, distinct: null, columns: [...keys, { expr: value, as: `${name}_v` }], where, groupby: aggregate ? { columns: pairs.map((p) => ({ ...(p.inner as object) })) } : null } },
      as: name, join: 'LEFT JOIN',
      on: andAll(pairs.map((p, i) => ({ type: 'binary_expr', operator: '=', left: p.outer, right: { type: 'column_ref', table: name, column: `${name}_k${i}` } }))),
    });
    return { ...it, expr: { type: 'column_ref', table: name, column: `${name}_v` } };
  });
  return { ...ast, columns, from };
}

/** The SELECT of a select item that is a subquery, or undefined. */
function scalarOf(it: AstNode): AstNode | undefined {
  const sub = (it.expr as AstNode | undefined)?.ast as AstNode | undefined;
  return sub !== undefined && sub.type === 'select' ? sub : undefined;
}
