/**
 * Rewrite pass: a SELECT whose FROM is a derived table alone, `SELECT … FROM (SELECT a, b AS c
 * FROM t [WHERE …]) AS d WHERE …`, merged into one SELECT over `t` (MariaDB's derived_merge; a
 * derived table over a join, as a view over a join is, merges into the same join): the
 * inner conditions ANDed before the outer ones, each outer reference to a derived column replaced
 * by the inner column it names, result columns keeping the derived table's names. Only a derived
 * table that is a projection of tables with conditions merges (no GROUP BY, aggregate,
 * DISTINCT, ORDER BY, LIMIT or UNION inside: those change which rows there are); one that groups
 * merges with the outer conditions pushed below its GROUP BY (derived-grouped.ts); anything else
 * is left for the planner, which refuses a derived table alone. With the CTE pass before it,
 * `WITH t AS (SELECT …) SELECT … FROM t WHERE k = ?` merges the same way.
 *
 * [note: derived-merge] Literal and parameter nodes are kept as they are (the planner lines the
 * statement's literals up with the fingerprint's by node, walking the statement as written: the
 * inner SELECT's before the outer WHERE's, as the text has them).
 */
import { columnRef, type AstNode } from '../parse.js';
import { unsupported } from '../unsupported.js';
import { mergeGrouped } from './derived-grouped.js';
import { mapColumnRefs } from './map-refs.js';

/**
 * Returns `ast` itself when nothing merges. Derived tables inside merge first (a view over a view
 * is a derived table of a derived table), in FROM and in `IN (SELECT …)` subqueries alike.
 */
export function mergeDerived(ast: AstNode): AstNode {
  return mergeTop(mergeInside(ast));
}

/** `ast` with the derived tables of its FROM clauses and subqueries merged where they can. */
function mergeInside(ast: AstNode): AstNode {
  let out: Record<string, unknown> | null = null;
  const from = ast.from as AstNode[] | null;
  if (Array.isArray(from)) {
    const mapped = from.map((f) => {
      const sub = (f.expr as AstNode | undefined)?.ast as AstNode | undefined;
      if (sub === undefined || sub.type !== 'select') return f;
      const merged = mergeDerived(sub);
      return merged === sub ? f : { ...f, expr: { ...(f.expr as AstNode), ast: merged } };
    });
    if (mapped.some((x, i) => x !== from[i])) (out ??= { ...ast }).from = mapped;
  }
  if (ast.where !== null && ast.where !== undefined) {
    const where = mergeSubqueries(ast.where);
    if (where !== ast.where) (out ??= { ...ast }).where = where;
  }
  return (out ?? ast) as AstNode;
}

function mergeSubqueries(node: unknown): unknown {
  if (Array.isArray(node)) {
    const mapped = node.map(mergeSubqueries);
    return mapped.some((x, i) => x !== node[i]) ? mapped : node;
  }
  if (node === null || typeof node !== 'object') return node;
  const n = node as AstNode;
  if (n.type === 'select') return mergeDerived(n);
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(n)) {
    const w = mergeSubqueries(v);
    if (w !== v) (out ??= { ...n })[k] = w;
  }
  return out ?? n;
}

/** Returns `ast` itself when its FROM is not one mergeable derived table. */
function mergeTop(ast: AstNode): AstNode {
  const from = ast.from as AstNode[] | null;
  if (ast.type !== 'select' || ast._next || !Array.isArray(from) || from.length !== 1 || !from[0].expr || from[0].join) return ast;
  const d = from[0];
  const inner = (d.expr as AstNode).ast as AstNode | undefined;
  if (inner === undefined) return ast;
  if (!mergeable(inner)) return mergeGrouped(ast, d, inner);
  const alias = typeof d.as === 'string' ? d.as : null;
  if (alias === null) throw unsupported('FROM', 'a derived table without an alias');
  const items = inner.columns as AstNode[];
  const star = items.length === 1 && columnRef(items[0].expr as AstNode)?.column === '*';
  // Derived column name → the inner column it is.
  const named = new Map<string, AstNode>();
  if (!star) {
    for (const it of items) {
      const ref = columnRef(it.expr as AstNode) as { column: string };
      const name = (typeof it.as === 'string' ? it.as : ref.column).toLowerCase();
      if (named.has(name)) throw unsupported('FROM', `a derived table with two columns named ${name}`);
      named.set(name, it.expr as AstNode);
    }
  }
  const outerAliases = new Set((ast.columns as AstNode[]).map((c) => c.as).filter((a): a is string => typeof a === 'string').map((a) => a.toLowerCase()));
  const innerFrom = inner.from as AstNode[];
  const innerTable = innerFrom[0];
  const innerName = typeof innerTable.as === 'string' ? innerTable.as : (innerTable.table as string);

  /** An outer column reference as the inner column it names (a select alias of the outer query stays). */
  const mapRef = (node: AstNode, clause: string, aliasOk: boolean): AstNode => {
    const ref = columnRef(node) as { table: string | null; column: string };
    if (ref.table !== null && ref.table.toLowerCase() !== alias.toLowerCase()) throw unsupported(clause, `${ref.table}.${ref.column}: the only table here is ${alias}`);
    if (ref.column === '*') return star ? { ...node, table: ref.table === null ? null : innerName } : node;
    if (star) return { ...node, table: ref.table === null ? null : innerName };
    const to = named.get(ref.column.toLowerCase());
    if (to !== undefined) return to;
    if (aliasOk && ref.table === null && outerAliases.has(ref.column.toLowerCase())) return node;
    throw unsupported(clause, `${ref.column} is not a column of the derived table ${alias}`);
  };
  const map = (node: unknown, clause: string, aliasOk = false): unknown => mapColumnRefs(node, clause, (n) => mapRef(n, clause, aliasOk));

  const columns = (ast.columns as AstNode[]).flatMap((c): AstNode[] => {
    const expr = c.expr as AstNode;
    const ref = columnRef(expr);
    // `*` of a derived table that lists its columns: those columns, under their derived names.
    if (ref !== null && ref.column === '*' && !star) {
      if (ref.table !== null && ref.table.toLowerCase() !== alias.toLowerCase()) throw unsupported('SELECT', `${ref.table}.*: the only table here is ${alias}`);
      return items.map((it) => ({ ...it, as: typeof it.as === 'string' ? it.as : (columnRef(it.expr as AstNode) as { column: string }).column }));
    }
    const mapped = map(expr, 'SELECT') as AstNode;
    // A derived column keeps the derived table's name for it (`SELECT c` of `b AS c` is `b AS c`).
    const as = typeof c.as === 'string' ? c.as : ref !== null && ref.column !== '*' && !star ? ref.column : c.as;
    return [mapped === expr && as === c.as ? c : { ...c, expr: mapped, as }];
  });
  const outerWhere = ast.where === null || ast.where === undefined ? null : map(ast.where, 'WHERE') as AstNode;
  const innerWhere = (inner.where ?? null) as AstNode | null;
  const where = innerWhere === null ? outerWhere : outerWhere === null ? innerWhere
    : { type: 'binary_expr', operator: 'AND', left: innerWhere, right: outerWhere };
  const groupby = ast.groupby ? { ...(ast.groupby as AstNode), columns: map((ast.groupby as AstNode).columns, 'GROUP BY', true) } : ast.groupby;
  return {
    ...ast,
    columns,
    from: innerFrom.map((f) => ({ ...f })),
    where,
    groupby,
    having: ast.having ? map(ast.having, 'HAVING', true) : ast.having,
    orderby: Array.isArray(ast.orderby) ? (ast.orderby as AstNode[]).map((o) => ({ ...o, expr: map(o.expr, 'ORDER BY', true) })) : ast.orderby,
  };
}

/**
 * A projection of one table's columns, or of a join of tables (a view over a join), with
 * conditions: nothing that changes which rows there are. `*` only over one table.
 */
function mergeable(inner: AstNode): boolean {
  const from = inner.from as AstNode[] | null;
  if (inner.type !== 'select' || inner._next || inner.with || inner.distinct || inner.groupby || inner.having || inner.orderby || inner.locking_read) return false;
  const limit = inner.limit as AstNode | null | undefined;
  if (limit && Array.isArray(limit.value) && (limit.value as unknown[]).length > 0) return false;
  if (!Array.isArray(from) || from.length === 0 || from[0].join || from.some((f) => f.expr || typeof f.table !== 'string')) return false;
  const items = inner.columns as AstNode[];
  if (!Array.isArray(items) || items.length === 0) return false;
  const refs = items.map((it) => columnRef(it.expr as AstNode));
  if (refs.some((r) => r === null)) return false;
  return refs.every((r) => r?.column !== '*') || (items.length === 1 && from.length === 1);
}
