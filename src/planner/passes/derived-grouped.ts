/**
 * Part of the derived-merge pass: a derived table alone that groups, `SELECT … FROM (SELECT g, …,
 * COUNT(*) AS n FROM t [WHERE …] GROUP BY g, …) AS d WHERE g = ? [AND n > 5] [ORDER BY …]`,
 * merged into `SELECT … FROM t WHERE … AND g = ? GROUP BY g, … [HAVING COUNT(*) > 5]` — what
 * MariaDB's condition pushdown into a derived table does, and what a view that aggregates is
 * when read alone ([note: view-expansion]).
 *
 * Exact because a condition on the GROUP BY columns holds for every row of a group or for none:
 * the planner compares a column only under its own collation and type, under which the rows of
 * one group are equal, so filtering the rows before grouping removes whole groups and keeps the
 * others whole. Conditions on aggregates filter groups after grouping: HAVING. The outer query may
 * only select, filter, order and limit the derived table's columns (no aggregates, GROUP BY,
 * HAVING or DISTINCT of its own); the inner one selects GROUP BY columns and named aggregates,
 * with no HAVING, DISTINCT, ORDER BY or LIMIT. Without GROUP BY (one row, whatever the table
 * holds) only an outer query without WHERE merges. Anything else is left for the planner, which
 * refuses a derived table alone.
 *
 * [note: derived-merge] Literal and parameter nodes are kept as they are.
 */
import { columnRef, type AstNode } from '../parse.js';
import { unsupported } from '../unsupported.js';
import { andAll, conjuncts } from '../join.js';
import { mapColumnRefs } from './map-refs.js';

interface Column {
  readonly expr: AstNode;
  readonly aggregate: boolean;
  /** The name the derived table gives it. */
  readonly name: string;
}

/** `ast` merged with its one grouped derived table `d`, or `ast` itself when the shapes do not fit. */
export function mergeGrouped(ast: AstNode, d: AstNode, inner: AstNode): AstNode {
  const columns = groupedColumns(inner);
  if (columns === null || ast.groupby || ast.having || ast.distinct) return ast;
  if ((ast.columns as AstNode[]).some((c) => hasAggregate(c.expr))) return ast;
  const alias = typeof d.as === 'string' ? d.as : null;
  if (alias === null) throw unsupported('FROM', 'a derived table without an alias');
  const grouped = Array.isArray((inner.groupby as AstNode | null)?.columns);
  if (!grouped && ast.where) return ast;
  const named = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const outerAliases = new Set((ast.columns as AstNode[]).map((c) => c.as).filter((a): a is string => typeof a === 'string').map((a) => a.toLowerCase()));
  let aggregates = false;

  const map = (node: unknown, clause: string, aliasOk = false): unknown => mapColumnRefs(node, clause, (n) => {
    const ref = columnRef(n) as { table: string | null; column: string };
    if (ref.table !== null && ref.table.toLowerCase() !== alias.toLowerCase()) throw unsupported(clause, `${ref.table}.${ref.column}: the only table here is ${alias}`);
    const c = named.get(ref.column.toLowerCase());
    if (c !== undefined) {
      aggregates ||= c.aggregate;
      return c.expr;
    }
    if (aliasOk && ref.table === null && outerAliases.has(ref.column.toLowerCase())) return n;
    throw unsupported(clause, `${ref.column} is not a column of the derived table ${alias}`);
  });

  const select = (ast.columns as AstNode[]).flatMap((c): AstNode[] => {
    const ref = columnRef(c.expr as AstNode);
    if (ref !== null && ref.column === '*') {
      if (ref.table !== null && ref.table.toLowerCase() !== alias.toLowerCase()) throw unsupported('SELECT', `${ref.table}.*: the only table here is ${alias}`);
      return columns.map((col) => ({ expr: col.expr, as: col.name }));
    }
    const as = typeof c.as === 'string' ? c.as : ref !== null ? ref.column : c.as;
    return [{ ...c, expr: map(c.expr, 'SELECT') as AstNode, as }];
  });
  // Conditions on GROUP BY columns filter rows; conditions on aggregates filter groups.
  const rows: AstNode[] = [];
  const groups: AstNode[] = [];
  for (const k of ast.where ? conjuncts(ast.where as AstNode) : []) {
    aggregates = false;
    const mapped = map(k, 'WHERE') as AstNode;
    (aggregates ? groups : rows).push(mapped);
  }
  return {
    ...ast,
    columns: select,
    from: (inner.from as AstNode[]).map((f) => ({ ...f })),
    where: andAll([...(inner.where ? [inner.where as AstNode] : []), ...rows]),
    groupby: inner.groupby ?? null,
    having: andAll(groups),
    orderby: Array.isArray(ast.orderby) ? (ast.orderby as AstNode[]).map((o) => ({ ...o, expr: map(o.expr, 'ORDER BY', true) })) : ast.orderby,
  };
}

/** The derived table's columns when it is GROUP BY columns and named aggregates over tables; else null. */
function groupedColumns(inner: AstNode): Column[] | null {
  const from = inner.from as AstNode[] | null;
  if (inner.type !== 'select' || inner._next || inner.with || inner.distinct || inner.having || inner.orderby || inner.locking_read) return null;
  const limit = inner.limit as AstNode | null | undefined;
  if (limit && Array.isArray(limit.value) && (limit.value as unknown[]).length > 0) return null;
  if (!Array.isArray(from) || from.length === 0 || from[0].join || from.some((f) => f.expr || typeof f.table !== 'string')) return null;
  const groupBy = ((inner.groupby as AstNode | null)?.columns ?? []) as AstNode[];
  const groupRefs = groupBy.map((g) => columnRef(g));
  if (groupRefs.some((r) => r === null)) return null;
  const items = inner.columns as AstNode[];
  if (!Array.isArray(items) || !items.some((it) => hasAggregate(it.expr)) && groupBy.length === 0) return null;
  const out: Column[] = [];
  for (const it of items) {
    const expr = it.expr as AstNode;
    const ref = columnRef(expr);
    if (ref !== null) {
      // A selected column must be one of the GROUP BY columns (its value is the group's).
      if (ref.column === '*' || !groupRefs.some((g) => g !== null && g.column.toLowerCase() === ref.column.toLowerCase() && (g.table === null || ref.table === null || g.table === ref.table))) return null;
      out.push({ expr, aggregate: false, name: typeof it.as === 'string' ? it.as : ref.column });
    } else if (expr.type === 'aggr_func' && typeof it.as === 'string') {
      out.push({ expr, aggregate: true, name: it.as });
    } else return null;
  }
  if (new Set(out.map((c) => c.name.toLowerCase())).size !== out.length) return null;
  return out;
}

function hasAggregate(n: unknown): boolean {
  if (n === null || typeof n !== 'object') return false;
  if ((n as AstNode).type === 'aggr_func') return true;
  return Object.values(n as AstNode).some(hasAggregate);
}
