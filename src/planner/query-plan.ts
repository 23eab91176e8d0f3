/**
 * The plan IR: what a cacheable query is reduced to between parsing (parse.ts) and the dataflow
 * nodes built from it (build.ts, build-join.ts, build-union.ts). A {@link QueryPlan} names table
 * columns by index and no longer holds any SQL text: its parameters (the reader's key), its constant
 * WHERE, its aggregates, its visible columns, its order and limit, and for a join the
 * {@link JoinPlan} that makes the joined row it is planned over.
 *
 * plan.ts plans a single-table SELECT (and the rest of a join's query over the joined row), join.ts
 * plans the FROM clause of a join, union.ts a UNION of SELECTs; the passes under passes/ rewrite the
 * parsed statement before planning. Types only: every planner file may import this one.
 */
import type { Expr } from '../dataflow/expr.js';
import type { LimitSpec } from './limit.js';
import type { ColumnInfo, TableSchema } from './schema.js';

export interface ParamSpec {
  /** Table column the parameter is compared with. */
  readonly column: number;
  /** `col IN (?, ?, …)`: any number of values, each a key. */
  readonly multi: boolean;
}

export interface RuleSpec {
  readonly fn: 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX';
  /** Table column, or null for COUNT(*). */
  readonly arg: number | null;
  readonly distinct: boolean;
}

/** A literal of the statement, in textual order, as the fingerprint sees it. */
export type SlotSpec =
  | { readonly kind: 'param'; readonly param: number }
  | { readonly kind: 'list-param'; readonly param: number }
  | { readonly kind: 'const' }
  | { readonly kind: 'list-const' };

export interface QueryPlan {
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
  readonly distinct: boolean;
  readonly slots: ReadonlyArray<SlotSpec>;
  /** Names of the stage columns (for describe()). */
  readonly stageNames: ReadonlyArray<string>;
  /** For a join, how its row (the columns of `schema`) is made; null for a single table. */
  readonly join: JoinPlan | null;
}

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
