/**
 * A SELECT's plan (kind `select` or `join`) → dataflow nodes. The shape is always
 *
 *   source → [σ constant WHERE] → [γ aggregates → [σ HAVING]] → π[visible…, params…, order…]
 *     → [δ DISTINCT] → [top-k ORDER BY … LIMIT] → reader
 *
 * where the source is the table's base node (a `select`), or the nodes build-join.ts makes of a
 * `join`'s FROM clause. Every node but the reader is added through the graph, which shares nodes
 * with equal signatures between caches (two caches over one table share its base node; equal
 * aggregates share γ and its state). The aggregate is keyed by the parameters, so a reader missing
 * a key fills from it.
 */
import type { Graph } from '../dataflow/graph.js';
import type { Operator } from '../dataflow/operator.js';
import type { KeyFold } from '../dataflow/state.js';
import { Filter } from '../operators/filter.js';
import { Project } from '../operators/project.js';
import { Aggregate } from '../operators/grouped.js';
import { Reader, type SortKey } from '../operators/reader.js';
import type { RangeReader } from '../operators/range-reader.js';
import { Distinct } from '../operators/distinct.js';
import { TopK } from '../operators/top-k.js';
import { slackFor } from './limit.js';
import { keyFoldOf, type ColumnInfo } from './schema.js';
import { ruleInfo } from './plan.js';
import type { QueryPlan } from './query-plan.js';
import { baseTableOf, orderOf, ruleOf, DEFAULT_BUILD, type BuildOptions } from './build-parts.js';
import { buildJoin, type Add } from './build-join.js';
import { buildRange } from './build-range.js';

export interface BuiltCache {
  /** Every node the cache holds a reference to, top-down (the reader last). */
  readonly nodes: ReadonlyArray<Operator>;
  readonly reader: Reader;
  /** How each parameter's values fold as keys. */
  readonly paramFold: ReadonlyArray<KeyFold>;
  /** `LIMIT ?`: the top-k whose K grows with the bounds read ([note: limit-param]), else null. */
  readonly limitNode: TopK | null;
  /** A range cache: its reader, which answers by intervals ([note: range-state]); absent otherwise. */
  readonly range?: RangeReader;
}

/** The K a `LIMIT ?` cache starts with: a read asking for more rows grows it. [note: limit-param] */
export const FIRST_LIMIT_K = 1;

/** The node a SELECT's rows come from: its table's base node, or the last join of its FROM clause. */
function sourceOf(add: Add, plan: QueryPlan, opts: BuildOptions): Operator {
  switch (plan.kind) {
    case 'select': return add(baseTableOf(plan.schema));
    case 'join': return buildJoin(add, plan.join, opts);
  }
}

/** The node a SELECT's stage rows come from, and the column info behind each stage column. */
export interface Stages {
  readonly top: Operator;
  /** The column info behind each stage column (an aggregate's: its result's type). */
  readonly info: (stage: number) => ColumnInfo | null;
  /** The stage column holding parameter `i`. */
  readonly param: (i: number) => number;
}

/** Adds the nodes up to the stage rows: source → [σ WHERE] → [γ → [σ HAVING]]. */
export function buildStages(add: Add, plan: QueryPlan, opts: BuildOptions): Stages {
  const cols = plan.schema.columns;
  let top = sourceOf(add, plan, opts);
  if (plan.where !== null) top = add(new Filter(top, plan.where));
  if (plan.aggregate === null) return { top, info: (s) => cols[s], param: (i) => plan.params[i].column };
  const agg = plan.aggregate;
  const groupBy = [...plan.params.map((p) => p.column), ...agg.groupBy];
  top = add(new Aggregate(top, {
    groupBy, keyCount: plan.params.length, scalar: agg.scalar,
    rules: agg.rules.map((r) => ruleOf(r, cols, opts)),
    fold: groupBy.map((c) => keyFoldOf(cols[c])),
  }));
  const nGroup = groupBy.length;
  if (plan.having !== null) top = add(new Filter(top, plan.having));
  // An aggregate orders as its result's type (MIN/MAX as their argument's). [note: typed-order]
  return { top, info: (s) => (s < nGroup ? cols[groupBy[s]] : ruleInfo(agg.rules[s - nGroup], cols)), param: (i) => i };
}

/** Adds the cache's nodes to the graph (sharing what already exists) and returns them. */
export function buildCache(graph: Graph, plan: QueryPlan, cacheId: string, opts: BuildOptions = DEFAULT_BUILD): BuiltCache {
  const cols = plan.schema.columns;
  const nodes: Operator[] = [];
  const add = <T extends Operator>(op: T): T => { const n = graph.add(op); nodes.push(n); return n; };
  if (plan.range !== null) {
    // [note: range-state] A range cache: its ordered state is the reader (no aggregate, no top-k).
    let source = sourceOf(add, plan, opts);
    if (plan.where !== null) source = add(new Filter(source, plan.where));
    const range = buildRange(graph, plan, plan.range, cacheId, source, add);
    nodes.push(range);
    return { nodes, reader: range, paramFold: range.fold, limitNode: null, range };
  }
  const stages = buildStages(add, plan, opts);
  let top = stages.top;
  const stageInfo = stages.info;
  const paramFold = plan.params.map((p) => keyFoldOf(cols[p.column]));
  // π: visible columns, then the parameter columns (reader key), then ORDER BY columns not shown.
  const picks = plan.select.map((s) => s.stage);
  const visible = picks.length;
  const key = plan.params.map((_, i) => { picks.push(stages.param(i)); return picks.length - 1; });
  const orderBy: SortKey[] = plan.orderBy.map((o) => {
    let at = picks.indexOf(o.stage);
    if (at < 0 || at >= visible) { picks.push(o.stage); at = picks.length - 1; }
    return { column: at, desc: o.desc, order: orderOf(stageInfo(o.stage)) };
  });
  top = add(new Project(top, picks));
  const rowFold = plan.distinct ? picks.map((s) => { const c = stageInfo(s); return c === null ? 'exact' as const : keyFoldOf(c); }) : null;
  if (rowFold !== null) top = add(new Distinct(top, { key, fold: paramFold, rowFold, multiset: false }));
  if (plan.limit !== null) {
    const need = plan.limit.offset + plan.limit.count;
    top = add(new TopK(top, { key, fold: paramFold, orderBy, need, keep: need + slackFor(plan.limit) }));
  }
  let limitNode: TopK | null = null;
  if (plan.limitParam !== null) {
    const need = FIRST_LIMIT_K;
    top = limitNode = add(new TopK(top, { key, fold: paramFold, orderBy, need, keep: need + slackFor({ offset: 0, count: need }), growable: cacheId }));
  }
  const reader = new Reader(top, { key, fold: paramFold, visible, orderBy, limit: plan.limit, distinct: plan.distinct, ...(rowFold === null ? {} : { rowFold: rowFold.slice(0, visible) }) }, cacheId);
  graph.add(reader);
  graph.retain(reader);
  nodes.push(reader);
  return { nodes, reader, paramFold, limitNode };
}

/** Releases a cache's nodes (shared ones stay while another cache uses them). */
export function releaseCache(graph: Graph, built: BuiltCache): void {
  graph.release(built.reader);
}
