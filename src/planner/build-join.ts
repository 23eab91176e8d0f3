/**
 * JoinPlan → dataflow nodes (planner/join.ts chose every key). Each source becomes a stateful side:
 *
 *   base(table) → [σ its own conditions] → rows[key] (by join columns)     a table or derived SELECT
 *   base(table) → [σ WHERE] → γ[join columns, …] aggregates                a derived GROUP BY
 *
 * and the steps join them left-deep; after the first step the row so far is kept keyed again
 * (rows[key] over the join) so the next join can look it up:
 *
 *   side₀ ─┐
 *          ⋈ ─→ rows[key] ─┐
 *   side₁ ─┘               ⋈ ─→ …
 *                side₂ ────┘
 */
import type { Operator } from '../dataflow/operator.js';
import { invariant } from '../errors.js';
import { Filter } from '../operators/filter.js';
import { Aggregate } from '../operators/grouped.js';
import { Join } from '../operators/join.js';
import { KeyedRows } from '../operators/keyed-rows.js';
import { baseTableOf, ruleOf, type BuildOptions } from './build-parts.js';
import type { JoinPlan, JoinSource } from './query-plan.js';
import { keyFoldOf, type ColumnInfo } from './schema.js';

/** Adds a node to the graph (or finds the equal one there) and records it as the cache's. */
export type Add = <T extends Operator>(op: T) => T;

interface Side {
  readonly node: Operator;
  /** The side node's column for each visible column of the source. */
  readonly picks: ReadonlyArray<number>;
}

function sideOf(add: Add, s: JoinSource, opts: BuildOptions, copy = false): Side {
  const cols = s.schema.columns;
  let top: Operator = add(baseTableOf(s.schema));
  if (s.where !== null) top = add(new Filter(top, s.where));
  const agg = s.aggregate;
  if (agg === null) {
    const key = s.key.map((v) => s.columns[v]);
    const index = s.index?.map((v) => s.columns[v]) ?? null;
    const node = add(new KeyedRows(top, {
      key, fold: key.map((c) => keyFoldOf(cols[c])), index, indexFold: (index ?? []).map((c) => keyFoldOf(cols[c])), ...(copy ? { copy } : {}),
    }));
    return { node, picks: s.columns };
  }
  // The join columns lead the group columns: they are the aggregate's partial key.
  const keyCols = s.key.map((v) => agg.groupBy[s.columns[v]]);
  const groupBy = [...keyCols, ...agg.groupBy.filter((g) => !keyCols.includes(g))];
  const node = add(new Aggregate(top, {
    groupBy, keyCount: keyCols.length, scalar: false,
    rules: agg.rules.map((r) => ruleOf(r, cols, opts)), fold: groupBy.map((c) => keyFoldOf(cols[c])),
  }));
  const at = (stage: number): number => (stage < agg.groupBy.length ? groupBy.indexOf(agg.groupBy[stage]) : stage);
  return { node, picks: s.columns.map(at) };
}

/** Adds the join's nodes (sharing what exists) and returns the last join. */
export function buildJoin(add: Add, plan: JoinPlan, opts: BuildOptions): Operator {
  let left = sideOf(add, plan.sources[0], opts);
  let infos: ColumnInfo[] = plan.sources[0].infos.slice();
  let top: Operator = left.node;
  plan.steps.forEach((step, i) => {
    const src = plan.sources[i + 1];
    if (i > 0) {
      const node = add(new KeyedRows(top, {
        key: step.leftKey, fold: step.leftKey.map((c) => keyFoldOf(infos[c])),
        index: step.leftIndex, indexFold: (step.leftIndex ?? []).map((c) => keyFoldOf(infos[c])),
      }));
      left = { node, picks: infos.map((_, c) => c) };
    }
    let right = sideOf(add, src, opts);
    // [note: self-join] A table joined with itself under equal conditions and keys would make both
    // sides one shared node: the right side is kept as a copy of its own.
    if (right.node === left.node) {
      invariant(right.node.kind === 'keyed-rows', `both sides of a join are ${right.node.describe()}`);
      right = sideOf(add, src, opts, true);
    }
    const l = left;
    top = add(new Join(l.node, right.node, {
      kind: step.kind,
      on: step.on.map(([a, b]) => [l.picks[a], right.picks[b]] as const),
      fold: step.on.map(([a]) => keyFoldOf(infos[a])),
      picks: [l.picks, right.picks],
    }));
    infos = [...infos, ...src.infos];
  });
  return top;
}
