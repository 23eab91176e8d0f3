/**
 * The plan of a UNION / UNION ALL of single-table SELECTs over one table, each branch planned as a
 * query of its own (plan.ts) with its own `col = ?` parameters. The parameters are numbered in
 * textual order across the branches; the cache is keyed by all of them. A trailing ORDER BY /
 * LIMIT orders the union's result by its columns (named as the first branch names them, or by
 * position); with a LIMIT the order is made total by appending every column.
 *
 * Refused, with the reason: identical branches, branches with aggregates, ORDER BY / LIMIT inside a branch, branches
 * whose columns differ in type (MariaDB would convert the values), branches reading other tables,
 * UNION mixed with UNION ALL, and `IN (?, …)` under UNION ALL (the answer of several keys would
 * repeat the rows of the other branches).
 */
import { columnRef, type AstNode } from './parse.js';
import { planSelect, tableOf } from './plan.js';
import type { ParamSpec, SelectPlan, SlotSpec, UnionPlan } from './query-plan.js';
import { limitOf } from './limit.js';
import { unsupported } from './unsupported.js';
import type { TableSchema } from './schema.js';

/** JSON for values that may hold bigints (literals beyond 2^53). */
function bigintText(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}

/** Plans a parsed UNION (a statement with `_next`): its branches read `schema`. */
export function planUnion(ast: AstNode, schema: TableSchema, unqualified: boolean): UnionPlan {
  const nodes: AstNode[] = [];
  for (let n: AstNode | undefined = ast; n; n = n._next as AstNode | undefined) nodes.push(n);
  const ops = new Set(nodes.slice(0, -1).map((n) => String(n.set_op ?? '').toLowerCase()));
  if ([...ops].some((o) => o !== 'union' && o !== 'union all')) throw unsupported('UNION', `${[...ops].join(', ').toUpperCase()} (only UNION and UNION ALL)`);
  if (ops.size > 1) throw unsupported('UNION', 'UNION mixed with UNION ALL');
  const all = ops.has('union all');

  // A trailing ORDER BY / LIMIT belongs to the union: the parser puts it on the last branch when
  // that branch has no parentheses, on the first node (`_orderby`, `_limit`) when it has.
  const last = nodes[nodes.length - 1];
  const trailing = ast._orderby || ast._limit ? { orderby: ast._orderby, limit: ast._limit } : last.parentheses_symbol ? { orderby: null, limit: null } : { orderby: last.orderby, limit: last.limit };
  const first = tableOf(ast);
  const branches: SelectPlan[] = [];
  const branchParams: number[][] = [];
  const params: ParamSpec[] = [];
  const slots: SlotSpec[] = [];
  for (const n of nodes) {
    const own = n === last && !last.parentheses_symbol ? { ...n, orderby: null, limit: null } : n;
    const t = tableOf(own);
    if (t.table !== first.table || t.db !== first.db) throw unsupported('UNION', 'branches reading different tables (one table per UNION for now)');
    if ((Array.isArray(own.orderby) && own.orderby.length > 0) || (Array.isArray((own.limit as AstNode | null)?.value) && ((own.limit as AstNode).value as unknown[]).length > 0)) {
      throw unsupported('UNION', 'ORDER BY or LIMIT inside a branch');
    }
    const p = planSelect({ ...own, _next: undefined, set_op: undefined }, schema, unqualified);
    if (p.aggregate !== null) throw unsupported('UNION', 'a branch with aggregates');
    if (p.range !== null) throw unsupported('UNION', 'range parameters in a branch');
    if (all && p.params.some((x) => x.multi)) throw unsupported('UNION ALL', '`IN (?, …)` in a branch (the answer of several keys would repeat the other branches\' rows)');
    const offset = params.length;
    for (const s of p.slots) slots.push(s.kind === 'param' || s.kind === 'list-param' ? { kind: s.kind, param: s.param + offset } : s);
    branchParams.push(p.params.map((_, i) => offset + i));
    params.push(...p.params);
    branches.push(p);
  }
  // Identical branches would be one shared node, reached twice: MariaDB's answer is the branch's
  // rows twice (UNION ALL) or once (UNION); neither is worth a cache.
  const shapes = branches.map((b) => JSON.stringify([b.where, b.select.map((s) => s.stage), b.params.map((x) => x.column), b.distinct], bigintText));
  if (new Set(shapes).size !== shapes.length) throw unsupported('UNION', 'two identical branches');
  const width = branches[0].select.length;
  for (const b of branches) {
    if (b.select.length !== width) throw unsupported('UNION', 'branches with different numbers of columns');
    b.select.forEach((s, i) => {
      const a = schema.columns[branches[0].select[i].stage], c = schema.columns[s.stage];
      if (a.dataType !== c.dataType || a.scale !== c.scale || a.collation !== c.collation) throw unsupported('UNION', `columns of different types at position ${i + 1} (${a.name}, ${c.name})`);
    });
  }

  const names = branches[0].select.map((s) => s.name.toLowerCase());
  const orderBy = ((trailing.orderby ?? []) as AstNode[]).map((o) => {
    const e = o.expr as AstNode;
    const ref = columnRef(e);
    let column = -1;
    if (ref !== null && ref.table === null) column = names.indexOf(ref.column.toLowerCase());
    else if (e.type === 'number' && typeof e.value === 'number') {
      column = e.value - 1;
      slots.push({ kind: 'const' });
    }
    if (column < 0 || column >= width) throw unsupported('ORDER BY', 'ordering a UNION by something other than one of its columns');
    return { column, desc: o.type === 'DESC' };
  });
  const limit = limitOf({ limit: trailing.limit }, orderBy.length > 0);
  if (limit !== null) {
    for (let i = 0; i < ((trailing.limit as AstNode).value as unknown[]).length; i++) slots.push({ kind: 'const' });
    // [note: total-order]
    for (let column = 0; column < width; column++) if (!orderBy.some((o) => o.column === column)) orderBy.push({ column, desc: false });
  }
  return { kind: 'union', schema, unqualified, params, slots, all, branches, branchParams, orderBy, limit };
}
