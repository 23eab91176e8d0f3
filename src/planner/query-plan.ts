/**
 * The plan IR: what a cacheable query is reduced to between parsing (parse.ts) and the dataflow
 * nodes built from it (build.ts, build-join.ts, build-union.ts). A plan is tagged by its kind, and
 * everything that handles plans dispatches on that tag ({@link CachePlan}):
 *
 *   select  a single-table SELECT ({@link SelectPlan}, plan.ts)
 *   join    a SELECT over a join ({@link JoinSelectPlan}: join.ts plans the FROM clause as a
 *           {@link JoinPlan}, plan.ts the rest of the query over the joined row)
 *   union   a UNION of SELECTs ({@link UnionPlan}, union.ts), or an OR across columns (or-union.ts)
 *   answer  a single-table SELECT with expressions, kept as MariaDB's answer per key
 *           ({@link AnswerPlan}, answer.ts): the fallback when the others refuse
 *
 * A plan names table columns by index and holds no SQL text (but an `answer` plan, whose text is
 * its fill): its parameters (the reader's key), its constant WHERE, its aggregates, its visible
 * columns, its order and limit.
 * index.ts is the entry: the rewrite passes under passes/, then planning, then lowering.
 * Types only: every planner file may import this one.
 */
import type { Expr } from '../dataflow/expr.js';
import type { LimitParam, LimitSpec } from './limit.js';
import type { ColumnInfo, TableSchema } from './schema.js';

export interface ParamSpec {
  /** Table column the parameter is compared with. */
  readonly column: number;
  /** `col IN (?, ?, …)`: any number of values, each a key. */
  readonly multi: boolean;
  /**
   * The answer of a list of values in this parameter's place is the union of each value's answer
   * ([note: in-list-union]): no aggregate, or the aggregate is grouped by this column. Always true
   * when `multi`.
   */
  readonly listable: boolean;
  /** A bound of the query's range ({@link RangePlan}), not an equality: its value is coerced as a range's. */
  readonly bound?: 'lower' | 'upper';
}

/**
 * A range on one column (`col > ?`, `col <= ?`, `col BETWEEN ? AND ?`, at most one bound of
 * each side), inside the partition its equality parameters name ([note: range-state]).
 */
export interface RangePlan {
  /** Table column the range is on. */
  readonly column: number;
  /** The parameters (indexes into `params`) bounding it, and whether each bound is included. */
  readonly lower: { readonly param: number; readonly incl: boolean } | null;
  readonly upper: { readonly param: number; readonly incl: boolean } | null;
  /** ORDER BY the column DESC (rows are read from the upper end). */
  readonly desc: boolean;
}

export interface RuleSpec {
  readonly fn: 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX' | 'GROUP_CONCAT';
  /** Table column (GROUP_CONCAT: its first), or null for COUNT(*). */
  readonly arg: number | null;
  readonly distinct: boolean;
  /** GROUP_CONCAT only: what else it is written with. */
  readonly concat?: ConcatSpec;
}

/** `GROUP_CONCAT([DISTINCT] args… ORDER BY orderBy… SEPARATOR separator)`, over table columns. */
export interface ConcatSpec {
  readonly args: ReadonlyArray<number>;
  readonly orderBy: ReadonlyArray<{ readonly column: number; readonly desc: boolean }>;
  readonly separator: string;
}

/** A literal of the statement, in textual order, as the fingerprint sees it. */
export type SlotSpec =
  | { readonly kind: 'param'; readonly param: number }
  | { readonly kind: 'list-param'; readonly param: number }
  | { readonly kind: 'const' }
  | { readonly kind: 'list-const' }
  /** A number of a LIMIT with placeholders ({@link LimitParam}): read from each statement. */
  | { readonly kind: 'limit'; readonly part: 'count' | 'offset' };

/** What a SELECT is planned as, over one table's row or over a join's. */
interface SelectShape {
  readonly schema: TableSchema;
  /** The table was written without a database: the cache serves sessions using that database. */
  readonly unqualified: boolean;
  readonly params: ReadonlyArray<ParamSpec>;
  /** Constant part of WHERE, over table columns. */
  readonly where: Expr | null;
  readonly aggregate: { readonly groupBy: ReadonlyArray<number>; readonly rules: ReadonlyArray<RuleSpec>; readonly scalar: boolean } | null;
  /** Over stage columns. */
  readonly having: Expr | null;
  /** Stage columns the client sees, in order. */
  readonly select: ReadonlyArray<{ readonly name: string; readonly stage: number }>;
  /**
   * Over stage columns. With a LIMIT it is total: the planner appends tie-breakers (the primary
   * key, or every column; the group columns of an aggregate; the selected columns of DISTINCT).
   */
  readonly orderBy: ReadonlyArray<{ readonly stage: number; readonly desc: boolean }>;
  readonly limit: LimitSpec | null;
  /** `LIMIT ?`: the numbers come from each read ([note: limit-param]); `limit` is null then. */
  readonly limitParam: LimitParam | null;
  readonly distinct: boolean;
  /** A range parameter's column and bounds, or null ([note: range-state]). */
  readonly range: RangePlan | null;
  readonly slots: ReadonlyArray<SlotSpec>;
  /** Names of the stage columns (for describe()). */
  readonly stageNames: ReadonlyArray<string>;
}

/** A single-table SELECT. */
export interface SelectPlan extends SelectShape {
  readonly kind: 'select';
  readonly join: null;
}

/** A SELECT over a join: `schema` is the joined row, made as {@link join} says. */
export interface JoinSelectPlan extends SelectShape {
  readonly kind: 'join';
  readonly join: JoinPlan;
}

/** A SELECT, over one table or a join: lowered by build.ts (build-join.ts makes a join's row). */
export type QueryPlan = SelectPlan | JoinSelectPlan;

/** One table or derived table of the FROM clause. */
export interface JoinSource {
  /** The name the query uses for it: its alias, or the table's name. */
  readonly name: string;
  /** The table read. */
  readonly schema: TableSchema;
  /** Conditions on the table's own rows (a derived table's WHERE, a LEFT JOIN's ON over it). */
  readonly where: Expr | null;
  /** A derived table with GROUP BY: group columns and aggregates (stage: groupBy…, rules…). */
  readonly aggregate: { readonly groupBy: ReadonlyArray<number>; readonly rules: ReadonlyArray<RuleSpec> } | null;
  /** Per visible column: the table column, or for an aggregate the stage column. */
  readonly columns: ReadonlyArray<number>;
  readonly infos: ReadonlyArray<ColumnInfo>;
  /** Visible columns keying its state, and its secondary index (null: none). */
  readonly key: ReadonlyArray<number>;
  readonly index: ReadonlyArray<number> | null;
}

/** Joining the row of sources 0..i with source i+1. */
export interface JoinStep {
  readonly kind: 'inner' | 'left';
  /** Equal columns: [column of the joined row so far, visible column of the new source]. */
  readonly on: ReadonlyArray<readonly [number, number]>;
  /** For steps after the first: the key and index of the state kept over the row so far. */
  readonly leftKey: ReadonlyArray<number>;
  readonly leftIndex: ReadonlyArray<number> | null;
}

export interface JoinPlan {
  readonly sources: ReadonlyArray<JoinSource>;
  readonly steps: ReadonlyArray<JoinStep>;
}

/**
 * A UNION / UNION ALL of SELECTs (over one table, a join, with aggregates), each branch planned as
 * a query of its own with its own parameters (union.ts); also a SELECT with an OR of parameters across
 * columns, planned as the union of one branch per column (or-union.ts).
 */
export interface UnionPlan {
  readonly kind: 'union';
  readonly schema: TableSchema;
  readonly unqualified: boolean;
  /** Every branch's parameters, in textual order. */
  readonly params: ReadonlyArray<ParamSpec>;
  readonly slots: ReadonlyArray<SlotSpec>;
  /** UNION ALL (keeps duplicates) or UNION. */
  readonly all: boolean;
  /** Each branch planned as a SELECT of its own, over one table or a join. */
  readonly branches: ReadonlyArray<QueryPlan>;
  /**
   * Where each branch's columns start in {@link schema}: all 0 when every branch reads the one
   * table `schema` is; else `schema` is every branch's row side by side, and a parameter's
   * column is its branch's column plus the branch's offset ([note: union-branches]).
   */
  readonly offsets: ReadonlyArray<number>;
  /** For each branch, the index in {@link params} of each of its parameters. */
  readonly branchParams: ReadonlyArray<ReadonlyArray<number>>;
  /** Over the union's columns (the first branch's select list). */
  readonly orderBy: ReadonlyArray<{ readonly column: number; readonly desc: boolean }>;
  readonly limit: LimitSpec | null;
  /**
   * An OR of parameters across columns ([note: or-union], or-union.ts): table columns each branch
   * carries after the selected ones, the primary key first, which tell rows apart (the union
   * removes duplicates by the selected columns and these, and shows only the selected ones).
   * Null for a UNION as written.
   */
  readonly identity: ReadonlyArray<number> | null;
}

/**
 * A single-table SELECT with expressions the other plans refuse, kept as MariaDB's own answer per
 * key ([note: answer-refill], answer.ts).
 */
export interface AnswerPlan {
  readonly kind: 'answer';
  readonly schema: TableSchema;
  readonly unqualified: boolean;
  /** One per placeholder, in textual order: never a list, never listable ([note: in-list-union]). */
  readonly params: ReadonlyArray<ParamSpec>;
  readonly slots: ReadonlyArray<SlotSpec>;
  /** The statement's text around its placeholders, its table qualified. */
  readonly template: ReadonlyArray<string>;
  /** Names of the result columns (for describe(); the client's come from MariaDB). */
  readonly names: ReadonlyArray<string>;
}

/** What a cache is planned as, told apart by `kind`. */
export type CachePlan = SelectPlan | JoinSelectPlan | UnionPlan | AnswerPlan;
