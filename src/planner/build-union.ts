/**
 * UNION plan → dataflow nodes. Each branch becomes
 *
 *   base(table) → [σ constant WHERE] → π[visible…, branch params…] → δ or counted[branch params]
 *
 * (δ under UNION or a DISTINCT branch, counted rows under UNION ALL; under an OR across columns
 * the branch rows carry the primary key after the visible columns), the stateful node upqueries
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
import { baseTableOf, extremumOrderOf, orderOf } from './build-parts.js';
import { keyFoldOf } from './schema.js';
import type { UnionPlan } from './query-plan.js';

export function buildUnion(graph: Graph, plan: UnionPlan, cacheId: string): BuiltCache {
  const cols = plan.schema.columns;
  const nodes: Operator[] = [];
  const add = <T extends Operator>(op: T): T => { const n = graph.add(op); nodes.push(n); return n; };
  // [note: or-union] Each branch row carries the columns that tell rows apart beside the shown ones.
  const identity = plan.identity ?? [];
  const tops = plan.branches.map((b) => {
    let top: Operator = add(baseTableOf(plan.schema));
    if (b.where !== null) top = add(new Filter(top, b.where));
    const picks = [...b.select.map((s) => s.stage), ...identity, ...b.params.map((p) => p.column)];
    top = add(new Project(top, picks));
    const key = b.params.map((_, i) => b.select.length + identity.length + i);
    return add(new Distinct(top, {
      key, fold: b.params.map((p) => keyFoldOf(cols[p.column])), rowFold: picks.map((c) => keyFoldOf(cols[c])), multiset: plan.all && !b.distinct,
    }));
  });
  const first = plan.branches[0];
  const shown = first.select.length;
  const stages = [...first.select.map((s) => s.stage), ...identity];
  const visible = stages.length;
  const paramFold = plan.params.map((p) => keyFoldOf(cols[p.column]));
  const union = add(new Union(tops, {
    all: plan.all, visible, fold: paramFold,
    branches: plan.branches.map((b, i) => ({ key: b.params.map((_, j) => visible + j), params: plan.branchParams[i] })),
    paramNames: plan.params.map((p) => cols[p.column].name),
    rowFold: stages.map((s) => keyFoldOf(cols[s])),
  }));
  // A UNION's result holds ENUM and SET values as strings; an OR's rows are the table's own.
  const order = plan.identity === null ? extremumOrderOf : orderOf;
  const reader = new Reader(union, {
    key: plan.params.map((_, i) => visible + i), fold: paramFold, visible: shown,
    orderBy: plan.orderBy.map((o) => ({ column: o.column, desc: o.desc, order: order(cols[stages[o.column]]) })),
    limit: plan.limit, distinct: !plan.all && plan.identity === null, rowFold: first.select.map((s) => keyFoldOf(cols[s.stage])),
  }, cacheId);
  graph.add(reader);
  graph.retain(reader);
  nodes.push(reader);
  return { nodes, reader, paramFold, limitNode: null };
}
