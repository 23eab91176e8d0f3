/**
 * Fills through a join: which side keys a fill below a join needs, and the synchronous computation
 * of the filled rows from the two side states once they hold those keys.
 *
 * [note: join-fill] Below a join, every present key K holds exactly `L ⋈ R` restricted to K, where
 * L and R are the join's side states as they are now. The join keeps this true as batches flow
 * (operators/join.ts: each side's deltas are joined with the other side's state, a hole evicts
 * below instead of guessing), and a fill establishes it:
 *   1. the side that holds the key's columns ("driving" side, keyed by the parameter) is filled
 *      for the key, then the other side (keyed by its join columns) for the join values of the
 *      driving rows (both at once when the driving side is keyed by its join columns too); each
 *      side fill is an ordinary upquery, fenced and replayed at its own snapshot position
 *      ([note: fill-position]), so each side key is exact from its own position on;
 *   2. the needs are computed again after every round of side fills (a batch may have moved a
 *      driving row to a join value not yet present); when nothing is missing, the rows are
 *      computed from the side states and installed in the same synchronous step, with no batch
 *      in between.
 * Side keys filled at different positions agree once the stream has passed the newest of them;
 * until then a key filled ahead of the stream is not served (views/cache-reads.ts waits for the
 * stream to apply the newest fill before answering), so no read sees a mix of positions.
 * Conversely, a side key missing means nothing below was derived from it: a driving key is
 * present below only while its rows' join values are present on the other side (a change that
 * breaks this evicts below), and evicting a side key evicts what was derived from it
 * ([note: evict-downstream]).
 * Pinned by test/views/join-fill.test.ts (sides filled around a transaction that changes both).
 */
import type { Row } from './delta.js';
import { positives, statefulNode, type JoinNode, type JoinSide, type Operator, type StatefulOperator } from './operator.js';
import { answers, keyString } from './state.js';
import type { JoinFill } from './graph.js';
import { invariant } from '../errors.js';

/** Side keys that must be filled first; empty when both sides hold everything needed. */
export interface SideRequest {
  readonly node: StatefulOperator;
  readonly keys: ReadonlyArray<Row>;
}

interface Driving {
  readonly side: JoinSide;
  /** For each key column of the driving side's state, its position among the fill's columns. */
  readonly perm: ReadonlyArray<number>;
}

/** The side whose state key the fill's columns determine (directly or through the join equality). */
function driving(join: JoinNode, columns: ReadonlyArray<number>): Driving {
  const sides: ReadonlyArray<JoinSide> = join.spec.kind === 'left' ? [0] : [0, 1];
  for (const side of sides) {
    const st = sideOf(join, side).state;
    const other = (1 - side) as JoinSide;
    const perm = st.key.map((k) => {
      const direct = join.outputOf(side, k);
      let at = direct < 0 ? -1 : columns.indexOf(direct);
      const pair = join.joinColumns[side].indexOf(k);
      if (at < 0 && pair >= 0) {
        const via = join.outputOf(other, join.joinColumns[other][pair]);
        at = via < 0 ? -1 : columns.indexOf(via);
      }
      return at;
    });
    if (perm.every((p) => p >= 0)) return { side, perm };
  }
  invariant(false, `${join.describe()} cannot be filled by columns ${columns.join(',')}`);
}

/** The node of side `side`: a join's sides hold state. */
function sideOf(join: JoinNode, side: JoinSide): StatefulOperator {
  return statefulNode(join.parents[side]);
}

function drivingKeys(join: JoinNode, d: Driving, keys: ReadonlyArray<Row>): Map<string, Row> {
  const st = sideOf(join, d.side).state;
  const out = new Map<string, Row>();
  for (const k of keys) {
    const dk = d.perm.map((p) => k[p]);
    out.set(keyString(dk, st.fold), dk);
  }
  return out;
}

/** What must be filled on the join's sides before `keys` (of output `columns`) can be computed. */
export function joinNeeds(join: JoinNode, columns: ReadonlyArray<number>, keys: ReadonlyArray<Row>): SideRequest[] {
  const d = driving(join, columns);
  const other = (1 - d.side) as JoinSide;
  const dNode = sideOf(join, d.side);
  const oNode = sideOf(join, other);
  const dst = dNode.state, ost = oNode.state;
  invariant(join.keyedByJoin(other), 'the other side of a join is keyed by its join columns');
  const dkeys = drivingKeys(join, d, keys);
  const out: SideRequest[] = [];
  const missing = [...dkeys].filter(([ks]) => !answers(dst, ks)).map(([, k]) => k);
  if (missing.length > 0) out.push({ node: dNode, keys: missing });
  const okeys = new Map<string, Row>();
  const want = (v: Row): void => { if (!v.some((x) => x === null)) okeys.set(keyString(v, ost.fold), v); };
  if (join.keyedByJoin(d.side)) for (const k of dkeys.values()) want(k);
  else {
    for (const ks of dkeys.keys()) for (const r of dst.rows(ks) ?? []) want(join.joinValues(d.side, r));
  }
  const omissing = [...okeys].filter(([ks]) => !answers(ost, ks)).map(([, k]) => k);
  if (omissing.length > 0) out.push({ node: oNode, keys: omissing });
  return out;
}

/** The join's output rows for `keys`, from side states that hold everything {@link joinNeeds} named. */
export function joinRows(join: JoinNode, columns: ReadonlyArray<number>, keys: ReadonlyArray<Row>): Row[] {
  const d = driving(join, columns);
  const dst = sideOf(join, d.side).state;
  const other = (1 - d.side) as JoinSide;
  const out: Row[] = [];
  for (const ks of drivingKeys(join, d, keys).keys()) {
    const rows = dst.rows(ks);
    invariant(rows !== undefined, 'a driving key went missing during a join fill');
    for (const r of rows) {
      const o = join.lookup(other, join.joinValues(d.side, r));
      invariant(o !== undefined, 'a join value went missing during a join fill');
      if (d.side === 0) join.joinLeft(r, o, out);
      else for (const l of o) out.push(join.combine(l, r));
    }
  }
  return out;
}

/** Computes `keys` of the plan's node through its join and installs them. Synchronous. */
export function fillThroughJoin(plan: JoinFill, keys: ReadonlyArray<Row>): void {
  const st = plan.node.state;
  const todo = keys.filter((k) => !st.has(keyString(k, st.fold)));
  if (todo.length === 0) return;
  let rows = joinRows(plan.join, plan.columns, todo);
  let from: Operator = plan.join;
  for (const op of plan.chain) {
    rows = op.onBatch(op.parents.indexOf(from), positives(rows), { position: null }).output.map((x) => x.row);
    from = op;
  }
  st.fillFromInput(todo, rows);
}
