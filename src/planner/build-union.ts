/**
 * UNION plan → dataflow nodes. Each branch becomes
 *
 *   base(table) → [σ constant WHERE] → π[visible…, branch params…] → δ or counted[branch params]
 *
 * (δ under UNION or a DISTINCT branch, counted rows under UNION ALL), the stateful node upqueries
 * fill per branch key; the branches meet in one ∪ keyed by every parameter, and the reader below
 * it sorts and limits the union's rows.
 */
import type { Graph } from '../dataflow/graph.js';
import type { Operator } from '../dataflow/operator.js';
import { Distinct } from '../operators/distinct.js';
import { Filter } from '../operators/filter.js';
import { Project } from '../operators/project.js';
import { Reader } from '../operators/reader.js';
import { Union } from '../operators/union.js';
import type { BuiltCache } from './build.js';
import { baseTableOf, extremumOrderOf } from './build-parts.js';
import { keyFoldOf } from './schema.js';
import type { UnionPlan } from './query-plan.js';

export function buildUnion(graph: Graph, plan: UnionPlan, cacheId: string): BuiltCache {
  const cols = plan.schema.columns;
  const nodes: Operator[] = [];
  const add = <T extends Operator>(op: T): T => { const n = graph.add(op); nodes.push(n); return n; };
  const tops = plan.branches.map((b) => {
    let top: Operator = add(baseTableOf(plan.schema));
    if (b.where !== null) top = add(new Filter(top, b.where));
    const picks = [...b.select.map((s) => s.stage), ...b.params.map((p) => p.column)];
    top = add(new Project(top, picks));
    const key = b.params.map((_, i) => b.select.length + i);
    return add(new Distinct(top, {
      key, fold: b.params.map((p) => keyFoldOf(cols[p.column])), rowFold: picks.map((c) => keyFoldOf(cols[c])), multiset: plan.all && !b.distinct,
    }));
  });
  const first = plan.branches[0];
  const visible = first.select.length;
  const paramFold = plan.params.map((p) => keyFoldOf(cols[p.column]));
  const union = add(new Union(tops, {
    all: plan.all, visible, fold: paramFold,
    branches: plan.branches.map((b, i) => ({ key: b.params.map((_, j) => visible + j), params: plan.branchParams[i] })),
    paramNames: plan.params.map((p) => cols[p.column].name),
    rowFold: first.select.map((s) => keyFoldOf(cols[s.stage])),
  }));
  const reader = new Reader(union, {
    key: plan.params.map((_, i) => visible + i), fold: paramFold, visible,
    orderBy: plan.orderBy.map((o) => ({ column: o.column, desc: o.desc, order: extremumOrderOf(cols[first.select[o.column].stage]) })),
    limit: plan.limit, distinct: !plan.all, rowFold: first.select.map((s) => keyFoldOf(cols[s.stage])),
  }, cacheId);
  graph.add(reader);
  graph.retain(reader);
  nodes.push(reader);
  return { nodes, reader, paramFold, limitNode: null };
}
