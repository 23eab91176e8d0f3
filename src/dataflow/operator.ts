/**
 * Operators: the nodes of the dataflow graph.
 *
 * A node receives the deltas of one batch from one of its parents and returns the deltas it emits
 * (in its own column order) and the keys of its own state it had to evict ([note: evict-not-guess]).
 * A delta for a key it does not hold is dropped, not reported ([note: missing-key]): misses come
 * from reads. Nodes never talk to MySQL and never await: `dataflow/graph.ts` routes batches,
 * evictions and fills, and `dataflow/upquery.ts` turns a read's missing keys into SQL.
 *
 * [note: evict-not-guess] An operator that cannot update a key it holds without data it does not
 * have (a join whose other side is missing, a MIN whose current minimum was deleted, a top-k left
 * with fewer rows than it shows) evicts that key, and what was derived from it below; it never
 * emits a guess. The next read of the key fills it from MySQL (the engine re-fills hot readers'
 * keys in the background). Pinned by test/operators/operators.test.ts ('evicts the key instead of
 * guessing') and test/views/engine.test.ts ('refills in the background a key evicted').
 *
 * Every output column says where it came from ({@link Operator.source}), so the path of an upquery
 * and of an eviction is derived from the graph, not wired by hand. A stateless node can describe
 * the SQL that yields its rows ({@link Operator.sql}); a stateful node is where that SQL stops: a
 * fill is computed in MySQL from the stateless subtree above the first stateful node.
 */
import type { Delta, Row } from './delta.js';
import type { BinlogPosition, TableChange } from './batch.js';
import type { KeyedState } from './state.js';

export type OperatorKind = 'base' | 'filter' | 'project' | 'aggregate' | 'reader' | 'join' | 'keyed-rows' | 'top-k' | 'union' | 'distinct';

/** Where an output column's values come from: column `column` of parent `parent` (an index). */
export interface ColumnSource {
  readonly parent: number;
  readonly column: number;
}

/** The SQL that produces a stateless node's rows: one expression per output column. */
export interface SqlShape {
  readonly select: ReadonlyArray<string>;
  readonly from: string;
  readonly where: ReadonlyArray<string>;
}

export interface BatchContext {
  /** Position of the batch being applied; null for fills and replays of fills. */
  readonly position: BinlogPosition | null;
}

export interface BatchResult {
  readonly output: ReadonlyArray<Delta>;
  /** Keys of its own state it evicted while processing the batch ([note: evict-not-guess]). */
  readonly evicted: ReadonlyArray<Row>;
  /**
   * What a stateless node (a join) could not compute for lack of data: the rows below it derived
   * from these values of its output `columns` are evicted downstream ([note: evict-not-guess]).
   */
  readonly evictBelow?: ReadonlyArray<EvictionKeys>;
}

/** Rows named by the values (`keys`) of some output columns (`columns`) of a node. */
export interface EvictionKeys {
  readonly columns: ReadonlyArray<number>;
  readonly keys: ReadonlyArray<Row>;
}

export const EMPTY_RESULT: BatchResult = Object.freeze({ output: [], evicted: [] });

/** One dataflow node. */
export interface Operator {
  readonly kind: OperatorKind;
  readonly parents: ReadonlyArray<Operator>;
  /** Output column names (for describe() and debugging). */
  readonly columns: ReadonlyArray<string>;
  /** Equal signatures mean equal definitions: the graph shares such nodes between caches. */
  readonly signature: string;
  /** Compact form, e.g. `σ[status = 'a']`, `γ[item_id] COUNT(*)`. */
  describe(): string;
  /** Provenance of output column `column`, or null when the node computes it. */
  source(column: number): ColumnSource | null;
  /** Applies the deltas parent `from` emitted. MUST be synchronous and MUST drop deltas for missing keys. */
  onBatch(from: number, deltas: ReadonlyArray<Delta>, ctx: BatchContext): BatchResult;
  /** The SQL yielding this node's rows, for stateless nodes; null for stateful ones. */
  sql(): SqlShape | null;
  /** The node's partial state, or null for stateless nodes. */
  readonly state: KeyedState | null;
  /**
   * A stateless node with several parents (a join) may name, more precisely than by column
   * provenance, the rows it derived from keys `keys` of columns `columns` of parent `from`; null
   * to fall back to provenance.
   */
  traceEviction?(from: number, columns: ReadonlyArray<number>, keys: ReadonlyArray<Row>): EvictionKeys | null;
}

/**
 * A root node: one upstream table, fed by the batches' row changes for it (src/operators/base-table.ts).
 * The graph finds a batch's entry points through these, by kind, without knowing the operator.
 */
export interface TableSource extends Operator {
  readonly kind: 'base';
  readonly database: string;
  readonly table: string;
  /** The deltas of a change to this table, in this node's column order. */
  deltasOf(change: TableChange): ReadonlyArray<Delta>;
}

export function isTableSource(op: Operator): op is TableSource {
  return op.kind === 'base';
}

export type JoinSide = 0 | 1;

/**
 * What a fill through a join needs of the join node ([note: join-fill], src/dataflow/join-fill.ts),
 * implemented by src/operators/join.ts: how its output columns map to its sides, and lookups in
 * the sides' state by join values.
 */
export interface JoinNode extends Operator {
  readonly kind: 'join';
  readonly spec: { readonly kind: 'inner' | 'left' };
  /** Join columns of each side, in pair order. */
  readonly joinColumns: readonly [ReadonlyArray<number>, ReadonlyArray<number>];
  /** Output column carrying side `side`'s column `column`, or -1. */
  outputOf(side: JoinSide, column: number): number;
  /** The join values of a row of side `side`. */
  joinValues(side: JoinSide, row: Row): Row;
  /** Rows of side `side` with join values `values`: undefined for a hole, empty for NULL values. */
  lookup(side: JoinSide, values: Row): ReadonlyArray<Row> | undefined;
  /** True when side `side` is keyed by its join columns. */
  keyedByJoin(side: JoinSide): boolean;
  /** One output row of a left row and a right row (null: the right part is NULLs). */
  combine(left: Row, right: Row | null): Row;
  /** Appends the output rows of a left row joined with the right rows of its join value (for fills). */
  joinLeft(left: Row, right: ReadonlyArray<Row>, out: Row[]): void;
}

export function isJoinNode(op: Operator): op is JoinNode {
  return op.kind === 'join';
}

/** Output rows delivered by a fill: for stateless nodes, the same transformation as onBatch. */
export function positives(rows: ReadonlyArray<Row>): Delta[] {
  const out: Delta[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = { row: rows[i], sign: 1 };
  return out;
}
