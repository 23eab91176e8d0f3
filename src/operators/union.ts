/**
 * ∪ (UNION / UNION ALL): the rows of several branches, keyed by all their parameters together.
 *
 * Each parent is a branch's stateful node (distinct.ts, counted per branch key), keyed by that
 * branch's own parameters. A union key is one value per parameter of every branch; it is present
 * when the union filled it from its parents' states (never from MySQL: the branches are what
 * upqueries fill, each with its own position fence). A branch row belongs to every present union
 * key whose values for that branch's parameters match, so the union indexes its keys per branch.
 *
 * Output rows are the branch's visible columns followed by the union key. UNION counts each
 * distinct row across branches (row-counts.ts) and emits it on its first occurrence and retracts
 * it with its last; UNION ALL passes every occurrence on.
 */
import type { Delta, Row } from '../dataflow/delta.js';
import { KeyedEntries, type Usage, type StateEntry } from '../dataflow/keyed-entries.js';
import { EMPTY_RESULT, statefulNode, type BatchResult, type Operator, type StatefulOperator, type UnionNode } from '../dataflow/operator.js';
import { keyOfRow, keyString, type KeyFold, type KeyedState } from '../dataflow/state.js';
import { invariant } from '../errors.js';
import type { Value } from '../values.js';
import { RowCounts, type Touched } from './row-counts.js';

export interface UnionBranch {
  /** Columns of the parent's rows holding the branch's parameters (the parent's key). */
  readonly key: ReadonlyArray<number>;
  /** For each of those, which union key column (parameter of the whole query) it is. */
  readonly params: ReadonlyArray<number>;
}

export interface UnionSpec {
  /** UNION ALL keeps duplicates; UNION removes them. */
  readonly all: boolean;
  /** How many leading columns of each parent's rows the union shows. */
  readonly visible: number;
  readonly branches: ReadonlyArray<UnionBranch>;
  /** Per union key column (every parameter, in textual order). */
  readonly fold: ReadonlyArray<KeyFold>;
  readonly paramNames: ReadonlyArray<string>;
  /** How the visible columns compare when deciding whether two rows are the same (UNION). */
  readonly rowFold: ReadonlyArray<KeyFold>;
}

interface Entry extends StateEntry {
  readonly counts: RowCounts;
}

export class Union extends KeyedEntries<Entry> implements UnionNode, KeyedState {
  readonly kind = 'union' as const;
  readonly parents: ReadonlyArray<Operator>;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  readonly #spec: UnionSpec;
  /** The parents, each a branch's state. */
  readonly #branches: ReadonlyArray<StatefulOperator>;
  /** Per branch: the branch key → the present union keys it belongs to. */
  readonly #index: ReadonlyArray<Map<string, Set<string>>>;

  constructor(parents: ReadonlyArray<Operator>, spec: UnionSpec) {
    super();
    invariant(parents.length === spec.branches.length && parents.length > 1, 'a union has one parent per branch');
    invariant(new Set(parents).size === parents.length, 'the branches of a union are distinct nodes');
    this.parents = parents;
    this.#branches = parents.map(statefulNode);
    this.#spec = spec;
    this.columns = [...parents[0].columns.slice(0, spec.visible), ...spec.paramNames];
    this.key = spec.fold.map((_, i) => spec.visible + i);
    this.fold = spec.fold;
    this.#index = spec.branches.map(() => new Map());
    const branches = spec.branches.map((b) => `${b.key.join(',')}>${b.params.join(',')}`).join(';');
    this.signature = `union(${parents.map((p) => p.signature).join('+')}|${spec.all}|${spec.visible}|${branches})`;
  }

  get state(): KeyedState {
    return this;
  }

  describe(): string {
    return `∪${this.#spec.all ? ' ALL' : ''}[${this.#spec.paramNames.join(', ')}] ${this.columns.slice(0, this.#spec.visible).join(', ')}`;
  }

  override source(): null {
    // Every column comes from whichever branch the row came from: no single parent column.
    return null;
  }

  /**
   * No parent row carries a whole union key, so none maps onto it: an eviction from a branch is
   * traced through the index instead ({@link keysFrom}).
   */
  inputKey(): ReadonlyArray<number> {
    return [-1];
  }

  /**
   * The present union keys that branch `from`'s keys (values of its columns `cols`) belong to,
   * from the index every fill builds for every branch of every key it installs; null when `cols`
   * do not hold the branch's whole key (the graph then evicts every union key).
   */
  keysFrom(from: number, cols: ReadonlyArray<number>, keys: ReadonlyArray<Row>): Row[] | null {
    const b = this.#spec.branches[from];
    if (b === undefined) return null;
    const at = b.key.map((c) => cols.indexOf(c));
    if (at.some((i) => i < 0)) return null;
    const folds = b.params.map((p) => this.fold[p]);
    const out: Row[] = [];
    for (const k of keys) {
      for (const ks of this.#index[from].get(keyString(at.map((i) => k[i]), folds)) ?? []) {
        const e = this.entries.get(ks);
        if (e !== undefined) out.push(e.keyRow);
      }
    }
    return out;
  }

  protected entryRows(e: Entry): ReadonlyArray<Row> {
    return e.counts.rows(this.#spec.all);
  }

  protected measure(e: Entry, into: Usage): void {
    e.counts.measure(into);
  }

  override evict(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.#spec.branches.forEach((b, i) => {
      const bk = this.#branchKey(b, e.keyRow);
      const set = this.#index[i].get(bk);
      set?.delete(key);
      if (set?.size === 0) this.#index[i].delete(bk);
    });
    return true;
  }

  override evictAll(): number {
    for (const m of this.#index) m.clear();
    return super.evictAll();
  }

  #branchKey(b: UnionBranch, keyRow: Row): string {
    return keyString(b.params.map((p) => keyRow[p]), b.params.map((p) => this.fold[p]));
  }

  #out(row: Row, keyRow: Row): Row {
    const out: Value[] = row.slice(0, this.#spec.visible);
    for (const v of keyRow) out.push(v);
    return out;
  }

  onBatch(from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (this.entries.size === 0 || deltas.length === 0) return EMPTY_RESULT;
    const b = this.#spec.branches[from];
    const index = this.#index[from];
    const fold = b.params.map((p) => this.fold[p]);
    const touched = new Map<Entry, Touched>();
    const output: Delta[] = [];
    let broken: Set<string> | null = null;
    for (const d of deltas) {
      const keys = index.get(keyOfRow(d.row, b.key, fold));
      if (keys === undefined) continue;
      for (const k of keys) {
        const e = this.entries.get(k);
        if (e === undefined || broken?.has(k)) continue;
        let t = touched.get(e);
        if (t === undefined) touched.set(e, (t = new Map()));
        const out = this.#out(d.row, e.keyRow);
        // Retracting a row the key never counted: the key is not what MySQL holds.
        if (!e.counts.add(out, d.sign, t)) (broken ??= new Set()).add(k);
        else if (this.#spec.all) output.push({ row: out, sign: d.sign });
      }
    }
    const evicted = broken === null ? [] : this.evictKeys(broken);
    const result = broken === null ? output : output.filter((d) => !broken.has(keyOfRow(d.row, this.key, this.fold)));
    if (!this.#spec.all) for (const [e, t] of touched) if (this.entries.get(keyString(e.keyRow, this.fold)) === e) e.counts.settle(t, result);
    return result.length === 0 && evicted.length === 0 ? EMPTY_RESULT : { output: result, evicted };
  }

  parentKeys(keys: ReadonlyArray<Row>): ReadonlyArray<ReadonlyArray<Row>> {
    return this.#spec.branches.map((b) => keys.map((k) => b.params.map((p) => k[p])));
  }

  /** The rows of each union key come from its branches' states, never from one input or MySQL. */
  fillFromParents(keys: ReadonlyArray<Row>): void {
    for (const k of keys) {
      const ks = keyString(k, this.fold);
      if (this.entries.has(ks)) continue;
      const e: Entry = { keyRow: k, used: 0, counts: new RowCounts([...this.#spec.rowFold, ...this.fold]) };
      this.#spec.branches.forEach((b, i) => {
        const st = this.#branches[i].state;
        const bk = this.#branchKey(b, k);
        const rows = st.rows(keyString(b.params.map((p) => k[p]), st.fold));
        invariant(rows !== undefined, `branch ${this.parents[i].describe()} lost a key before the union's fill`);
        for (const r of rows) e.counts.add(this.#out(r, k), 1, null);
        let set = this.#index[i].get(bk);
        if (set === undefined) this.#index[i].set(bk, (set = new Set()));
        set.add(ks);
      });
      this.admit(ks, e);
    }
  }
}
