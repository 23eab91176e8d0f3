/**
 * UNION plan → dataflow nodes. Each branch becomes
 *
 *   source → [σ WHERE] → [γ → [σ HAVING]] → π[visible…, branch params…] → δ or counted[branch params]
 *
 * (the source a table's base node or a join's nodes, as build.ts makes a SELECT's stage rows)
 * (δ under UNION or a DISTINCT branch, counted rows under UNION ALL; under an OR across columns
 * the branch rows carry the primary key after the visible columns), the stateful node upqueries
 * fill per branch key; the branches meet in one ∪ keyed by every parameter, and the reader below
 * it sorts and limits the union's rows.
 */
import type { Graph } from '../dataflow/graph.js';
import type { Operator } from '../dataflow/operator.js';
import { Distinct } from '../operators/distinct.js';
import { Project } from '../operators/project.js';
import { Reader } from '../operators/reader.js';
import { Union } from '../operators/union.js';
import { buildStages, type BuiltCache } from './build.js';
import { DEFAULT_BUILD, extremumOrderOf, orderOf, type BuildOptions } from './build-parts.js';
import { keyFoldOf, type ColumnInfo } from './schema.js';
import type { UnionPlan } from './query-plan.js';
import { stageInfo } from './union.js';

export function buildUnion(graph: Graph, plan: UnionPlan, cacheId: string, opts: BuildOptions = DEFAULT_BUILD): BuiltCache {
  const nodes: Operator[] = [];
  const add = <T extends Operator>(op: T): T => { const n = graph.add(op); nodes.push(n); return n; };
  // [note: or-union] Each branch row carries the columns that tell rows apart beside the shown ones.
  const identity = plan.identity ?? [];
  const tops: Operator[] = [];
  plan.branches.forEach((b) => {
    const stages = buildStages(add, b, opts);
    const info = (s: number): ColumnInfo => stageInfo(b, s);
    const params = b.params.map((_, i) => stages.param(i));
    const picks = [...b.select.map((s) => s.stage), ...identity, ...params];
    const top = add(new Project(stages.top, picks));
    const spec = {
      key: params.map((_, i) => b.select.length + identity.length + i), fold: params.map((s) => keyFoldOf(info(s))),
      rowFold: picks.map((s) => keyFoldOf(info(s))), multiset: plan.all && !b.distinct,
    };
    // [note: union-branches] Branches identical but for their parameters are one node each.
    let node = add(new Distinct(top, spec));
    for (let copy = 1; tops.includes(node); copy++) node = add(new Distinct(top, { ...spec, copy }));
    tops.push(node);
  });
  const first = plan.branches[0];
  const firstInfo = (s: number): ColumnInfo => stageInfo(first, s);
  const shown = first.select.length;
  const stages = [...first.select.map((s) => s.stage), ...identity];
  const visible = stages.length;
  const paramFold = plan.params.map((p) => keyFoldOf(plan.schema.columns[p.column]));
  const union = add(new Union(tops, {
    all: plan.all, visible, fold: paramFold,
    branches: plan.branches.map((b, i) => ({ key: b.params.map((_, j) => visible + j), params: plan.branchParams[i] })),
    paramNames: plan.params.map((p) => plan.schema.columns[p.column].name),
    rowFold: stages.map((s) => keyFoldOf(firstInfo(s))),
  }));
  // A UNION's result holds ENUM and SET values as strings; an OR's rows are the table's own.
  const order = plan.identity === null ? extremumOrderOf : orderOf;
  const reader = new Reader(union, {
    key: plan.params.map((_, i) => visible + i), fold: paramFold, visible: shown,
    orderBy: plan.orderBy.map((o) => ({ column: o.column, desc: o.desc, order: order(firstInfo(stages[o.column])) })),
    limit: plan.limit, distinct: !plan.all && plan.identity === null, rowFold: first.select.map((s) => keyFoldOf(firstInfo(s.stage))),
  }, cacheId);
  graph.add(reader);
  graph.retain(reader);
  nodes.push(reader);
  return { nodes, reader, paramFold, limitNode: null };
}
