/**
 * Rewrite pass: `col IN (SELECT …)` as a semi-join, so that planner/join.ts plans it as a join
 * with a derived table. Sources it adds are named with {@link SEMI_JOIN_PREFIX}; they contribute no
 * column to `SELECT *`.
 */
import { columnRef, type AstNode } from '../parse.js';
import { unsupported } from '../unsupported.js';
import { andAll, columnsOf, conjuncts, SEMI_JOIN_PREFIX } from '../join.js';

/**
 * `col IN (SELECT c FROM t [WHERE constants])` ANDed in WHERE, rewritten as an inner join with the
 * derived table `(SELECT c FROM t WHERE … GROUP BY c)`: each row matches at most one of its rows,
 * and NULL matches nothing either way, so the rows are the same. NOT IN (NULL semantics),
 * correlated subqueries and subqueries under OR stay refused. Returns `ast` itself when there is
 * nothing to rewrite.
 */
export function semiJoins(ast: AstNode): AstNode {
  if (ast.type !== 'select' || !ast.where || !Array.isArray(ast.from)) return ast;
  const keep: AstNode[] = [];
  const from = [...(ast.from as AstNode[])];
  for (const c of conjuncts(ast.where as AstNode)) {
    const right = c.right as AstNode | undefined;
    const items = right?.type === 'expr_list' ? (right.value as AstNode[]) : [];
    const sub = items.length === 1 ? (items[0].ast as AstNode | undefined) : undefined;
    if (c.type !== 'binary_expr' || c.operator !== 'IN' || sub === undefined) { keep.push(c); continue; }
    const left = columnRef(c.left as AstNode);
    if (left === null) throw unsupported('WHERE', 'IN (SELECT …) of an expression');
    const cols = sub.columns as AstNode[];
    const col = Array.isArray(cols) && cols.length === 1 ? columnRef(cols[0].expr as AstNode) : null;
    const sf = sub.from as AstNode[] | null;
    if (sub.type !== 'select' || col === null || col.column === '*' || !Array.isArray(sf) || sf.length !== 1 || sf[0].join || sf[0].expr
      || sub.groupby || sub.having || sub.limit || sub.orderby || sub.with) {
      throw unsupported('WHERE', 'IN (SELECT …) other than one column of one table with constant conditions');
    }
    const own = new Set([sf[0].table, sf[0].as].filter((x) => typeof x === 'string'));
    if (columnsOf(sub).some((r) => r.table !== null && !own.has(r.table))) throw unsupported('WHERE', 'correlated subqueries');
    const name = `${SEMI_JOIN_PREFIX}${from.length}`;
    const as = `${name}_${col.column}`;
    const group = { type: 'column_ref', table: col.table, column: col.column };
    from.push({
      expr: { ast: { ...sub, distinct: null, columns: [{ expr: cols[0].expr, as }], groupby: { columns: [group] } } },
      as: name, join: 'INNER JOIN',
      on: { type: 'binary_expr', operator: '=', left: c.left, right: { type: 'column_ref', table: name, column: as } },
    });
  }
  if (from.length === (ast.from as AstNode[]).length) return ast;
  return { ...ast, from, where: andAll(keep) };
}
