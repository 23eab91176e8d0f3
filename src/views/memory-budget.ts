/**
 * The memory budget ([note: memory-budget], src/dataflow/usage.ts): every cache's state together
 * stays under `--memory-limit`. A check (on a timer, and after fills) estimates each state's bytes
 * from a sample of its entries; past the limit it evicts the keys with the oldest usage ticks among
 * samples of every state, until the estimate is back under 90% of the limit.
 *
 * What a victim takes with it: a reader's key goes with the keys of the states it was filled from
 * one to one (the ancestors its fill plan names, up to a join or the tables), so a hot reader key
 * is never lost because the aggregate below it was not read itself; those states are not sampled
 * on their own. Other states (join sides, union branches) are sampled by their own ticks. Every
 * eviction goes through the graph, so what was derived from a key leaves with it
 * ([note: evict-downstream]) and answers stay exact: a key evicted is a hole, filled again on its
 * next read.
 */
import type { Logger } from 'pino';
import type { Graph } from '../dataflow/graph.js';
import type { Operator, StatefulOperator, UnionNode } from '../dataflow/operator.js';
import type { Row } from '../dataflow/delta.js';
import type { EvictionCandidate } from '../dataflow/state.js';
import { keyString } from '../dataflow/state.js';

/** Evicting stops under this fraction of the limit, so a check does not run at every fill. */
const LOW_WATER = 0.9;
/** Entries sampled per state and round (more for big states, see #round). */
const SAMPLE = 16;
/** Rounds a check may run before it yields (the next check goes on). */
const MAX_ROUNDS = 64;

interface Victim extends EvictionCandidate {
  readonly node: StatefulOperator;
  readonly perKey: number;
}

/** How one reader key maps to the keys of the states it was filled from, one to one. */
type Tie = { readonly node: StatefulOperator; readonly toKey: (key: Row) => Row };

export class MemoryBudget {
  readonly limitBytes: number;
  /** The state's estimated bytes at the last check. */
  stateBytes = 0;
  /** Keys evicted to keep the limit, in all. */
  evictions = 0;
  /** Per node, keys evicted to keep the limit (per cache: its nodes' counts). */
  readonly evictedBy = new WeakMap<Operator, number>();
  readonly #graph: Graph;
  readonly #log: Logger;
  #warned = false;
  /** Bytes per key of each state at the last check. */
  #perKey = new Map<StatefulOperator, number>();

  constructor(graph: Graph, limitBytes: number, log: Logger) {
    this.#graph = graph;
    this.limitBytes = limitBytes;
    this.#log = log;
  }

  /** Estimates the state's bytes and evicts the coldest keys while they are past the limit. */
  check(): void {
    const { sampled, ties } = this.#states();
    let total = 0;
    const perKey = new Map<StatefulOperator, number>();
    const scratch: EvictionCandidate[] = [];
    for (const n of this.#stateful()) {
      const bytes = n.state.sample(SAMPLE, scratch);
      scratch.length = 0;
      total += bytes;
      perKey.set(n, n.state.size > 0 ? bytes / n.state.size : 0);
    }
    this.stateBytes = total;
    this.#perKey = perKey;
    if (total <= this.limitBytes) return;
    const low = this.limitBytes * LOW_WATER;
    // What is left, from the states' sizes (an eviction also takes what was derived from a key).
    const estimate = (): number => {
      let n = 0;
      for (const [node, per] of perKey) n += node.state.size * per;
      return n;
    };
    let current = total;
    for (let round = 0; round < MAX_ROUNDS && current > low; round++) {
      const victims = this.#round(sampled, perKey);
      if (victims.length === 0) break;
      // The older half of each round goes: a sampled approximation of least-recently-used.
      victims.sort((a, b) => a.used - b.used);
      const take = Math.max(1, victims.length >> 1);
      let excess = current - low;
      for (let i = 0; i < take && excess > 0; i++) excess -= this.#evict(victims[i], ties, perKey);
      current = estimate();
    }
    this.stateBytes = Math.round(current);
    const excess = current - this.limitBytes;
    if (excess <= 0) this.#warned = false;
    else if (!this.#warned) {
      this.#warned = true;
      this.#log.warn({ limitBytes: this.limitBytes, stateBytes: total }, 'the memory limit could not be reached in one check; evicting goes on at the next');
    }
  }

  /** A node's bytes as the last check estimated them (no scan of its entries). */
  bytesOf(node: Operator): number {
    const per = this.#perKey.get(node as StatefulOperator) ?? 0;
    return Math.round((node.state?.size ?? 0) * per);
  }

  /** Evicts the branch keys of union key `key` that no present union key is derived from any more. */
  #dropOrphanBranches(union: UnionNode, key: Row, perKey: ReadonlyMap<StatefulOperator, number>): number {
    let freed = 0;
    const need = union.parentKeys([key]);
    union.parents.forEach((p, i) => {
      if (p.state === null || this.#graph.children(p).length !== 1) return;
      const branch = p as StatefulOperator;
      for (const bk of need[i]) {
        const derived = union.state.keysFrom?.(i, branch.state.key, [bk]);
        if (derived !== undefined && derived !== null && derived.length === 0 && this.#graph.evict(branch, [bk]) > 0) freed += perKey.get(branch) ?? 0;
      }
    });
    return freed;
  }

  #stateful(): StatefulOperator[] {
    const out: StatefulOperator[] = [];
    for (const n of this.#graph.nodes()) if (n.state !== null) out.push(n as StatefulOperator);
    return out;
  }

  /**
   * The states sampled on their own, and per reader the states tied to its keys: the ancestors it
   * fills from one to one, and the join sides whose key the reader's key determines.
   */
  #states(): { sampled: StatefulOperator[]; ties: Map<StatefulOperator, Tie[]> } {
    const held = new Set<StatefulOperator>();
    const ties = new Map<StatefulOperator, Tie[]>();
    const readersOf = new Map<StatefulOperator, number>();
    for (const n of this.#graph.nodes()) {
      if (n.kind !== 'reader') continue;
      const chain: Tie[] = [];
      this.#tie(n, (k) => k, chain, held);
      for (const t of chain) readersOf.set(t.node, (readersOf.get(t.node) ?? 0) + 1);
      ties.set(n, chain);
    }
    // A state tied to several readers (two caches sharing an aggregate or a join side) is not
    // evicted through one of them, whose cold key could be another's hot one: it is sampled by its
    // own ticks instead.
    for (const [reader, chain] of ties) {
      const own = chain.filter((t) => readersOf.get(t.node) === 1);
      if (own.length !== chain.length) ties.set(reader, own);
    }
    for (const [node, n] of readersOf) if (n > 1 && node.kind !== 'reader') held.delete(node);
    return { sampled: this.#stateful().filter((n) => !held.has(n)), ties };
  }

  /** Follows `node`'s fill plan, adding the states its keys determine (`toKey` maps a reader key). */
  #tie(node: StatefulOperator, toKey: (key: Row) => Row, chain: Tie[], held: Set<StatefulOperator>): void {
    const plan = this.#graph.fillPlan(node);
    switch (plan.kind) {
      case 'mysql':
        return;
      case 'ancestor': {
        const next = (k: Row): Row => plan.toAncestorKey(toKey(k));
        chain.push({ node: plan.ancestor, toKey: next });
        held.add(plan.ancestor);
        this.#tie(plan.ancestor, next, chain, held);
        return;
      }
      case 'parents':
        // A union's branch keys leave with the last union key they serve (#dropOrphanBranches), not
        // by their own ticks, which reads of the union never refresh; a branch other nodes read
        // too is ranked by its own use.
        for (const p of plan.node.parents) if (p.state !== null && this.#graph.children(p).length === 1) held.add(p as StatefulOperator);
        return;
      case 'join': {
        const { join, columns } = plan;
        for (const side of [0, 1] as const) {
          const sideNode = join.parents[side];
          if (sideNode.state === null) continue;
          const at = sideNode.state.key.map((c) => {
            let i = columns.indexOf(join.outputOf(side, c));
            // A join column equals its pair on the other side.
            const j = join.joinColumns[side].indexOf(c);
            if (i < 0 && j >= 0) i = columns.indexOf(join.outputOf(side === 0 ? 1 : 0, join.joinColumns[side === 0 ? 1 : 0][j]));
            return i;
          });
          if (at.some((i) => i < 0)) continue;
          const next = (k: Row): Row => { const r = toKey(k); return at.map((i) => r[i]); };
          const st = sideNode as StatefulOperator;
          chain.push({ node: st, toKey: next });
          held.add(st);
          this.#tie(st, next, chain, held);
        }
        return;
      }
    }
  }

  /**
   * Evicts every key of `readers` with the states tied to them, without touching what other caches
   * share beyond those keys (the idle-cache emptying, src/views/engine.ts).
   */
  emptyReaders(readers: ReadonlyArray<StatefulOperator>): void {
    if (readers.length === 0) return;
    const { ties } = this.#states();
    for (const reader of readers) {
      const chain = ties.get(reader) ?? [];
      for (const k of [...reader.state.keyRows()]) this.#evictKey(reader, k, chain, this.#perKey);
    }
  }

  /**
   * Evicts `key` of `node` with the keys of the states tied to it, top-down (their eviction travels
   * down to the node's key), then the union branch keys it was the last to use; the tied states'
   * bytes freed, estimated.
   */
  #evictKey(node: StatefulOperator, key: Row, chain: ReadonlyArray<Tie>, perKey: ReadonlyMap<StatefulOperator, number>): number {
    let freed = 0;
    for (let i = chain.length - 1; i >= 0; i--) {
      const t = chain[i];
      if (this.#graph.evict(t.node, [t.toKey(key)]) > 0) freed += perKey.get(t.node) ?? 0;
    }
    if (node.state.has(keyString(key, node.state.fold))) this.#graph.evict(node, [key]);
    for (const t of chain) if (t.node.kind === 'union') freed += this.#dropOrphanBranches(t.node, t.toKey(key), perKey);
    return freed;
  }

  #round(states: ReadonlyArray<StatefulOperator>, perKey: ReadonlyMap<StatefulOperator, number>): Victim[] {
    let keys = 0;
    for (const n of states) keys += n.state.size;
    const out: Victim[] = [];
    const scratch: EvictionCandidate[] = [];
    for (const n of states) {
      const size = n.state.size;
      if (size === 0) continue;
      // Bigger states give more candidates, so every key has about the same chance to be looked at.
      const want = Math.min(size, Math.max(4, Math.ceil((SAMPLE * 8 * size) / Math.max(1, keys))));
      n.state.sample(want, scratch);
      const per = perKey.get(n) ?? 0;
      for (const c of scratch) out.push({ keyRow: c.keyRow, used: c.used, node: n, perKey: per });
      scratch.length = 0;
    }
    return out;
  }

  /** Evicts one victim (with its tied states' keys); the bytes it freed, estimated. */
  #evict(v: Victim, ties: ReadonlyMap<StatefulOperator, Tie[]>, perKey: ReadonlyMap<StatefulOperator, number>): number {
    const st = v.node.state;
    if (!st.has(keyString(v.keyRow, st.fold))) return 0;
    const freed = v.perKey + this.#evictKey(v.node, v.keyRow, ties.get(v.node) ?? [], perKey);
    this.evictions++;
    this.evictedBy.set(v.node, (this.evictedBy.get(v.node) ?? 0) + 1);
    return freed;
  }
}
