/**
 * Rewrite pass: subqueries ANDed in WHERE as joins with a derived table of the subquery's
 * distinct values, so that planner/join.ts plans them with the operators it has:
 *
 *   - `col IN (SELECT c FROM t …)` and `EXISTS (SELECT … FROM t WHERE t.c = outer.col …)`: an
 *     inner join (a semi-join);
 *   - `NOT EXISTS (…)` and `col NOT IN (SELECT c FROM t …)`: a left join kept where the derived
 *     table's column IS NULL (an anti-join).
 *
 * [note: anti-join] Each row matches at most one row of the derived table `(SELECT c … GROUP BY
 * c)`, so a semi-join keeps exactly the matching rows and an anti-join exactly the others, NULL
 * never matching either way; a row appearing in the subquery removes the rows it matches, its
 * deletion brings them back, both through the left join's own maintenance and fills ([note:
 * join-fill]). That is `NOT EXISTS`. `NOT IN` is it only when neither side can be NULL: a NULL in
 * the subquery makes `x NOT IN (…)` unknown for every row, and a NULL `x` is unknown against a
 * subquery with rows but true against an empty one (each a condition on the whole subquery, not
 * on one key); so the planner (join.ts) keeps a NOT IN source only over two NOT NULL columns, the
 * outer one not on the right side of a LEFT JOIN, and refuses it otherwise.
 *
 * Sources added are named with {@link SEMI_JOIN_PREFIX} (NOT IN's with {@link NOT_IN_PREFIX}); they
 * contribute no column to `SELECT *`. A subquery is one table with constant conditions, correlated
 * (EXISTS) only by equalities between its columns and the outer query's. Returns `ast` itself when
 * there is nothing to rewrite.
 */
import { columnRef, type AstNode } from '../parse.js';
import { unsupported } from '../unsupported.js';
import { andAll, columnsOf, conjuncts, NOT_IN_PREFIX, SEMI_JOIN_PREFIX } from '../join.js';

/** One subquery as a join: the outer columns, the subquery's columns they equal, and the kind. */
interface Rewrite {
  readonly anti: boolean;
  readonly notIn: boolean;
  readonly sub: AstNode;
  /** Outer column expression → the subquery's column expression it equals. */
  readonly pairs: ReadonlyArray<{ readonly outer: AstNode; readonly inner: AstNode }>;
  /** The subquery's own conditions. */
  readonly where: AstNode | null;
}

export function semiJoins(ast: AstNode): AstNode {
  if (ast.type !== 'select' || !ast.where || !Array.isArray(ast.from)) return ast;
  const keep: AstNode[] = [];
  const from = [...(ast.from as AstNode[])];
  const nulls: AstNode[] = [];
  for (const c of conjuncts(ast.where as AstNode)) {
    const r = inSubquery(c) ?? existsSubquery(c);
    if (r === null) { keep.push(c); continue; }
    const name = `${r.notIn ? NOT_IN_PREFIX : SEMI_JOIN_PREFIX}${from.length}`;
    const columns = r.pairs.map((p, i) => ({ expr: p.inner, as: `${name}_${i}` }));
    const groups = r.pairs.map((p) => ({ ...(p.inner as object) }));
    const on = andAll(r.pairs.map((p, i) => ({ type: 'binary_expr', operator: '=', left: p.outer, right: { type: 'column_ref', table: name, column: `${name}_${i}` } })));
    from.push({
      expr: { ast: { ...r.sub, distinct: null, columns, where: r.where, groupby: { columns: groups } } },
      as: name, join: r.anti ? 'LEFT JOIN' : 'INNER JOIN', on,
    });
    if (r.anti) nulls.push({ type: 'binary_expr', operator: 'IS', left: { type: 'column_ref', table: name, column: `${name}_0` }, right: { type: 'null', value: null } });
  }
  if (from.length === (ast.from as AstNode[]).length) return ast;
  return { ...ast, from, where: andAll([...keep, ...nulls]) };
}

/** `col [NOT] IN (SELECT c FROM t [WHERE constants])`, or null. */
function inSubquery(c: AstNode): Rewrite | null {
  const right = c.right as AstNode | undefined;
  const items = right?.type === 'expr_list' ? (right.value as AstNode[]) : [];
  const sub = items.length === 1 ? (items[0].ast as AstNode | undefined) : undefined;
  if (c.type !== 'binary_expr' || (c.operator !== 'IN' && c.operator !== 'NOT IN') || sub === undefined) return null;
  const notIn = c.operator === 'NOT IN';
  const what = notIn ? 'NOT IN (SELECT …)' : 'IN (SELECT …)';
  if (columnRef(c.left as AstNode) === null) throw unsupported('WHERE', `${what} of an expression`);
  const cols = sub.columns as AstNode[];
  const col = Array.isArray(cols) && cols.length === 1 ? columnRef(cols[0].expr as AstNode) : null;
  const own = ownNames(sub, what);
  if (col === null || col.column === '*') throw unsupported('WHERE', `${what} other than one column of one table with constant conditions`);
  if (columnsOf(sub).some((r) => r.table !== null && !own.has(r.table))) throw unsupported('WHERE', 'correlated subqueries');
  return { anti: notIn, notIn, sub, pairs: [{ outer: c.left as AstNode, inner: cols[0].expr as AstNode }], where: (sub.where ?? null) as AstNode | null };
}

/** `[NOT] EXISTS (SELECT … FROM t WHERE t.c = outer.col [AND …])`, or null. */
function existsSubquery(c: AstNode): Rewrite | null {
  let anti = false;
  let node: AstNode = c;
  if (node.type === 'unary_expr' && node.operator === 'NOT EXISTS') {
    anti = true;
    node = { type: 'exists', expr: node.expr };
  } else if (node.type === 'unary_expr' && node.operator === 'NOT' && isExists(node.expr as AstNode)) {
    anti = true;
    node = node.expr as AstNode;
  } else if (isFunction(node, 'NOT')) {
    // `NOT (EXISTS (…))` reads as the function NOT.
    const args = ((node.args as AstNode | undefined)?.value ?? []) as AstNode[];
    if (args.length === 1 && isExists(args[0])) {
      anti = true;
      node = args[0];
    }
  }
  const sub = node.type === 'exists' ? ((node.expr as AstNode | undefined)?.ast as AstNode | undefined) : isExists(node) ? existsArg(node) : undefined;
  if (sub === undefined) return null;
  const what = anti ? 'NOT EXISTS (SELECT …)' : 'EXISTS (SELECT …)';
  const own = ownNames(sub, what);
  if ((sub.columns as AstNode[]).some((it) => hasAggregate(it.expr))) throw unsupported('WHERE', `${what} of an aggregate (one row whatever the table holds)`);
  const { pairs, where } = correlation(sub, own, what, 'WHERE');
  return { anti, notIn: false, sub, pairs, where };
}

/**
 * A subquery's WHERE split into its correlation with the outer query (equalities between one of
 * its table's columns, `own`, and an outer column) and its own conditions. Refuses any other
 * reference to the outer query, and a subquery with no correlation.
 */
export function correlation(sub: AstNode, own: ReadonlySet<string>, what: string, clause: string): { pairs: Array<{ outer: AstNode; inner: AstNode }>; where: AstNode | null } {
  const inner = (r: { table: string | null }): boolean => r.table === null || own.has(r.table);
  const pairs: Array<{ outer: AstNode; inner: AstNode }> = [];
  const rest: AstNode[] = [];
  for (const k of sub.where ? conjuncts(sub.where as AstNode) : []) {
    const refs = columnsOf(k);
    if (refs.every(inner)) { rest.push(k); continue; }
    const l = columnRef(k.left as AstNode ?? {}), r = columnRef(k.right as AstNode ?? {});
    if (k.type !== 'binary_expr' || k.operator !== '=' || l === null || r === null || inner(l) === inner(r)) {
      throw unsupported(clause, `${what} correlated otherwise than by equalities between its table's columns and the outer query's`);
    }
    pairs.push(inner(l) ? { outer: k.right as AstNode, inner: k.left as AstNode } : { outer: k.left as AstNode, inner: k.right as AstNode });
  }
  if (pairs.length === 0) throw unsupported(clause, `${what} not correlated with the outer query (by an equality)`);
  return { pairs, where: andAll(rest) };
}

function isExists(n: AstNode | undefined): boolean {
  return isFunction(n, 'EXISTS');
}

function isFunction(n: AstNode | undefined, name: string): n is AstNode {
  if (n?.type !== 'function') return false;
  const parts = (n.name as AstNode | undefined)?.name as AstNode[] | undefined;
  return parts?.length === 1 && String(parts[0].value).toUpperCase() === name;
}

function existsArg(n: AstNode): AstNode | undefined {
  const items = ((n.args as AstNode | undefined)?.value ?? []) as AstNode[];
  return items.length === 1 ? (items[0].ast as AstNode | undefined) : undefined;
}

/** The subquery's own table names, checking that it is one table with nothing that changes its rows. */
export function ownNames(sub: AstNode, what: string): Set<string> {
  const sf = sub.from as AstNode[] | null;
  const limit = sub.limit as AstNode | null | undefined;
  const limited = !!limit && Array.isArray(limit.value) && (limit.value as unknown[]).length > 0;
  if (sub.type !== 'select' || sub._next || !Array.isArray(sf) || sf.length !== 1 || sf[0].join || sf[0].expr
    || sub.groupby || sub.having || limited || sub.orderby || sub.with) {
    throw unsupported('WHERE', `${what} other than one column of one table with constant conditions`);
  }
  return new Set([sf[0].table, sf[0].as].filter((x): x is string => typeof x === 'string'));
}

function hasAggregate(n: unknown): boolean {
  if (n === null || typeof n !== 'object') return false;
  if ((n as AstNode).type === 'aggr_func') return true;
  return Object.values(n as AstNode).some(hasAggregate);
}
