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
 * The contract is one interface per kind of node, {@link Operator} their union discriminated by
 * `kind`: a table source, a stateless node (σ, π), a join, a stateful node with one input (γ, δ,
 * top-k, a query's answer, keyed rows, the reader), a union. The graph dispatches on `kind`, so the compiler checks
 * that a node of each kind is what the graph uses it as.
 *
 * Every output column says where it came from ({@link NodeShape.source}), so the path of an upquery
 * and of an eviction is derived from the graph, not wired by hand. A stateless node can describe
 * the SQL that yields its rows ({@link NodeShape.sql}); a stateful node is where that SQL stops: a
 * fill is computed in MySQL from the stateless subtree above the first stateful node.
 */
import type { Delta, Row } from './delta.js';
import type { BinlogPosition, TableChange } from './batch.js';
import type { InputState, KeyedState } from './state.js';
import { invariant } from '../errors.js';

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

/**
 * What every node has, whatever its kind. The graph never uses a node through this alone: it
 * dispatches on `kind` ({@link Operator}), so what a kind promises is checked by the compiler.
 */
interface NodeShape {
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
 * The graph finds a batch's entry points through these; a fill that reaches one asks MySQL.
 */
export interface TableSource extends NodeShape {
  readonly kind: 'base';
  readonly state: null;
  readonly database: string;
  readonly table: string;
  /** The deltas of a change to this table, in this node's column order. */
  deltasOf(change: TableChange): ReadonlyArray<Delta>;
  sql(): SqlShape;
}

/**
 * A stateless node with one parent (σ, π): a fill passes through it, as the same transformation
 * of the rows it applies to deltas, and its SQL is its parent's transformed.
 */
export interface StatelessNode extends NodeShape {
  readonly kind: 'filter' | 'project';
  readonly state: null;
  sql(): SqlShape;
}

export type JoinSide = 0 | 1;

/**
 * What a fill through a join needs of the join node ([note: join-fill], src/dataflow/join-fill.ts),
 * implemented by src/operators/join.ts: how its output columns map to its sides, and lookups in
 * the sides' state by join values. Stateless; both parents hold state.
 */
export interface JoinNode extends NodeShape {
  readonly kind: 'join';
  readonly state: null;
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

export type StatefulKind = 'aggregate' | 'distinct' | 'top-k' | 'answer' | 'keyed-rows' | 'reader';

/**
 * A node with one parent whose keyed state is computed from that parent's rows
 * (src/dataflow/materialized.ts): filled from MySQL by the SQL of the stateless nodes above, from
 * a stateful ancestor through them, or through a join ({@link InputState}).
 */
export interface StatefulNode<K extends StatefulKind = StatefulKind> extends NodeShape {
  readonly kind: K;
  readonly state: InputState;
}

/**
 * The rows of a join's side, kept by its key and, when the key is not the join columns, looked up
 * by a secondary index on them (src/operators/keyed-rows.ts).
 */
export interface KeyedRowsNode extends StatefulNode<'keyed-rows'> {
  /** Columns of the secondary index, or null. */
  readonly index: ReadonlyArray<number> | null;
  /** Rows of present keys whose index columns hold `values`. */
  lookup(values: Row): ReadonlyArray<Row>;
}

/**
 * A reader key's answer kept as the text-protocol row packets a hit serves ([note: compact-reader],
 * src/operators/reader.ts), with its values on demand.
 */
export interface PackedRows {
  /** The row packets, one char per byte. */
  readonly packets: string;
  /** True when the packets are what a session with result collation `charset` reads in `columns`. */
  fits(columns: ReadonlyArray<unknown>, charset: number | undefined): boolean;
  /** The same rows as binary-protocol row packets, made once per change ([note: binary-rows]); null when there are none. */
  binaryPackets(): string | null;
  values(): ReadonlyArray<Row>;
}

/** What a read of a present reader key gets: the answer rows, or their packets. */
export type ReaderAnswer = ReadonlyArray<Row> | PackedRows;

/** A key's answer in a form a reader's caller makes and the reader keeps ([note: derived-answer]). */
export interface DerivedAnswer {
  /** What it holds, counted in the key's bytes. */
  readonly bytes: number;
}

/** The leaf of a cache (src/operators/reader.ts): its evictions are refilled in the background. */
export interface ReaderNode extends StatefulNode<'reader'> {
  /** The answer of a present key, or undefined for a missing one. MUST be synchronous ([note: hot-path]). */
  answer(key: string): ReaderAnswer | undefined;
  peek(key: string): ReaderAnswer | undefined;
  /** The answer in the caller's form, made once per change of the key ([note: derived-answer]). */
  answerAs<T extends DerivedAnswer>(key: string, make: (a: ReaderAnswer) => T, count?: boolean): T | undefined;
}

/**
 * A node with several stateful parents (a UNION's branches), whose keys are filled from the
 * parents' states, never from MySQL (src/operators/union.ts).
 */
export interface UnionNode extends NodeShape {
  readonly kind: 'union';
  readonly state: KeyedState;
  /** Per parent, the parent keys that `keys` need. */
  parentKeys(keys: ReadonlyArray<Row>): ReadonlyArray<ReadonlyArray<Row>>;
  /** Installs `keys` from the parents' states, which MUST hold the keys {@link parentKeys} named. */
  fillFromParents(keys: ReadonlyArray<Row>): void;
}

/** One dataflow node: which contract it implements is told by its `kind`. */
export type Operator =
  | TableSource
  | StatelessNode
  | JoinNode
  | StatefulNode<'aggregate' | 'distinct' | 'top-k' | 'answer'>
  | KeyedRowsNode
  | ReaderNode
  | UnionNode;

export type OperatorKind = Operator['kind'];

/** A stateful node with one parent, its state computed from that parent's rows. */
export type InputNode = StatefulNode<'aggregate' | 'distinct' | 'top-k' | 'answer'> | KeyedRowsNode | ReaderNode;

/** A node holding keyed state: what fills, fences, replays and evictions are for. */
export type StatefulOperator = InputNode | UnionNode;

/** `op`, which MUST hold state (a join's side, a union's branch). */
export function statefulNode(op: Operator): StatefulOperator {
  invariant(op.state !== null, `${op.describe()} holds no state`);
  return op;
}

/**
 * The defaults of operator classes, written once: output column `i` is parent 0's column `i`, and
 * the node describes no SQL (stateful nodes, joins). A node that computes columns or has SQL
 * overrides them.
 */
export abstract class OperatorBase {
  source(column: number): ColumnSource | null {
    return { parent: 0, column };
  }

  sql(): SqlShape | null {
    return null;
  }
}

/** Output rows delivered by a fill: for stateless nodes, the same transformation as onBatch. */
export function positives(rows: ReadonlyArray<Row>): Delta[] {
  const out: Delta[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = { row: rows[i], sign: 1 };
  return out;
}
