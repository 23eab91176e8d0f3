/**
 * The materialized state of a node with one parent (reader, top-k, distinct, aggregate, keyed
 * rows): present keys ({@link KeyedEntries}), indexed by the values of the input's key columns,
 * filled by the one default fill and changed by batches. Noria's nodes leave materialization to
 * the node layer; here it is this base, and an operator supplies only what an entry holds: an empty
 * entry for a key known to be empty, how one input row of a fill adds to it, and how a delta
 * changes it ({@link Materialized.changeEntries}).
 *
 * A fill installs whole keys: every key asked for becomes present, with the rows routed to it
 * ([note: missing-key]: a key known to be empty is present, with no rows).
 *
 * [note: complete-state] A state filled whole ({@link Materialized.fillWhole}: every row of its
 * input, read at one binlog position) is **complete**: a key it does not hold is known to be empty,
 * not a hole. Complete, a delta for a key not held creates the key's entry (an empty one, then
 * changed as any), and lookups of a key not held answer empty ({@link Materialized.rows}, the
 * reader's answers), so no read of such a key goes to MySQL. Any eviction of a key it holds (the
 * memory budget, an operator that cannot apply a delta, DDL, a binlog reset) makes the state
 * partial again: what is still held stays exact, as in any partial state, and the rest are holes
 * once more, whose deltas are dropped. So as a state turns partial the graph evicts everything
 * below it (src/dataflow/graph.ts): a key below computed from a key it did not hold (a reader key
 * filled empty from a complete aggregate, a join's read of an article without votes) would miss
 * those deltas. Only a node whose input is stateless up to the tables is filled whole
 * (src/views/complete-fills.ts decides which, src/dataflow/upquery.ts reads and installs). Pinned
 * by test/dataflow/complete-state.test.ts, test/e2e/complete-caches.test.ts and
 * test/e2e/complete-review.test.ts.
 */
import type { Delta, Row } from './delta.js';
import { KeyedEntries, type StateEntry } from './keyed-entries.js';
import type { InputState, KeyFold, FillQuery } from './state.js';
import { keyOfRow, keyString } from './state.js';
import type { Operator, SqlShape } from './operator.js';
import { keyRestriction, renderSelect } from './sql.js';
import { invariant } from '../errors.js';

export abstract class Materialized<E extends StateEntry> extends KeyedEntries<E> implements InputState {
  readonly parents: ReadonlyArray<Operator>;
  /** Output columns the state is indexed by. */
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  readonly #inputKey: ReadonlyArray<number>;
  /** [note: complete-state] Every key of the input is held: a key not held is empty. */
  #complete = false;

  /** `inputKey`: the parent's columns that key a row; `key`: the output columns holding them. */
  constructor(parent: Operator, inputKey: ReadonlyArray<number>, fold: ReadonlyArray<KeyFold>, key: ReadonlyArray<number> = inputKey) {
    super();
    this.parents = [parent];
    this.#inputKey = inputKey;
    this.fold = fold;
    this.key = key;
  }

  abstract describe(): string;

  /** An entry holding no rows, for a key known to be empty. */
  protected abstract newEntry(keyRow: Row): E;

  /** Adds one input row of a fill to the entry of its key. */
  protected abstract addRow(e: E, row: Row): void;

  /** Completes an entry once a fill has added all its rows. */
  protected seal(_e: E): void {}

  /** Makes `e` the entry of `key`, in place of any. */
  protected install(key: string, e: E): void {
    this.admit(key, e);
  }

  /** [note: complete-state] Whether a key not held is known to be empty (the state was filled whole, and nothing was evicted since). */
  get complete(): boolean {
    return this.#complete;
  }

  /**
   * A key not held in a complete state stays what it is, empty: nothing to evict, and the state
   * stays complete (the memory budget evicts a reader key's ties whether their states hold them).
   */
  override evict(key: string): boolean {
    if (!this.entries.has(key)) return false;
    this.#complete = false;
    return super.evict(key);
  }

  override evictAll(): number {
    this.#complete = false;
    return super.evictAll();
  }

  /** The rows of a present key; of a key not held, none when the state is complete, else undefined. */
  override rows(key: string): ReadonlyArray<Row> | undefined {
    const r = super.rows(key);
    return r === undefined && this.#complete ? [] : r;
  }

  /**
   * The SQL that fills the whole state (at most `limit` rows of it), for {@link fillWhole): the
   * stateless nodes above, unrestricted; null when the state cannot be filled whole.
   */
  wholeQuery(limit: number): string | null {
    const p = this.parentSql();
    return `${renderSelect(p, p.select, [])} LIMIT ${Math.floor(limit)}`;
  }

  /**
   * Installs the rows of {@link wholeQuery}, each under its key, and makes the state complete
   * ([note: complete-state]). The caller evicts what was held first and replays the batches the
   * rows have not seen.
   */
  fillWhole(rows: ReadonlyArray<Row>): void {
    const keys = new Map<string, Row>();
    for (const row of rows) {
      const k = keyOfRow(row, this.#inputKey, this.fold);
      if (!keys.has(k)) keys.set(k, this.#keyRow(row));
    }
    this.fill([...keys.values()], rows);
    this.#complete = true;
  }

  /** The values of an input row's key columns. */
  #keyRow(row: Row): Row {
    return this.#inputKey.map((c) => row[c]);
  }

  /** For a subclass's own {@link fillWhole}: every key is now held. */
  protected markComplete(): void {
    this.#complete = true;
  }

  /** The node is its own state. */
  get state(): this {
    return this;
  }

  inputKey(): ReadonlyArray<number> {
    return this.#inputKey;
  }

  fillFromInput(keys: ReadonlyArray<Row>, inputRows: ReadonlyArray<Row>): void {
    this.fill(keys, inputRows);
  }

  /** The rows of the keys, as the stateless nodes above yield them: installed by {@link fillFromInput}. */
  fillQuery(keys: ReadonlyArray<Row>): FillQuery {
    const p = this.parentSql();
    const restrict = keyRestriction(this.#inputKey.map((i) => p.select[i]), keys);
    return { sql: renderSelect(p, p.select, [restrict]), install: (rows) => this.fillFromInput(keys, rows) };
  }

  /** The SQL of the nodes above, which MUST all be stateless up to the tables. */
  protected parentSql(): SqlShape {
    const p = this.parents[0].sql();
    invariant(p !== null, `${this.describe()} fills from MySQL only when the nodes above it are stateless`);
    return p;
  }

  /**
   * Installs `keys`, each with the rows among `rows` whose columns `by` hold its values (the input
   * key by default), added by `add` (by default {@link addRow}).
   */
  protected fill(keys: ReadonlyArray<Row>, rows: ReadonlyArray<Row>, add?: (e: E, row: Row) => void, by: ReadonlyArray<number> = this.#inputKey): void {
    const filling = new Map<string, E>();
    for (const k of keys) filling.set(keyString(k, this.fold), this.newEntry(k));
    for (const row of rows) {
      const e = filling.get(keyOfRow(row, by, this.fold));
      if (e === undefined) continue;
      if (add === undefined) this.addRow(e, row);
      else add(e, row);
    }
    for (const [k, e] of filling) {
      this.seal(e);
      this.install(k, e);
    }
  }

  /**
   * Applies each delta to the entry of its key with `change`, and drops deltas for missing keys
   * ([note: missing-key]) — in a complete state a key not held is empty, and its delta is applied
   * to a new empty entry ([note: complete-state]). A key for which `change` returns false is not
   * what MySQL holds: the rest of the batch skips it, and it is among the keys returned, for the
   * operator to evict ([note: evict-not-guess]); null when every key held.
   */
  protected changeEntries(deltas: ReadonlyArray<Delta>, change: (e: E, d: Delta, key: string) => boolean): Set<string> | null {
    let broken: Set<string> | null = null;
    for (const d of deltas) {
      const k = keyOfRow(d.row, this.#inputKey, this.fold);
      if (broken?.has(k)) continue;
      let e = this.entries.get(k);
      if (e === undefined) {
        if (!this.#complete) continue;
        e = this.newEntry(this.#keyRow(d.row));
        this.install(k, e);
      }
      if (!change(e, d, k)) (broken ??= new Set()).add(k);
    }
    return broken;
  }
}
