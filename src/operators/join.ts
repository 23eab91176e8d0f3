/**
 * ⋈: an inner or left equi-join of two stateful parents. Stateless itself: a delta from one side
 * is joined with the other side's state, looked up by the join columns (the side's own key, or
 * its secondary index when the side is keyed by the query's parameter, see keyed-rows.ts).
 *
 * Output rows are the left side's picked columns followed by the right side's; a left join fills
 * the right part with NULLs while the right side has no row for the join value.
 *
 * Both parents have applied the whole batch before the join sees either side's deltas (they come
 * first in topological order). The change of the join over one batch is computed in two steps,
 * `f(L1,R1) − f(L0,R0) = [f(L1,R1) − f(L0,R1)] + [f(L0,R1) − f(L0,R0)]` (or with the sides swapped,
 * by arrival order): the side that arrives first is joined with the other side's current state,
 * the second with the first side's state before the batch (current minus the deltas seen).
 *
 * A delta whose other side is missing for its join value is not guessed: the rows below that were
 * derived from it are evicted ([note: evict-not-guess], {@link BatchResult.evictBelow}).
 */
import { consolidate, type Delta, type Row } from '../dataflow/delta.js';
import { EMPTY_RESULT, OperatorBase, statefulNode, type BatchContext, type BatchResult, type ColumnSource, type EvictionKeys, type JoinNode, type JoinSide, type KeyedRowsNode, type Operator, type StatefulOperator } from '../dataflow/operator.js';
import { keyString, sameRow, type KeyFold } from '../dataflow/state.js';
import { invariant } from '../errors.js';
import type { Value } from '../values.js';

export type JoinKind = 'inner' | 'left';

export interface JoinSpec {
  readonly kind: JoinKind;
  /** Equal columns, as [left parent column, right parent column]. */
  readonly on: ReadonlyArray<readonly [number, number]>;
  /** How each pair's values compare (both sides fold alike). */
  readonly fold: ReadonlyArray<KeyFold>;
  /** Parent columns each side contributes to the output, in order. */
  readonly picks: readonly [ReadonlyArray<number>, ReadonlyArray<number>];
}

type Side = JoinSide;

const NO_ROWS: ReadonlyArray<Row> = Object.freeze([]);

export class Join extends OperatorBase implements JoinNode {
  readonly kind = 'join' as const;
  readonly parents: ReadonlyArray<Operator>;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  readonly state = null;
  readonly spec: JoinSpec;
  /** Join columns of each side, in pair order. */
  readonly joinColumns: readonly [ReadonlyArray<number>, ReadonlyArray<number>];
  /** The parents: a join's sides hold state. */
  readonly #sides: readonly [StatefulOperator, StatefulOperator];
  /** Per side: null when the side is keyed by its join columns, else the side, indexed by them. */
  readonly #indexed: readonly [KeyedRowsNode | null, KeyedRowsNode | null];
  readonly #nulls: Row;
  #ctx: BatchContext | null = null;
  #seen: [Map<string, Delta[]>, Map<string, Delta[]>] = [new Map(), new Map()];

  constructor(left: Operator, right: Operator, spec: JoinSpec) {
    super();
    this.#sides = [statefulNode(left), statefulNode(right)];
    this.parents = this.#sides;
    this.spec = spec;
    this.joinColumns = [spec.on.map((p) => p[0]), spec.on.map((p) => p[1])];
    const indexed = (s: Side): KeyedRowsNode | null => {
      const p = this.#sides[s];
      const cols = this.joinColumns[s];
      if (p.state.key.length === cols.length && p.state.key.every((k, i) => k === cols[i])) return null;
      invariant(p.kind === 'keyed-rows' && p.index !== null && p.index.every((k, i) => k === cols[i]) && p.index.length === cols.length, `join side ${p.describe()} has no index by its join columns`);
      return p;
    };
    this.#indexed = [indexed(0), indexed(1)];
    this.columns = [...spec.picks[0].map((i) => left.columns[i]), ...spec.picks[1].map((i) => right.columns[i])];
    this.#nulls = spec.picks[1].map(() => null);
    this.signature = `join(${spec.kind}|${left.signature}|${right.signature}|${spec.on.map((p) => p.join('=')).join(',')}|${spec.fold.join(',')}|${spec.picks[0].join(',')}|${spec.picks[1].join(',')})`;
  }

  describe(): string {
    const on = this.spec.on.map(([l, r]) => `${this.parents[0].columns[l]} = ${this.parents[1].columns[r]}`).join(' AND ');
    return `${this.spec.kind === 'left' ? '⟕' : '⋈'}[${on}]`;
  }

  override source(column: number): ColumnSource {
    const nl = this.spec.picks[0].length;
    return column < nl ? { parent: 0, column: this.spec.picks[0][column] } : { parent: 1, column: this.spec.picks[1][column - nl] };
  }

  /** Output column carrying parent `side`'s column `column`, or -1. */
  outputOf(side: Side, column: number): number {
    const i = this.spec.picks[side].indexOf(column);
    return i < 0 ? -1 : side === 0 ? i : this.spec.picks[0].length + i;
  }

  /** The join values of a row of side `side`. */
  joinValues(side: Side, row: Row): Row {
    const cols = this.joinColumns[side];
    const out: Value[] = new Array(cols.length);
    for (let i = 0; i < cols.length; i++) out[i] = row[cols[i]];
    return out;
  }

  /**
   * Rows of side `side` with join values `values`: undefined when the side is missing them (a hole),
   * empty for NULL values (NULL equals nothing).
   */
  lookup(side: Side, values: Row): ReadonlyArray<Row> | undefined {
    if (values.some((v) => v === null)) return NO_ROWS;
    const ix = this.#indexed[side];
    if (ix === null) return this.#sides[side].state.rows(keyString(values, this.spec.fold));
    return ix.lookup(values);
  }

  /** True when side `side` is keyed by its join columns (a missing join value is a hole there). */
  keyedByJoin(side: Side): boolean {
    return this.#indexed[side] === null;
  }

  /** One output row. */
  combine(left: Row, right: Row | null): Row {
    const [pl, pr] = this.spec.picks;
    const out: Value[] = new Array(pl.length + pr.length);
    for (let i = 0; i < pl.length; i++) out[i] = left[pl[i]];
    for (let i = 0; i < pr.length; i++) out[pl.length + i] = right === null ? this.#nulls[i] : right[pr[i]];
    return out;
  }

  /** The output rows of left rows joined with the right rows of their join value (for fills). */
  joinLeft(left: Row, right: ReadonlyArray<Row>, out: Row[]): void {
    if (right.length === 0) { if (this.spec.kind === 'left') out.push(this.combine(left, null)); return; }
    for (const r of right) out.push(this.combine(left, r));
  }

  onBatch(from: number, deltas: ReadonlyArray<Delta>, ctx: BatchContext): BatchResult {
    if (ctx !== this.#ctx) {
      this.#ctx = ctx;
      this.#seen = [new Map(), new Map()];
    }
    const side = from as Side;
    const other = (1 - side) as Side;
    const groups = new Map<string, { values: Row; deltas: Delta[] }>();
    for (const d of deltas) {
      const values = this.joinValues(side, d.row);
      const k = keyString(values, this.spec.fold);
      const g = groups.get(k);
      if (g === undefined) groups.set(k, { values, deltas: [d] });
      else g.deltas.push(d);
    }
    const output: Delta[] = [];
    const evictRows: Row[] = [];
    const evictValues: Row[] = [];
    const seenOther = this.#seen[other];
    const seenMine = this.#seen[side];
    for (const [k, g] of groups) {
      const prior = seenMine.get(k);
      if (prior === undefined) seenMine.set(k, g.deltas.slice());
      else prior.push(...g.deltas);
      let rows = this.lookup(other, g.values);
      if (rows === undefined) {
        if (side === 0) for (const d of g.deltas) evictRows.push(d.row);
        else evictValues.push(g.values);
        continue;
      }
      const before = seenOther.get(k);
      if (before !== undefined) rows = undo(rows, before);
      if (side === 0) this.#fromLeft(g.deltas, rows, output);
      else this.#fromRight(g.deltas, rows, g.values, output);
    }
    const evictBelow: EvictionKeys[] = [];
    if (evictRows.length > 0) evictBelow.push({ columns: this.spec.picks[0].map((_, i) => i), keys: evictRows.map((r) => this.spec.picks[0].map((c) => r[c])) });
    if (evictValues.length > 0) {
      const cols = this.joinColumns[0].map((c) => this.outputOf(0, c));
      if (cols.every((c) => c >= 0)) evictBelow.push({ columns: cols, keys: evictValues });
      else evictBelow.push({ columns: [], keys: [[]] });
    }
    if (output.length === 0 && evictBelow.length === 0) return EMPTY_RESULT;
    return evictBelow.length === 0 ? { output, evicted: [] } : { output, evicted: [], evictBelow };
  }

  #fromLeft(deltas: ReadonlyArray<Delta>, right: ReadonlyArray<Row>, output: Delta[]): void {
    for (const d of deltas) {
      if (right.length === 0) {
        if (this.spec.kind === 'left') output.push({ row: this.combine(d.row, null), sign: d.sign });
        continue;
      }
      for (const r of right) output.push({ row: this.combine(d.row, r), sign: d.sign });
    }
  }

  // The right side's state already holds these deltas: its count before them is now − net.
  #fromRight(deltas: ReadonlyArray<Delta>, left: ReadonlyArray<Row>, values: Row, output: Delta[]): void {
    if (left.length === 0) return;
    let nullFlip: 1 | -1 | 0 = 0;
    if (this.spec.kind === 'left') {
      const now = this.#rightCount(values);
      let net = 0;
      for (const d of deltas) net += d.sign;
      const was = now - net;
      if (was === 0 && now > 0) nullFlip = -1;
      else if (was > 0 && now === 0) nullFlip = 1;
    }
    for (const l of left) {
      for (const d of deltas) output.push({ row: this.combine(l, d.row), sign: d.sign });
      if (nullFlip !== 0) output.push({ row: this.combine(l, null), sign: nullFlip });
    }
  }

  #rightCount(values: Row): number {
    return this.lookup(1, values)?.length ?? 0;
  }

  traceEviction(from: number, columns: ReadonlyArray<number>, keys: ReadonlyArray<Row>): EvictionKeys | null {
    // Everything derived from a right key (its joined rows, and the NULL-extended rows its
    // emptiness made) has its left part among the left rows of that join value.
    if (from !== 1) return null;
    const at = this.joinColumns[1].map((c) => columns.indexOf(c));
    if (at.some((i) => i < 0)) return null;
    const lefts: Row[] = [];
    for (const k of keys) {
      const rows = this.lookup(0, at.map((i) => k[i]));
      if (rows === undefined) return null;
      for (const r of rows) lefts.push(this.spec.picks[0].map((c) => r[c]));
    }
    return { columns: this.spec.picks[0].map((_, i) => i), keys: lefts };
  }
}

/** `rows` minus the deltas `ds` (the state before them), as a new multiset. */
function undo(rows: ReadonlyArray<Row>, ds: ReadonlyArray<Delta>): Row[] {
  const out = rows.slice();
  // By net count: a row inserted and deleted within the batch is in neither state.
  for (const d of consolidate(ds)) {
    if (d.sign === 1) {
      const i = out.findIndex((r) => sameRow(r, d.row));
      if (i >= 0) { out[i] = out[out.length - 1]; out.pop(); }
    } else out.push(d.row);
  }
  return out;
}
