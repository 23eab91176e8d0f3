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
 *
 * [note: memory-process] The estimate counts the state; the process holds more: V8's garbage (of
 * reads, fills, evicted keys), which piles up to several times the live heap before a major
 * collection, and what its sessions hold. With a {@link ProcessMemory} (Rotor's own process, never
 * the tests'), each check also compares what the process holds (V8 heap used + external memory)
 * over what it held when the budget was made with PROCESS_FACTOR × the limit. Past it, the check
 * collects the garbage (at most once per COLLECT_EVERY_MS) and measures again; if the process is
 * still past it, what it holds besides the state is live (sessions, buffers), and the state's
 * target becomes what is left of PROCESS_FACTOR × the limit once that is counted (never under
 * MIN_SHARE of the limit nor over it), until the process is back under. Pinned by
 * test/views/memory-process.test.ts.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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
/**
 * [note: memory-process] What the process may hold over its start (heap used + external), in
 * limits: 1.5, so that its RSS, which also carries V8's free pages, stays within about twice.
 */
const PROCESS_FACTOR = 1.5;
/** [note: memory-process] Collections the budget asks for are at least this far apart. */
const COLLECT_EVERY_MS = 2_000;
/** [note: memory-process] The state's target never goes under this share of the limit. */
const MIN_SHARE = 0.25;

/** What the process holds, as the budget follows it ([note: memory-process]). */
export interface ProcessMemory {
  /** Bytes held now: V8 heap used plus memory outside it (Buffers). */
  held(): number;
  /** Runs a full garbage collection; null when the process cannot ask for one. */
  readonly collect: (() => void) | null;
  /** Collections are at least this far apart (default COLLECT_EVERY_MS). */
  readonly collectEveryMs?: number;
}

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
  readonly #process: ProcessMemory | null;
  /** What the process held when the budget was made. */
  readonly #processStart: number;
  #lastCollect = -Infinity;
  /** The bytes the state may take: the limit, or less while the process is past its share. */
  targetBytes: number;
  /** Garbage collections the budget asked for ([note: memory-process]). */
  collections = 0;

  constructor(graph: Graph, limitBytes: number, log: Logger, processMemory: ProcessMemory | null = null) {
    this.#graph = graph;
    this.limitBytes = limitBytes;
    this.targetBytes = limitBytes;
    this.#log = log;
    this.#process = processMemory;
    this.#processStart = processMemory?.held() ?? 0;
  }

  /** [note: memory-process] The state's target, given the state's estimated bytes. */
  #followProcess(stateBytes: number): number {
    const p = this.#process;
    if (p === null) return this.limitBytes;
    const ceiling = PROCESS_FACTOR * this.limitBytes;
    let grown = p.held() - this.#processStart;
    if (grown <= ceiling) return (this.targetBytes = this.limitBytes);
    const now = performance.now();
    // Only a measure taken just after a collection tells live memory from garbage: the target
    // stays as it is between collections.
    if (p.collect === null || now - this.#lastCollect < (p.collectEveryMs ?? COLLECT_EVERY_MS)) return this.targetBytes;
    p.collect();
    this.collections++;
    this.#lastCollect = now;
    grown = p.held() - this.#processStart;
    if (grown <= ceiling) return (this.targetBytes = this.limitBytes);
    const other = Math.max(0, grown - stateBytes);
    this.targetBytes = Math.max(this.limitBytes * MIN_SHARE, Math.min(this.limitBytes, ceiling - other));
    return this.targetBytes;
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
    const target = this.#followProcess(total);
    if (total <= target) return;
    const low = target * LOW_WATER;
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
    const excess = current - target;
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
    // Keys of the readers tied to each state.
    const readerKeys = new Map<StatefulOperator, number>();
    for (const n of this.#graph.nodes()) {
      if (n.kind !== 'reader') continue;
      const chain: Tie[] = [];
      this.#tie(n, (k) => k, chain, held);
      for (const t of chain) {
        readersOf.set(t.node, (readersOf.get(t.node) ?? 0) + 1);
        readerKeys.set(t.node, (readerKeys.get(t.node) ?? 0) + (n.state?.size ?? 0));
      }
      ties.set(n, chain);
    }
    // A state holding more keys than its readers (one filled whole, [note: complete-state]) holds
    // keys no reader key takes along: it is sampled by its own ticks as well.
    for (const [node, keys] of readerKeys) if (node.state.size > keys) held.delete(node);
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
   * share beyond those keys (the idle-cache emptying, src/views/engine-upkeep.ts).
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

/**
 * This process's memory, for [note: memory-process]: heap used plus external memory, and a full
 * collection (V8's own `gc`, exposed at run time when Node was started without --expose-gc).
 */
export function ownProcessMemory(): ProcessMemory {
  return {
    held: () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.external;
    },
    collect: exposedGc(),
  };
}

function exposedGc(): (() => void) | null {
  const own = (globalThis as { gc?: () => void }).gc;
  if (typeof own === 'function') return own;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}
