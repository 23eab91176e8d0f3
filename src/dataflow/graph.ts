/**
 * The dataflow graph: nodes shared by signature, batches pushed through them in topological order,
 * evictions carried downstream, fills delivered from a stateful ancestor, and the per-key fences
 * of [note: fill-position].
 *
 * [note: evict-downstream] When a key leaves a node's state (evicted for memory, or because the
 * node could not update it, [note: evict-not-guess]), every node below that derived rows from it
 * evicts them too: the eviction travels down the same paths the fills came by, following column
 * provenance ({@link Operator.source}) or a join's own tracing, and evicts everything below when
 * the key columns are not carried. So a key present below never outlives what it came from. A
 * complete state ([note: complete-state]) that turns partial takes everything below with it: keys
 * below may have come from keys it did not hold, which no eviction names.
 *
 * Everything here is synchronous: a batch reaches every node before anything else runs, so a
 * reader never observes half a transaction.
 */
import { consolidate, type Delta, type Row } from './delta.js';
import { positives, type BatchContext, type JoinNode, type Operator, type InputNode, type ReaderNode, type StatefulOperator, type StatelessNode, type TableSource, type UnionNode } from './operator.js';
import { keyOfRow, keyString, rowsOfKey, type KeyedState } from './state.js';
import { comparePositions, type Batch, type BinlogPosition } from './batch.js';
import { invariant } from '../errors.js';

/**
 * Where a stateful node's missing keys come from, one kind per way ({@link Graph.fillPlan}):
 * - `mysql`: no state above: the stateless nodes up to the tables describe the SQL (its
 *   {@link InputState.fillQuery});
 * - `ancestor`: from the nearest stateful ancestor's state (filled first itself), through the
 *   stateless nodes between;
 * - `join`: through a join, whose sides are filled first ([note: join-fill]);
 * - `parents`: a union, from its branches' states (each filled first).
 */
export type FillPlan = MysqlFill | AncestorFill | JoinFill | ParentsFill;

export interface MysqlFill {
  readonly kind: 'mysql';
  readonly node: InputNode;
}

export interface AncestorFill {
  readonly kind: 'ancestor';
  readonly node: InputNode;
  readonly ancestor: StatefulOperator;
  /** Stateless nodes between the ancestor (exclusive) and the node (exclusive), top-down. */
  readonly chain: ReadonlyArray<StatelessNode>;
  /** The ancestor's key for one of the node's keys. */
  readonly toAncestorKey: (key: Row) => Row;
}

export interface JoinFill {
  readonly kind: 'join';
  readonly node: InputNode;
  readonly join: JoinNode;
  /** The join's output columns holding the node's key columns, in key order. [note: join-fill] */
  readonly columns: ReadonlyArray<number>;
  /** Stateless nodes between the join (exclusive) and the node (exclusive), top-down. */
  readonly chain: ReadonlyArray<StatelessNode>;
}

export interface ParentsFill {
  readonly kind: 'parents';
  readonly node: UnionNode;
}

interface Restriction {
  readonly target: Operator;
  /** Null: every key. */
  readonly keys: ReadonlySet<string> | null;
  readonly allowed: ReadonlySet<Operator>;
}

export class Graph {
  readonly #bySignature = new Map<string, Operator>();
  readonly #index = new Map<Operator, number>();
  readonly #children = new Map<Operator, Operator[]>();
  readonly #refs = new Map<Operator, number>();
  readonly #bases = new Map<string, TableSource[]>();
  readonly #fences = new Map<Operator, { max: BinlogPosition; keys: Map<string, BinlogPosition> }>();
  readonly #plans = new Map<Operator, FillPlan>();
  #next = 0;

  /**
   * Adds a node, or returns the existing node with the same signature (sharing). A node lives while
   * it has children or is {@link retain}ed (a cache retains its reader).
   */
  add<T extends Operator>(op: T): T {
    const existing = this.#bySignature.get(op.signature);
    if (existing !== undefined) return existing as T;
    for (const p of op.parents) invariant(this.#index.has(p), `parent of ${op.describe()} is not in the graph`);
    this.#bySignature.set(op.signature, op);
    this.#index.set(op, this.#next++);
    this.#children.set(op, []);
    this.#refs.set(op, 0);
    for (const p of op.parents) {
      this.#children.get(p)?.push(op);
      this.#refs.set(p, (this.#refs.get(p) ?? 0) + 1);
    }
    if (op.kind === 'base') {
      const k = `${op.database}.${op.table}`;
      this.#bases.set(k, [...(this.#bases.get(k) ?? []), op]);
    }
    return op;
  }

  retain(op: Operator): void {
    this.#refs.set(op, (this.#refs.get(op) ?? 0) + 1);
  }

  /** Drops one reference to a node; a node nobody uses leaves the graph and releases its parents. */
  release(op: Operator): void {
    const n = (this.#refs.get(op) ?? 0) - 1;
    if (n > 0) { this.#refs.set(op, n); return; }
    this.#bySignature.delete(op.signature);
    this.#index.delete(op);
    this.#children.delete(op);
    this.#refs.delete(op);
    this.#fences.delete(op);
    this.#plans.delete(op);
    if (op.kind === 'base') {
      const k = `${op.database}.${op.table}`;
      const rest = (this.#bases.get(k) ?? []).filter((b) => b !== op);
      if (rest.length > 0) this.#bases.set(k, rest);
      else this.#bases.delete(k);
    }
    for (const p of op.parents) {
      const c = this.#children.get(p);
      if (c) c.splice(c.indexOf(op), 1);
      this.release(p);
    }
  }

  /** The base nodes of a table (several only while caches are rebuilt after ALTER TABLE). */
  bases(database: string, table: string): ReadonlyArray<TableSource> {
    return this.#bases.get(`${database}.${table}`) ?? [];
  }

  nodes(): IterableIterator<Operator> {
    return this.#index.keys();
  }

  children(op: Operator): ReadonlyArray<Operator> {
    return this.#children.get(op) ?? [];
  }

  /** Applies one transaction to every node. Synchronous: MUST NOT await. */
  applyBatch(batch: Batch): void {
    const seeds = new Map<Operator, Array<[number, ReadonlyArray<Delta>]>>();
    for (const change of batch.changes) {
      if (change.deltas.length === 0) continue;
      for (const base of this.#bases.get(`${change.database}.${change.table}`) ?? []) {
        const list = seeds.get(base) ?? [];
        list.push([0, base.deltasOf(change)]);
        seeds.set(base, list);
      }
    }
    if (seeds.size === 0) return;
    for (const [node, f] of this.#fences) if (comparePositions(batch.position, f.max) > 0) this.#fences.delete(node);
    this.#propagate(seeds, { position: batch.position }, null);
  }

  /**
   * Re-applies `batches` to `target` for `keys` only (every key: null, after a fill of the whole
   * state, [note: complete-state]), through its (stateless) ancestors: the batches a fill taken at
   * an older snapshot has not seen. [note: fill-position]
   */
  replay(target: StatefulOperator, keys: ReadonlyArray<Row> | null, batches: ReadonlyArray<Batch>): void {
    const st = target.state;
    const allowed = new Set<Operator>();
    const walk = (n: Operator): void => { if (!allowed.has(n)) { allowed.add(n); n.parents.forEach(walk); } };
    walk(target);
    const restrict: Restriction = { target, keys: keys === null ? null : new Set(keys.map((k) => keyString(k, st.fold))), allowed };
    for (const batch of batches) {
      const seeds = new Map<Operator, Array<[number, ReadonlyArray<Delta>]>>();
      for (const change of batch.changes) {
        for (const base of this.#bases.get(`${change.database}.${change.table}`) ?? []) {
          if (allowed.has(base)) seeds.set(base, [...(seeds.get(base) ?? []), [0, base.deltasOf(change)]]);
        }
      }
      if (seeds.size > 0) this.#propagate(seeds, { position: batch.position }, restrict);
    }
  }

  /**
   * `keys` of `node` were just filled: with the stream behind the fill's `position`, batches at or
   * before it skip them; with the stream at or past it (`position` null), no fence is left on them
   * from an earlier fill — a fence older than the fill it outlived would skip batches the new fill
   * has not seen (an earlier locking read's position can be past a later snapshot's).
   */
  fence(node: StatefulOperator, keys: ReadonlyArray<Row>, position: BinlogPosition | null): void {
    if (position === null) {
      this.#dropFences(node, keys);
      return;
    }
    // A node released while its fill was in flight receives no more batches: nothing to fence.
    if (!this.#index.has(node)) return;
    const st = node.state;
    let f = this.#fences.get(node);
    if (f === undefined) this.#fences.set(node, (f = { max: position, keys: new Map() }));
    else if (comparePositions(position, f.max) > 0) f.max = position;
    for (const k of keys) f.keys.set(keyString(k, st.fold), position);
  }

  #propagate(seeds: Map<Operator, Array<[number, ReadonlyArray<Delta>]>>, ctx: BatchContext, restrict: Restriction | null): void {
    const pending = seeds;
    while (pending.size > 0) {
      let node: Operator | null = null;
      let best = Infinity;
      for (const n of pending.keys()) {
        const i = this.#index.get(n) ?? Infinity;
        if (i < best) { best = i; node = n; }
      }
      if (node === null) break;
      const inputs = mergeByParent(pending.get(node) ?? []);
      pending.delete(node);
      for (const [from, input] of inputs) {
        let deltas = input;
        if (node.state !== null) {
          if (restrict !== null && restrict.target === node) deltas = restrict.keys === null ? deltas : this.#onlyKeys(node.state, from, deltas, restrict.keys);
          else if (restrict === null) deltas = this.#unfenced(node, from, deltas, ctx);
        }
        if (deltas.length === 0) continue;
        const wasComplete = node.state?.complete === true;
        const r = node.onBatch(from, deltas, ctx);
        // [note: complete-state] It evicted a key: what below came from keys it did not hold goes too.
        if (wasComplete && node.state?.complete !== true) this.#evictBelow(node);
        if (r.evicted.length > 0 || r.evictBelow !== undefined) {
          this.#collecting = restrict === null;
          try {
            if (this.#collecting && node.kind === 'reader') this.#record(node, r.evicted);
            if (r.evicted.length > 0) {
              // The key's next fill sets its own fence (or none): this one must not outlive it.
              this.#dropFences(node, r.evicted);
              this.#evictChildren(node, r.evicted);
            }
            for (const e of r.evictBelow ?? []) {
              for (const child of this.#children.get(node) ?? []) this.#evictInto(child, child.parents.indexOf(node), e.columns, e.keys);
            }
          } finally {
            this.#collecting = false;
          }
        }
        if ((restrict !== null && restrict.target === node) || r.output.length === 0) continue;
        for (const child of this.#children.get(node) ?? []) {
          if (restrict !== null && !restrict.allowed.has(child)) continue;
          const list = pending.get(child) ?? [];
          list.push([child.parents.indexOf(node), r.output]);
          pending.set(child, list);
        }
      }
    }
  }

  #onlyKeys(st: KeyedState, from: number, deltas: ReadonlyArray<Delta>, keys: ReadonlySet<string>): ReadonlyArray<Delta> {
    const cols = st.inputKey(from);
    return deltas.filter((d) => keys.has(keyOfRow(d.row, cols, st.fold)));
  }

  // [note: fill-position] A key filled at snapshot P already contains every batch at or before P;
  // when the stream is behind P, those batches arrive after the fill and must not count twice.
  #unfenced(node: Operator, from: number, deltas: ReadonlyArray<Delta>, ctx: BatchContext): ReadonlyArray<Delta> {
    const f = this.#fences.get(node);
    const st = node.state;
    if (f === undefined || st === null || ctx.position === null) return deltas;
    const cols = st.inputKey(from);
    const position = ctx.position;
    return deltas.filter((d) => {
      const k = keyOfRow(d.row, cols, st.fold);
      const p = f.keys.get(k);
      if (p === undefined) return true;
      if (comparePositions(position, p) <= 0) return false;
      f.keys.delete(k);
      return true;
    });
  }

  /** Evicts keys (rows of `node`'s key columns) from `node` and everything derived from them. */
  evict(node: Operator, keys: ReadonlyArray<Row>): number {
    const st = node.state;
    invariant(st !== null, 'evict from a stateless node');
    const wasComplete = st.complete === true;
    const gone = keys.filter((k) => st.evict(keyString(k, st.fold)));
    if (this.#collecting && node.kind === 'reader' && gone.length > 0) this.#record(node, gone);
    this.#dropFences(node, gone);
    // [note: complete-state] A complete state turned partial: what below came from keys it did not hold goes too.
    if (wasComplete && st.complete !== true) this.#evictBelow(node);
    else if (gone.length > 0) this.#evictChildren(node, gone);
    return gone.length;
  }

  /** Evicts every key of `node` and everything below it. */
  evictAll(node: Operator): number {
    const n = node.state?.evictAll() ?? 0;
    this.#fences.delete(node);
    this.#evictBelow(node);
    return n;
  }

  /** Evicts everything below `node` (not `node` itself). */
  #evictBelow(node: Operator): void {
    for (const c of this.#children.get(node) ?? []) this.evictAll(c);
  }

  #collecting = false;
  #ruleEvictions: Array<{ reader: ReaderNode; keys: ReadonlyArray<Row> }> = [];

  #record(reader: ReaderNode, keys: ReadonlyArray<Row>): void {
    if (this.#ruleEvictions.length < 256) this.#ruleEvictions.push({ reader, keys });
  }

  /**
   * Reader keys evicted while applying batches because an operator could not update them
   * ([note: evict-not-guess]), since the last call: the engine refills them in the background, so
   * hot keys stay warm.
   */
  takeRuleEvictions(): Array<{ reader: ReaderNode; keys: ReadonlyArray<Row> }> {
    const out = this.#ruleEvictions;
    this.#ruleEvictions = [];
    return out;
  }

  #dropFences(node: Operator, keys: ReadonlyArray<Row>): void {
    const f = this.#fences.get(node);
    const st = node.state;
    if (f === undefined || st === null) return;
    for (const k of keys) f.keys.delete(keyString(k, st.fold));
  }

  #evictChildren(node: Operator, keys: ReadonlyArray<Row>): void {
    const st = node.state;
    invariant(st !== null, 'eviction from a stateless node');
    for (const child of this.#children.get(node) ?? []) this.#evictInto(child, child.parents.indexOf(node), st.key, keys);
  }

  // `keys` are values of columns `cols` of `child`'s parent `from`.
  #evictInto(child: Operator, from: number, cols: ReadonlyArray<number>, keys: ReadonlyArray<Row>): void {
    const st = child.state;
    if (st !== null) {
      const perm = st.inputKey(from).map((c) => cols.indexOf(c));
      if (perm.some((p) => p < 0)) {
        const derived = st.keysFrom?.(from, cols, keys) ?? null;
        if (derived === null) this.evictAll(child);
        else this.evict(child, derived);
        return;
      }
      this.evict(child, keys.map((k) => perm.map((p) => k[p])));
      return;
    }
    const traced = child.traceEviction?.(from, cols, keys) ?? null;
    if (traced !== null) {
      for (const g of this.#children.get(child) ?? []) this.#evictInto(g, g.parents.indexOf(child), traced.columns, traced.keys);
      return;
    }
    // The child's columns that carry some of `cols`: rows below are named by those (a superset of
    // the rows derived from `keys`, which is safe to evict); with none, everything below goes.
    const out: number[] = [];
    const at: number[] = [];
    cols.forEach((c, i) => {
      for (let j = 0; j < child.columns.length; j++) {
        const s = child.source(j);
        if (s !== null && s.parent === from && s.column === c) { out.push(j); at.push(i); return; }
      }
    });
    if (out.length === 0 && cols.length > 0) { this.evictAll(child); return; }
    const carried = at.length === cols.length ? keys : keys.map((k) => at.map((i) => k[i]));
    for (const g of this.#children.get(child) ?? []) this.#evictInto(g, g.parents.indexOf(child), out, carried);
  }

  /** Where `node`'s missing keys come from. */
  fillPlan(node: StatefulOperator): FillPlan {
    const cached = this.#plans.get(node);
    if (cached !== undefined) return cached;
    const plan: FillPlan = node.kind === 'union' ? { kind: 'parents', node } : this.#walkUp(node);
    // A node released while a fill for it was in flight is not kept alive by its plan.
    if (this.#index.has(node)) this.#plans.set(node, plan);
    return plan;
  }

  // Up from a node with one parent, through stateless nodes, to the first node that is not one.
  #walkUp(node: InputNode): FillPlan {
    invariant(node.parents.length === 1, `fill path of ${node.describe()}, which has several parents`);
    const chain: StatelessNode[] = [];
    let cur = node.parents[0];
    let cols = node.state.inputKey(0).slice();
    for (;;) {
      switch (cur.kind) {
        case 'base':
          return { kind: 'mysql', node };
        case 'join':
          return { kind: 'join', node, join: cur, columns: cols, chain };
        case 'filter':
        case 'project': {
          chain.unshift(cur);
          const c = cur;
          cols = cols.map((i) => {
            const s = c.source(i);
            invariant(s !== null, `${c.describe()} computes a key column`);
            return s.column;
          });
          cur = cur.parents[0];
          break;
        }
        default: {
          const ast = cur.state;
          const perm = ast.key.map((k) => cols.indexOf(k));
          invariant(perm.every((p) => p >= 0), `${node.describe()} cannot fill by the key of ${cur.describe()}`);
          return { kind: 'ancestor', node, ancestor: cur, chain, toAncestorKey: (key) => perm.map((p) => key[p]) };
        }
      }
    }
  }

  /** Fills `keys` of `node` from its stateful ancestor, which MUST hold them. */
  fillFromAncestor(node: InputNode, keys: ReadonlyArray<Row>): void {
    const plan = this.fillPlan(node);
    invariant(plan.kind === 'ancestor', `${node.describe()} does not fill from an ancestor`);
    const ast = plan.ancestor.state;
    const seen = new Set<string>();
    let rows: Row[] = [];
    for (const k of keys) {
      const akRow = plan.toAncestorKey(k);
      const ak = keyString(akRow, ast.fold);
      if (seen.has(ak)) continue;
      seen.add(ak);
      const r = rowsOfKey(ast, akRow);
      invariant(r !== undefined, `ancestor ${plan.ancestor.describe()} lost a key before the fill`);
      rows.push(...r);
    }
    let from: Operator = plan.ancestor;
    for (const op of plan.chain) {
      const out = op.onBatch(op.parents.indexOf(from), positives(rows), { position: null }).output;
      rows = out.map((d) => d.row);
      from = op;
    }
    node.state.fillFromInput(keys, rows);
  }
}

// A node gets one input per parent per batch: a parent that emitted several (a transaction that
// wrote one table twice; a join, once per side) has them merged into their net change. A join's two
// steps may retract a row in one and insert it back in the other (operators/join.ts); only the net
// change may reach state below, or a COUNT(DISTINCT) or a reader would see a row go below zero.
function mergeByParent(inputs: ReadonlyArray<[number, ReadonlyArray<Delta>]>): ReadonlyArray<[number, ReadonlyArray<Delta>]> {
  if (inputs.length < 2) return inputs;
  const merged: Array<[number, Delta[], number]> = [];
  for (const [from, deltas] of inputs) {
    const m = merged.find((x) => x[0] === from);
    if (m === undefined) merged.push([from, deltas.slice(), 1]);
    else {
      for (const d of deltas) m[1].push(d);
      m[2]++;
    }
  }
  return merged.map(([from, deltas, n]) => [from, n > 1 ? consolidate(deltas) : deltas]);
}
