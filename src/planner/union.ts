/**
 * The plan of a UNION / UNION ALL of SELECTs, each branch planned as a query of its own (plan.ts,
 * or join.ts for a branch over a join; with aggregates or not) with its own `col = ?` parameters.
 * The parameters are numbered in textual order across the branches; the cache is keyed by all of
 * them. Branches may read different tables, and may be identical but for their parameters
 * ([note: union-branches]). A trailing ORDER BY / LIMIT orders the union's result by its columns
 * (named as the first branch names them, or by position); with a LIMIT the order is made total by
 * appending every column.
 *
 * Refused, with the reason: ORDER BY / LIMIT inside a branch, GROUP_CONCAT in a branch, branches
 * whose columns differ in type (MariaDB would convert the values), UNION mixed with UNION ALL,
 * and `IN (?, …)` under UNION ALL (the answer of several keys would repeat the rows of the other
 * branches).
 */
import { columnRef, type AstNode } from './parse.js';
import { planSelect, ruleInfo, tableOf } from './plan.js';
import { isJoin, joinTables, planJoin } from './join.js';
import type { ParamSpec, QueryPlan, SlotSpec, UnionPlan } from './query-plan.js';
import { limitOf } from './limit.js';
import { unsupported } from './unsupported.js';
import type { ColumnInfo, TableSchema } from './schema.js';

/** The column info behind a stage column of a planned SELECT (an aggregate's: its result's type). */
export function stageInfo(plan: QueryPlan, stage: number): ColumnInfo {
  const cols = plan.schema.columns;
  const agg = plan.aggregate;
  if (agg === null) return cols[stage];
  const groupBy = [...plan.params.map((p) => p.column), ...agg.groupBy];
  return stage < groupBy.length ? cols[groupBy[stage]] : ruleInfo(agg.rules[stage - groupBy.length], cols);
}

/** The SELECTs of a parsed UNION (a statement with `_next`), in order. */
export function unionBranches(ast: AstNode): AstNode[] {
  const nodes: AstNode[] = [];
  for (let n: AstNode | undefined = ast; n; n = n._next as AstNode | undefined) nodes.push(n);
  return nodes;
}

/** The tables a UNION reads: each branch's, in order (a join's in its FROM order). */
export function unionTables(ast: AstNode): Array<{ db: string | null; table: string }> {
  return unionBranches(ast).flatMap((n) => (isJoin(n) ? joinTables(n) : [tableOf(n)]));
}

/**
 * Plans a parsed UNION (a statement with `_next`); `schemas` are the tables of
 * {@link unionTables}, in that order.
 */
export function planUnion(ast: AstNode, schemas: ReadonlyArray<TableSchema>, unqualified: boolean): UnionPlan {
  const nodes = unionBranches(ast);
  const ops = new Set(nodes.slice(0, -1).map((n) => String(n.set_op ?? '').toLowerCase()));
  if ([...ops].some((o) => o !== 'union' && o !== 'union all')) throw unsupported('UNION', `${[...ops].join(', ').toUpperCase()} (only UNION and UNION ALL)`);
  if (ops.size > 1) throw unsupported('UNION', 'UNION mixed with UNION ALL');
  const all = ops.has('union all');

  // A trailing ORDER BY / LIMIT belongs to the union: the parser puts it on the last branch when
  // that branch has no parentheses, on the first node (`_orderby`, `_limit`) when it has.
  const last = nodes[nodes.length - 1];
  const trailing = ast._orderby || ast._limit ? { orderby: ast._orderby, limit: ast._limit } : last.parentheses_symbol ? { orderby: null, limit: null } : { orderby: last.orderby, limit: last.limit };
  const branches: QueryPlan[] = [];
  const branchParams: number[][] = [];
  const params: ParamSpec[] = [];
  const slots: SlotSpec[] = [];
  let at = 0;
  for (const n of nodes) {
    const own: AstNode = { ...(n === last && !last.parentheses_symbol ? { ...n, orderby: null, limit: null } : n), _next: undefined, set_op: undefined };
    if ((Array.isArray(own.orderby) && own.orderby.length > 0) || (Array.isArray((own.limit as AstNode | null)?.value) && ((own.limit as AstNode).value as unknown[]).length > 0)) {
      throw unsupported('UNION', 'ORDER BY or LIMIT inside a branch');
    }
    const join = isJoin(own);
    const count = join ? joinTables(own).length : 1;
    const mine = schemas.slice(at, at + count);
    at += count;
    const p: QueryPlan = join ? planJoin(own, mine, unqualified) : planSelect(own, mine[0], unqualified);
    if (p.aggregate !== null && p.aggregate.rules.some((r) => r.fn === 'GROUP_CONCAT')) throw unsupported('UNION', 'GROUP_CONCAT in a branch');
    if (p.range !== null) throw unsupported('UNION', 'range parameters in a branch');
    if (all && p.params.some((x) => x.multi)) throw unsupported('UNION ALL', '`IN (?, …)` in a branch (the answer of several keys would repeat the other branches\' rows)');
    const offset = params.length;
    for (const s of p.slots) slots.push(s.kind === 'param' || s.kind === 'list-param' ? { kind: s.kind, param: s.param + offset } : s);
    branchParams.push(p.params.map((_, i) => offset + i));
    params.push(...p.params);
    branches.push(p);
  }
  // [note: union-branches] Branches over the one table keep their columns as they are; else each
  // branch's row stands beside the others' in the union's schema, and its parameters are moved by
  // its offset.
  const first = branches[0];
  const shared = branches.every((b) => b.kind === 'select' && b.schema.database === first.schema.database && b.schema.table === first.schema.table);
  const offsets: number[] = [];
  let width = 0;
  for (const b of branches) { offsets.push(shared ? 0 : width); width += b.schema.columns.length; }
  const schema: TableSchema = shared ? first.schema : {
    database: first.schema.database, table: branches.map((b) => b.schema.table).join(' ∪ '), columns: branches.flatMap((b) => b.schema.columns),
  };
  branchParams.forEach((ps, i) => ps.forEach((p) => { params[p] = { ...params[p], column: params[p].column + offsets[i] }; }));

  const shown = first.select.length;
  const infos = branches.map((b) => b.select.map((s) => stageInfo(b, s.stage)));
  branches.forEach((b, bi) => {
    if (b.select.length !== shown) throw unsupported('UNION', 'branches with different numbers of columns');
    b.select.forEach((_, i) => {
      const a = infos[0][i], c = infos[bi][i];
      if (a.dataType !== c.dataType || a.scale !== c.scale || a.collation !== c.collation) throw unsupported('UNION', `columns of different types at position ${i + 1} (${first.select[i].name}, ${b.select[i].name})`);
    });
  });

  const names = first.select.map((s) => s.name.toLowerCase());
  const orderBy = ((trailing.orderby ?? []) as AstNode[]).map((o) => {
    const e = o.expr as AstNode;
    const ref = columnRef(e);
    let column = -1;
    if (ref !== null && ref.table === null) column = names.indexOf(ref.column.toLowerCase());
    else if (e.type === 'number' && typeof e.value === 'number') {
      column = e.value - 1;
      slots.push({ kind: 'const' });
    }
    if (column < 0 || column >= shown) throw unsupported('ORDER BY', 'ordering a UNION by something other than one of its columns');
    return { column, desc: o.type === 'DESC' };
  });
  const limit = limitOf({ limit: trailing.limit }, orderBy.length > 0);
  if (limit !== null) {
    for (let i = 0; i < ((trailing.limit as AstNode).value as unknown[]).length; i++) slots.push({ kind: 'const' });
    // [note: total-order]
    for (let column = 0; column < shown; column++) if (!orderBy.some((o) => o.column === column)) orderBy.push({ column, desc: false });
  }
  return { kind: 'union', schema, unqualified, params, slots, all, branches, branchParams, offsets, orderBy, limit, identity: null };
}
