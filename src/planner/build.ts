/**
 * Plan → dataflow nodes. The shape is always
 *
 *   base(table) → [σ constant WHERE] → [γ aggregates → [σ HAVING]] → π[visible…, params…, order…]
 *     → [δ DISTINCT] → [top-k ORDER BY … LIMIT] → reader
 *
 * Every node but the reader is added through the graph, which shares nodes with equal signatures
 * between caches (two caches over one table share its base node; equal aggregates share γ and its
 * state). The aggregate is keyed by the parameters, so a reader missing a key fills from it.
 */
import type { Graph } from '../dataflow/graph.js';
import type { Operator } from '../dataflow/operator.js';
import type { KeyFold } from '../dataflow/state.js';
import { BaseTable } from '../operators/base-table.js';
import { Filter } from '../operators/filter.js';
import { Project } from '../operators/project.js';
import { Aggregate, type AggregateRule } from '../operators/grouped.js';
import { avg, countColumn, countDistinct, countStar, sum, type NumericKind } from '../operators/aggregate.js';
import { binaryOrder, collationOrder, max, min, textOrder, type ValueOrder } from '../operators/extremum.js';
import { decimalOrder, enumOrder, setOrder, timeOrder } from '../operators/value-order.js';
import { Reader, type SortKey } from '../operators/reader.js';
import { Distinct } from '../operators/distinct.js';
import { TopK } from '../operators/top-k.js';
import { slackFor } from './limit.js';
import { collationOf, columnClass, keyFoldOf, type ColumnInfo, type TableSchema } from './schema.js';
import { ruleInfo, type QueryPlan, type RuleSpec } from './plan.js';
import { buildJoin } from './build-join.js';

export interface BuiltCache {
  /** Every node the cache holds a reference to, top-down (the reader last). */
  readonly nodes: ReadonlyArray<Operator>;
  readonly reader: Reader;
  /** How each parameter's values fold as keys. */
  readonly paramFold: ReadonlyArray<KeyFold>;
}

/** The base node of a table; FLOAT columns are read exactly by upqueries ([note: float-exact]). */
export function baseTableOf(schema: TableSchema): BaseTable {
  const cols = schema.columns;
  return new BaseTable(schema.database, schema.table, cols.map((c) => c.name), cols.map((c) => c.dataType === 'float'));
}

/**
 * How a column's values order (ORDER BY, top-k): by its type where its text does not order like
 * its values [note: typed-order], text by its collation ([note: collations]), the rest by value.
 */
export function orderOf(c: ColumnInfo | null): ValueOrder {
  return (c === null ? null : typedOrder(c)) ?? textOrBinaryOrder(c);
}

/**
 * How MIN/MAX pick among a column's values, and how a UNION's result orders: as ORDER BY, but ENUM
 * and SET by their text (MariaDB's UNION result holds them as strings). [note: typed-order]
 */
export function extremumOrderOf(c: ColumnInfo): ValueOrder {
  return c.dataType === 'enum' || c.dataType === 'set' ? textOrBinaryOrder(c) : orderOf(c);
}

function typedOrder(c: ColumnInfo): ValueOrder | null {
  switch (c.dataType) {
    case 'decimal': case 'numeric': return decimalOrder;
    case 'time': return timeOrder;
    // Without its members (a definition persisted before they were kept) an ENUM or SET orders as
    // text: such a cache is planned again against the upstream's schema before it serves.
    case 'enum': return c.members === undefined ? null : enumOrder(c.members);
    case 'set': return c.members === undefined ? null : setOrder(c.members);
    default: return null;
  }
}

function textOrBinaryOrder(c: ColumnInfo | null): ValueOrder {
  if (c === null) return binaryOrder;
  const collation = collationOf(c);
  if (collation !== null) return collationOrder(collation);
  // Binary strings by byte (compareValues compares Buffers so), never as numbers.
  return columnClass(c) === 'binary' ? textOrder : binaryOrder;
}

/** Upstream settings the built nodes compute with. */
export interface BuildOptions {
  /** The upstream's global `div_precision_increment`: the digits AVG adds to a DECIMAL's. */
  readonly divPrecisionIncrement: number;
}

export const DEFAULT_BUILD: BuildOptions = { divPrecisionIncrement: 4 };

/** The aggregate rule of a planned aggregate function. */
export function ruleOf(spec: RuleSpec, cols: ReadonlyArray<ColumnInfo>, opts: BuildOptions = DEFAULT_BUILD): AggregateRule {
  if (spec.arg === null) return countStar() as AggregateRule;
  const c = cols[spec.arg];
  const kind: NumericKind = columnClass(c) === 'float' ? { exact: false } : { exact: true, scale: columnClass(c) === 'decimal' ? c.scale : 0 };
  switch (spec.fn) {
    case 'COUNT': return (spec.distinct ? countDistinct(spec.arg, c.name, keyFoldOf(c)) : countColumn(spec.arg, c.name)) as AggregateRule;
    case 'SUM': return sum(spec.arg, c.name, kind) as AggregateRule;
    case 'AVG': return avg(spec.arg, c.name, kind, opts.divPrecisionIncrement) as AggregateRule;
    case 'MIN': return min(spec.arg, c.name, extremumOrderOf(c)) as AggregateRule;
    case 'MAX': return max(spec.arg, c.name, extremumOrderOf(c)) as AggregateRule;
  }
}

/** Adds the cache's nodes to the graph (sharing what already exists) and returns them. */
export function buildCache(graph: Graph, plan: QueryPlan, cacheId: string, opts: BuildOptions = DEFAULT_BUILD): BuiltCache {
  const cols = plan.schema.columns;
  const nodes: Operator[] = [];
  const add = <T extends Operator>(op: T): T => { const n = graph.add(op); nodes.push(n); return n; };
  let top: Operator = plan.join !== null ? buildJoin(add, plan.join, opts) : add(baseTableOf(plan.schema));
  if (plan.where !== null) top = add(new Filter(top, plan.where));
  const paramFold = plan.params.map((p) => keyFoldOf(cols[p.column]));
  // The column info behind each stage column, when it is a table column.
  let stageInfo: (s: number) => ColumnInfo | null = (s) => cols[s];
  if (plan.aggregate !== null) {
    const agg = plan.aggregate;
    const groupBy = [...plan.params.map((p) => p.column), ...agg.groupBy];
    top = add(new Aggregate(top, {
      groupBy, keyCount: plan.params.length, scalar: agg.scalar,
      rules: agg.rules.map((r) => ruleOf(r, cols, opts)),
      fold: groupBy.map((c) => keyFoldOf(cols[c])),
    }));
    const nGroup = groupBy.length;
    // An aggregate orders as its result's type (MIN/MAX as their argument's). [note: typed-order]
    stageInfo = (s) => (s < nGroup ? cols[groupBy[s]] : ruleInfo(agg.rules[s - nGroup], cols));
    if (plan.having !== null) top = add(new Filter(top, plan.having));
  }
  // π: visible columns, then the parameter columns (reader key), then ORDER BY columns not shown.
  const picks = plan.select.map((s) => s.stage);
  const visible = picks.length;
  const paramStage = (i: number): number => (plan.aggregate !== null ? i : plan.params[i].column);
  const key = plan.params.map((_, i) => { picks.push(paramStage(i)); return picks.length - 1; });
  const orderBy: SortKey[] = plan.orderBy.map((o) => {
    let at = picks.indexOf(o.stage);
    if (at < 0 || at >= visible) { picks.push(o.stage); at = picks.length - 1; }
    return { column: at, desc: o.desc, order: orderOf(stageInfo(o.stage)) };
  });
  top = add(new Project(top, picks));
  if (plan.distinct) {
    const rowFold = picks.map((s) => { const c = stageInfo(s); return c === null ? 'exact' as const : keyFoldOf(c); });
    top = add(new Distinct(top, { key, fold: paramFold, rowFold, multiset: false }));
  }
  if (plan.limit !== null) {
    const need = plan.limit.offset + plan.limit.count;
    top = add(new TopK(top, { key, fold: paramFold, orderBy, need, keep: need + slackFor(plan.limit) }));
  }
  const reader = new Reader(top, { key, fold: paramFold, visible, orderBy, limit: plan.limit, distinct: plan.distinct }, cacheId);
  graph.add(reader);
  graph.retain(reader);
  nodes.push(reader);
  return { nodes, reader, paramFold };
}

/** Releases a cache's nodes (shared ones stay while another cache uses them). */
export function releaseCache(graph: Graph, built: BuiltCache): void {
  graph.release(built.reader);
}
