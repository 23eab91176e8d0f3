/**
 * A range cache's nodes ([note: range-state]):
 *
 *   table → [σ constant WHERE] → π[visible…, equality parameters…, range column, ties…] → range reader
 *
 * The range reader is keyed by the equality parameters and keeps, per key, the rows it knows in
 * the range column's order with the intervals they cover.
 */
import type { Graph } from '../dataflow/graph.js';
import type { Operator } from '../dataflow/operator.js';
import { Project } from '../operators/project.js';
import { RangeReader } from '../operators/range-reader.js';
import { columnClass, keyFoldOf, type ColumnInfo } from './schema.js';
import { temporalOrder } from '../operators/value-order.js';
import type { ValueOrder } from '../operators/extremum.js';
import { orderOf } from './build-parts.js';
import type { QueryPlan, RangePlan } from './query-plan.js';
import type { Add } from './build-join.js';

/** Adds the projection and the range reader below `source`; the reader is retained, as a cache's reader is. */
export function buildRange(graph: Graph, plan: QueryPlan, range: RangePlan, cacheId: string, source: Operator, add: Add): RangeReader {
  const cols = plan.schema.columns;
  const picks = plan.select.map((s) => s.stage);
  const visible = picks.length;
  const at = (c: number): number => { picks.push(c); return picks.length - 1; };
  const equalities = plan.params.filter((p) => p.bound === undefined);
  const key = equalities.map((p) => at(p.column));
  const column = at(range.column);
  // Rows of one range value in a fixed order: by the primary key, or by every column.
  const primary = cols.flatMap((c, i) => (c.primary === true ? [i] : []));
  const ties = (primary.length > 0 ? primary : cols.map((_, i) => i)).map((c) => ({ column: at(c), order: orderOf(cols[c]) }));
  const top = add(new Project(source, picks));
  const fold = equalities.map((p) => keyFoldOf(cols[p.column]));
  const reader = new RangeReader(top, {
    key, fold, visible, column, order: rangeOrder(cols[range.column]), ties, desc: range.desc, limit: plan.limit,
  }, cacheId);
  graph.add(reader);
  graph.retain(reader);
  return reader;
}

/** How the range column's values compare with its bounds: as points in time for dates and times, else as ORDER BY sorts them. */
function rangeOrder(c: ColumnInfo): ValueOrder {
  return columnClass(c) === 'temporal' ? temporalOrder : orderOf(c);
}
