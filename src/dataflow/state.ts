/**
 * Partial keyed state: what a stateful node knows, indexed by the values of its key columns.
 *
 * A key is either **missing** (not in the map: unknown, to be filled on demand) or **present**
 * (possibly with no rows: a key known to be empty). Eviction turns a present key back into a
 * missing one and the graph carries the eviction downstream ([note: evict-downstream]).
 *
 * [note: missing-key] A missing key is a hole, not an empty answer: a delta for a missing key is
 * dropped at that node, and applying a batch never waits for a fill. Nothing below a node was
 * derived from its missing keys, so dropping loses nothing; the key's first read fills it exactly,
 * at a binlog position ([note: fill-position]). Pinned by test/operators/operators.test.ts
 * ('drops deltas for missing keys').
 */
import type { Row } from './delta.js';
import type { Value } from '../values.js';
import type { Collation } from './collation.js';

/** How a key column's values compare: exactly, or as text under its collation ([note: collations]). */
export type KeyFold = 'exact' | Collation;

/**
 * The identity of a key: its values, folded per column, as one string. Text of a key with several
 * columns carries its length, so no value's characters can pass for the separator.
 */
export function keyString(values: ReadonlyArray<Value>, fold?: ReadonlyArray<KeyFold>): string {
  let s = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) s += '\u0001';
    if (v === null) s += '\u0000N';
    else if (typeof v === 'string') {
      const f = fold === undefined ? 'exact' : fold[i];
      const t = f === 'exact' ? v : f.key(v);
      s += (f === 'exact' ? 's' : 'c') + (values.length > 1 ? `${t.length}:` : '') + t;
    }
    else if (typeof v === 'number') s += 'n' + String(v);
    else if (typeof v === 'bigint') s += 'n' + v.toString();
    else s += 'b' + v.toString('hex');
  }
  return s;
}

/** The key of `row` made of the values at `columns`. */
export function keyOfRow(row: Row, columns: ReadonlyArray<number>, fold?: ReadonlyArray<KeyFold>): string {
  if (columns.length === 1) {
    const v = row[columns[0]];
    if (typeof v === 'number') return 'n' + String(v);
    if (typeof v === 'string' && (fold === undefined || fold[0] === 'exact')) return 's' + v;
  }
  const vals: Value[] = new Array(columns.length);
  for (let i = 0; i < columns.length; i++) vals[i] = row[columns[i]];
  return keyString(vals, fold);
}

/** A key the memory budget may evict, with its usage tick ([note: memory-budget]). */
export interface EvictionCandidate {
  readonly keyRow: Row;
  readonly used: number;
}

/** The state every stateful node exposes to the graph. */
export interface KeyedState {
  /** Output columns the state is indexed by. */
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  /** Input columns (of parent `from`) that determine an input row's key. */
  inputKey(from: number): ReadonlyArray<number>;
  has(key: string): boolean;
  /** True when a key not held is known to be empty: the state holds every key ([note: complete-state]). */
  readonly complete?: boolean;
  /** The output rows held for a present key (empty array for a known-empty key, or any key of a complete state). */
  rows(key: string): ReadonlyArray<Row> | undefined;
  /**
   * What a complete state answers for a key it does not hold, when that is not "no rows": an
   * aggregate without GROUP BY answers one row for no rows (COUNT 0, SUM NULL). Read through
   * {@link rowsOfKey}. [note: complete-state]
   */
  absentRows?(keyRow: Row): ReadonlyArray<Row>;
  /** Evicts one key (no-op when missing). Returns true when it was present. */
  evict(key: string): boolean;
  /** Evicts every key; returns how many were present. */
  evictAll(): number;
  /** Present keys. */
  readonly size: number;
  /** Rough memory held: rows and bytes. */
  usage(): { rows: number; bytes: number };
  /**
   * For a state whose key no parent row carries (a union): its present keys derived from the keys
   * `keys` (values of columns `cols`) of parent `from`, or null when it cannot tell (the graph then
   * evicts every key). MUST name every present key derived from them. [note: evict-downstream]
   */
  keysFrom?(from: number, cols: ReadonlyArray<number>, keys: ReadonlyArray<Row>): Row[] | null;
  /** Estimated bytes, from `n` more sampled entries, pushed to `out` as eviction candidates ([note: memory-budget]). */
  sample(n: number, out: EvictionCandidate[]): number;
  keyRows(): IterableIterator<Row>;
}

/** The state of a node with one parent, computed from that parent's rows. */
export interface InputState extends KeyedState {
  /** Installs rows computed from the node's input rows (as its parent emits them), per key. */
  fillFromInput(keys: ReadonlyArray<Row>, inputRows: ReadonlyArray<Row>): void;
  /**
   * The upquery that fills `keys` from MySQL, derived from the stateless subtree above this node,
   * and how to install its result rows. Only valid when every node above, up to the tables, is stateless.
   */
  fillQuery(keys: ReadonlyArray<Row>): FillQuery;
  /** At most this many keys per upquery (an answer node asks MariaDB one key at a time); unset: any. */
  readonly keysPerFill?: number;
  /** The SQL that fills the whole state, at most `limit` rows; null when it cannot be filled whole ([note: complete-state]). */
  wholeQuery?(limit: number): string | null;
  /** Installs {@link wholeQuery}'s rows and makes the state complete ([note: complete-state]). */
  fillWhole?(rows: ReadonlyArray<Row>): void;
}

/** An upquery's SQL and the installer of its result. */
export interface FillQuery {
  readonly sql: string;
  install(rows: ReadonlyArray<Row>): void;
}

/**
 * Whether `st` can answer key `ks` without a fill: it holds it, or it is complete (a key not held
 * is empty: [note: complete-state]).
 */
export function answers(st: KeyedState, ks: string): boolean {
  return st.complete === true || st.has(ks);
}

/**
 * The rows `st` answers for the key with values `keyRow`: those it holds, or in a complete state
 * what a key it does not hold answers (no rows, or {@link KeyedState.absentRows}); undefined for a
 * key a partial state does not hold.
 */
export function rowsOfKey(st: KeyedState, keyRow: Row): ReadonlyArray<Row> | undefined {
  const ks = keyString(keyRow, st.fold);
  const r = st.rows(ks);
  return r !== undefined && r.length === 0 && st.absentRows !== undefined && st.complete === true && !st.has(ks) ? st.absentRows(keyRow) : r;
}

/** Element-wise equality of two rows. */
export function sameRow(a: Row, b: Row): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (x === y) continue;
    if (x === null || y === null) return false;
    if (Buffer.isBuffer(x) && Buffer.isBuffer(y)) { if (!x.equals(y)) return false; continue; }
    if (typeof x === 'bigint' && typeof y === 'number' && Number.isInteger(y) && x === BigInt(y)) continue;
    if (typeof y === 'bigint' && typeof x === 'number' && Number.isInteger(x) && y === BigInt(x)) continue;
    return false;
  }
  return true;
}

/** A rough byte size for memory accounting. */
export function rowBytes(row: Row): number {
  let n = 16 + row.length * 8;
  for (const v of row) {
    if (typeof v === 'string') n += v.length * 2;
    else if (Buffer.isBuffer(v)) n += v.length;
    else if (typeof v === 'bigint') n += 16;
  }
  return n;
}
