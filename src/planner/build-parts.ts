/**
 * What every builder (build.ts, build-join.ts, build-union.ts) makes the same way: a table's base
 * node, the order of a column's values, an aggregate function's rule, and the upstream settings
 * they compute with.
 */
import { BaseTable } from '../operators/base-table.js';
import type { AggregateRule } from '../operators/grouped.js';
import { avg, countColumn, countDistinct, countStar, sum, type NumericKind } from '../operators/aggregate.js';
import { binaryOrder, collationOrder, max, min, textOrder, type ValueOrder } from '../operators/extremum.js';
import { decimalOrder, enumOrder, setOrder, timeOrder } from '../operators/value-order.js';
import { collationOf, columnClass, keyFoldOf, type ColumnInfo, type TableSchema } from './schema.js';
import type { ConcatSpec, RuleSpec } from './query-plan.js';
import { groupConcat } from '../operators/group-concat.js';

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
  /** The upstream's global `group_concat_max_len`: where GROUP_CONCAT's upqueries cut its value. */
  readonly groupConcatMaxLen: number;
  /**
   * The upstream's global `sql_mode` without the flags that change how text parses: what a cache
   * of expressions evaluates under ([note: answer-refill]); unknown when absent.
   */
  readonly sqlMode?: string;
}

export const DEFAULT_BUILD: BuildOptions = { divPrecisionIncrement: 4, groupConcatMaxLen: 1048576 };

/** The aggregate rule of a planned aggregate function. */
export function ruleOf(spec: RuleSpec, cols: ReadonlyArray<ColumnInfo>, opts: BuildOptions = DEFAULT_BUILD): AggregateRule {
  if (spec.arg === null) return countStar() as AggregateRule;
  if (spec.fn === 'GROUP_CONCAT') {
    const concat = spec.concat as ConcatSpec;
    return groupConcat({ distinct: spec.distinct, ...concat, maxLength: opts.groupConcatMaxLen }, cols.map((c) => c.name)) as AggregateRule;
  }
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
