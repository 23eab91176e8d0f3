/**
 * The reader: the leaf of a cache, a map from parameter values to the cache's result rows. Its
 * input rows carry the visible columns first, then hidden ones (parameter columns not selected,
 * ORDER BY columns not selected).
 *
 * [note: compact-reader] Once the cache gives it the text encoding of its columns
 * ({@link Reader.useText}), a key holds its rows once, as what a hit serves: the visible columns
 * as text-protocol row packets in answer order (one latin1 string), and the hidden values the
 * packets do not carry in a second small string (a hidden key column compared exactly is the key
 * row's own value, so it is not stored). A hit copies the packets into the response (a prepared
 * statement's hit, their binary form, made once per change: [note: binary-rows]); the rarer
 * paths (a delta, another character set, an IN list's merge) decode them back into the very
 * values they were encoded from: the encoder checks that every value reads back
 * as itself, and keeps the rows of a key for which one would not (a FLOAT printed to six digits)
 * as values, with an answer built once per change ("loose"). Pinned by
 * test/views/compact-reader.test.ts.
 */
import { usage } from '../dataflow/usage.js';
import { measureRows, takeRow, type Usage, type StateEntry } from '../dataflow/keyed-entries.js';
import { Materialized } from '../dataflow/materialized.js';
import { rowKey, type Delta, type Row } from '../dataflow/delta.js';
import { EMPTY_RESULT, type BatchResult, type DerivedAnswer, type Operator, type PackedRows, type ReaderAnswer, type ReaderNode } from '../dataflow/operator.js';
import { keyString, type KeyFold } from '../dataflow/state.js';
import type { Value } from '../values.js';
import { rowComparator, type SortKey } from './row-order.js';
import { identical, packetCount, packetSlice, packValues, unpackValues, type RowText } from './packed-rows.js';

export type { SortKey } from './row-order.js';
export type { RowText } from './packed-rows.js';
export type { ReaderAnswer } from '../dataflow/operator.js';

interface Entry extends StateEntry {
  /** Compact: the row packets of the key's rows, in answer order; null while loose. */
  text: string | null;
  /** Compact: the hidden values the packets do not carry, row after row; null when none are kept. */
  hidden: string | null;
  /**
   * Compact: the binary-protocol packets of `text`, made at the first prepared read of it
   * ([note: binary-rows]); null until then, false when the rows have none.
   */
  binary: string | false | null;
  /** Loose (or being filled): the rows as values. */
  rows: Row[] | null;
  /** Loose: the answer, built once per change. */
  answer: ReadonlyArray<Row> | null;
  /** [note: derived-answer] The answer in a caller's form, made by `make` once per change; null until asked. */
  derived: { readonly make: object; readonly value: DerivedAnswer } | null;
  /**
   * [note: kept-response] The whole response a caller made of `text` for one form (`tag`, `form`),
   * kept while `text` is the key's; `bytes` null: that form was asked for once, not kept yet.
   */
  response: { readonly text: string; readonly tag: object; readonly form: number; readonly bytes: Uint8Array | null } | null;
  /** [note: held-key] The entry left the map (evicted, or replaced by a fill of its key): a holder looks the key up again. */
  gone: boolean;
}

/** A present key's entry, held by a caller to read it again without the map ([note: held-key]). */
export interface HeldKey {
  readonly gone: boolean;
}

/**
 * A compact key's answer ([note: compact-reader]): its packets, and its values on demand. Made per
 * read; it holds the strings of the moment, so a later change does not alter it.
 */
export class PackedAnswer implements PackedRows {
  readonly packets: string;
  readonly #text: RowText;
  readonly #visible: number;
  readonly #entry: Entry;
  /** The entry's packets this answer was made from (`packets` is a slice of them under a LIMIT). */
  readonly #whole: string;
  readonly #limit: ReaderSpec['limit'];
  /** Made without a LIMIT of the read's own: the packets are the same for every such read of the entry's text. */
  readonly #keepable: boolean;

  constructor(e: Entry, text: RowText, spec: ReaderSpec, limit: ReaderSpec['limit'], keepable: boolean) {
    const whole = e.text as string;
    this.#entry = e;
    this.#whole = whole;
    this.#limit = limit;
    this.#keepable = keepable;
    this.packets = limit === null ? whole : packetSlice(whole, limit.offset, limit.count);
    this.#text = text;
    this.#visible = spec.visible;
  }

  fits(columns: ReadonlyArray<unknown>, charset: number | undefined): boolean {
    return this.#text.fits(columns, charset);
  }

  /**
   * [note: binary-rows] The binary packets of the same rows, kept in the entry beside its text
   * packets while they are the ones this answer was made from (a change of the key makes new text
   * and drops them), so a prepared statement's hit copies packets as a text hit does.
   */
  binaryPackets(): string | null {
    const e = this.#entry;
    let binary: string | false | null;
    if (e.text === this.#whole) binary = e.binary ??= this.#text.binary(this.#whole) ?? false;
    else binary = this.#text.binary(this.#whole) ?? false;
    if (binary === false) return null;
    const limit = this.#limit;
    return limit === null ? binary : packetSlice(binary, limit.offset, limit.count);
  }

  values(): ReadonlyArray<Row> {
    return this.#text.decode(this.packets, this.#visible);
  }

  /** [note: kept-response] The response kept for `tag` and `form` made of these very packets, or null. */
  keptResponse(tag: object, form: number): Uint8Array | null {
    const r = this.#entry.response;
    return r !== null && r.bytes !== null && r.text === this.#whole && r.tag === tag && r.form === form && this.#keepable ? r.bytes : null;
  }

  /**
   * [note: kept-response] Offers `bytes`, the response made of these packets for `tag` and `form`
   * (`form` negative: not one to keep). The second time the same form of the key's current text
   * is offered, `own(bytes)` (a copy of exactly its bytes, never written again) is kept beside the
   * text, counted in the key's bytes, until the text changes or the key leaves: what is returned
   * is the response to send. A key read once keeps nothing.
   */
  keepResponse<B extends Uint8Array>(tag: object, form: number, bytes: B, own: (b: B) => B): B {
    const e = this.#entry;
    if (!this.#keepable || form < 0 || e.gone || e.text !== this.#whole) return bytes;
    const r = e.response;
    if (r === null || r.text !== this.#whole || r.tag !== tag || r.form !== form) {
      e.response = { text: this.#whole, tag, form, bytes: null };
      return bytes;
    }
    if (r.bytes !== null) return bytes;
    const kept = own(bytes);
    e.response = { text: this.#whole, tag, form, bytes: kept };
    return kept;
  }
}

/**
 * Bytes a compact key costs besides its strings' lengths: map slot, key string, key row, entry
 * object, string headers. Measured on V8 (Node 20): 50,000 keys of one 300-character row held 523
 * bytes of heap each where `measure` counts 307 (216 more); after ten rounds of evicting and
 * refilling a tenth of them, 563 (256 more). Rounded up, as ENTRY_OVERHEAD is for loose keys.
 */
const COMPACT_OVERHEAD = 300;

/**
 * Bytes a kept response costs besides its length ([note: kept-response]): its buffer's objects and
 * backing store. Measured on V8 (Node 20): 50,000 kept 200-byte responses held 249 bytes of heap
 * each besides their bytes, and 600 more of RSS (each backing store is its own allocation).
 */
const KEPT_OVERHEAD = 400;

export interface ReaderSpec {
  /** Input columns the reader is keyed by (the parameters, in parameter order). */
  readonly key: ReadonlyArray<number>;
  readonly fold: ReadonlyArray<KeyFold>;
  /** How many leading input columns the client sees. */
  readonly visible: number;
  readonly orderBy: ReadonlyArray<SortKey>;
  /** LIMIT of the query: applied to the sorted answer (the rows come from a top-k node). */
  readonly limit: { readonly count: number; readonly offset: number } | null;
  /** SELECT DISTINCT: the answer of several keys drops repeated rows. */
  readonly distinct: boolean;
  /**
   * How each visible column compares for {@link distinct} across keys (its collation: 'a1' and
   * 'A1' are one row under a _ci one, as within a key); exact where absent. [note: in-list-union]
   */
  readonly rowFold?: ReadonlyArray<KeyFold>;
}

export class Reader extends Materialized<Entry> implements ReaderNode {
  readonly kind = 'reader' as const;
  readonly columns: ReadonlyArray<string>;
  readonly signature: string;
  readonly #spec: ReaderSpec;
  readonly #compare: (a: Row, b: Row) => number;
  #text: RowText | null = null;
  /** Hidden columns a compact key stores, and those it takes from the key row (column, key index). */
  readonly #kept: number[] = [];
  readonly #fromKey: Array<readonly [number, number]> = [];

  constructor(parent: Operator, spec: ReaderSpec, cacheId: string) {
    super(parent, spec.key, spec.fold);
    this.#spec = spec;
    this.#compare = rowComparator(spec.orderBy);
    this.columns = parent.columns;
    // Readers are never shared: each belongs to one cache.
    this.signature = `reader(${cacheId})`;
    for (let c = spec.visible; c < this.columns.length; c++) {
      const k = spec.key.indexOf(c);
      if (k >= 0 && spec.fold[k] === 'exact') this.#fromKey.push([c, k]);
      else this.#kept.push(c);
    }
  }

  describe(): string {
    const key = this.#spec.key.map((i) => `${this.columns[i]} = ?`).join(' AND ');
    const order = this.#spec.orderBy.map((o) => `${this.columns[o.column]}${o.desc ? ' DESC' : ''}`).join(', ');
    const limit = this.#spec.limit === null ? '' : ` limit ${this.#spec.limit.offset > 0 ? `${this.#spec.limit.offset}, ` : ''}${this.#spec.limit.count}`;
    return `reader[${key}]${order ? ` order by ${order}` : ''}${limit}`;
  }

  /**
   * Keeps keys compact from now on, encoded by `text` ([note: compact-reader]). Keys already present
   * are dropped (they refill on their next read).
   */
  useText(text: RowText): void {
    this.evictAll();
    this.#text = text;
    this.#none = null;
  }

  /**
   * [note: complete-state] What a key not held answers in a complete reader: one entry holding no
   * rows, never installed (its answer, binary packets and kept response are the same for every
   * such key).
   */
  #none: Entry | null = null;

  /** The entry `key` is answered from: its own, the empty one when the reader is complete, or undefined. */
  #entryOf(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e !== undefined || !this.complete) return e;
    if (this.#none === null) {
      const none = this.newEntry([]);
      this.#pack(none);
      this.#none = none;
    }
    return this.#none;
  }

  protected newEntry(keyRow: Row): Entry {
    return { keyRow, used: 0, text: null, hidden: null, binary: null, rows: [], answer: null, derived: null, response: null, gone: false };
  }

  /** [note: held-key] An entry that leaves the map is marked, and lets go of its rows (a holder may keep it a while). */
  #leave(e: Entry): void {
    e.gone = true;
    this.#hold(e, null, null, null);
  }

  /**
   * Gives `e` new rows, compact (`text`, `hidden`) or loose (`rows`), and forgets every form made
   * of the old ones (binary packets, values, a caller's form, a kept response).
   */
  #hold(e: Entry, text: string | null, hidden: string | null, rows: Row[] | null): void {
    e.text = text;
    e.hidden = hidden;
    e.rows = rows;
    e.binary = null;
    e.answer = null;
    e.derived = null;
    e.response = null;
  }

  protected override install(key: string, e: Entry): void {
    const old = this.entries.get(key);
    if (old !== undefined && old !== e) this.#leave(old);
    super.install(key, e);
  }

  override evict(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.#leave(e);
    return super.evict(key);
  }

  override evictAll(): number {
    for (const e of this.entries.values()) this.#leave(e);
    return super.evictAll();
  }

  protected addRow(e: Entry, row: Row): void {
    (e.rows as Row[]).push(row);
  }

  protected override seal(e: Entry): void {
    this.#pack(e);
  }

  protected entryRows(e: Entry): ReadonlyArray<Row> {
    return e.rows ?? this.#unpack(e);
  }

  protected measure(e: Entry, into: Usage): void {
    into.bytes += e.derived?.value.bytes ?? 0;
    if (e.text === null) {
      measureRows(e.rows ?? [], into);
      return;
    }
    into.rows += packetCount(e.text);
    into.bytes += e.text.length + (e.hidden?.length ?? 0) + (typeof e.binary === 'string' ? e.binary.length : 0);
    const kept = e.response?.bytes;
    if (kept != null) into.bytes += kept.length + KEPT_OVERHEAD;
  }

  protected override entryOverhead(e: Entry): number {
    return e.text === null ? super.entryOverhead(e) : COMPACT_OVERHEAD;
  }

  /**
   * [note: hot-path] The answer for a present key, or undefined for a missing one: a compact key's
   * packets, or rows never changed once built (a change builds a new array: the proxy reuses its
   * encoding by its identity, protocol/result-set.ts, encodeResultSetOnce). `limit`: the read's own
   * LIMIT, cut from the rows the key holds ([note: limit-param]; the cache's own LIMIT otherwise).
   */
  answer(key: string, limit: ReaderSpec['limit'] = null): ReaderAnswer | undefined {
    const e = this.#entryOf(key);
    if (e === undefined) return undefined;
    e.used = usage.tick++;
    return this.#answerOf(e, limit);
  }

  /**
   * [note: held-key] The entry of a present key, for {@link answerHeld} to read again without
   * looking the key up; undefined for a key not held (a complete reader answers it empty: ask
   * {@link answer}).
   */
  hold(key: string): HeldKey | undefined {
    return this.entries.get(key);
  }

  /**
   * {@link answer} of a key held by {@link hold}, or undefined once its entry has left the map
   * (evicted, or replaced by a fill): the caller then looks the key up again.
   */
  answerHeld(held: HeldKey, limit: ReaderSpec['limit'] = null): ReaderAnswer | undefined {
    const e = held as Entry;
    if (e.gone) return undefined;
    e.used = usage.tick++;
    return this.#answerOf(e, limit);
  }

  /** {@link answer} without counting a use (the fill path: the miss itself is the one read). */
  peek(key: string, limit: ReaderSpec['limit'] = null): ReaderAnswer | undefined {
    const e = this.#entryOf(key);
    return e === undefined ? undefined : this.#answerOf(e, limit);
  }

  /**
   * [note: derived-answer] The answer of a present key in a form of the caller's (an HTTP read's
   * JSON, src/views/answer-json.ts), made by `make` at the first such read after the key changed
   * and kept beside its rows, counted in its bytes, until they change (every change of the rows
   * drops it, as it drops the binary packets) or the key leaves; undefined for a missing key. One
   * form per reader: another `make` replaces it. `count` false: no use is counted (the fill path).
   * Pinned by test/views/derived-answer.test.ts.
   */
  answerAs<T extends DerivedAnswer>(key: string, make: (a: ReaderAnswer) => T, count = true): T | undefined {
    const e = this.#entryOf(key);
    if (e === undefined) return undefined;
    if (count) e.used = usage.tick++;
    const d = e.derived;
    if (d !== null && d.make === make) return d.value as T;
    const value = make(this.#answerOf(e, null));
    e.derived = { make, value };
    return value;
  }

  /** Visible columns, sorted: also used to merge the rows of several keys. */
  sortVisible(rows: ReadonlyArray<Row>): ReadonlyArray<Row> {
    return this.#build(rows);
  }

  #answerOf(e: Entry, limit: ReaderSpec['limit']): ReaderAnswer {
    if (e.text === null) {
      const all = e.answer ??= this.#build(e.rows ?? []);
      return limit === null ? all : all.slice(limit.offset, limit.offset + limit.count);
    }
    return new PackedAnswer(e, this.#text as RowText, this.#spec, limit ?? this.#spec.limit, limit === null);
  }

  #build(rows: ReadonlyArray<Row>): ReadonlyArray<Row> {
    const { visible, orderBy, limit, distinct, rowFold } = this.#spec;
    let out: Row[] = rows.slice();
    if (orderBy.length > 0) out.sort(this.#compare);
    if (rows.length > 0 && rows[0].length > visible) out = out.map((r) => r.slice(0, visible));
    // Several keys (an IN list) can each hold the same distinct row; one key never does.
    if (distinct) {
      const seen = new Set<string>();
      out = out.filter((r) => { const k = rowFold === undefined ? rowKey(r) : keyString(r, rowFold); if (seen.has(k)) return false; seen.add(k); return true; });
    }
    // Each key holds its first offset + count rows (top-k): so do all keys together, once sorted.
    if (limit !== null) out = out.slice(limit.offset, limit.offset + limit.count);
    return out;
  }

  /** Makes a loose entry compact when its rows encode exactly ([note: compact-reader]). */
  #pack(e: Entry): void {
    const rows = e.rows;
    if (this.#text === null || rows === null) return;
    // In answer order, so a hit serves the packets as they are (a sort is stable: ties keep their order).
    if (this.#spec.orderBy.length > 0) rows.sort(this.#compare);
    for (const [c, k] of this.#fromKey) {
      for (const r of rows) if (!identical(r[c], e.keyRow[k])) return;
    }
    const text = this.#text.encode(rows, this.#spec.visible);
    if (text === null) return;
    let hidden: string | null = null;
    if (this.#kept.length > 0 && rows.length > 0) {
      const parts: string[] = [];
      for (const r of rows) packValues(this.#kept.map((c) => r[c]), parts);
      hidden = parts.join('');
    }
    this.#hold(e, text, hidden, null);
  }

  /** A compact entry made loose (its rows as values) for a change: its rows. */
  #loosen(e: Entry): Row[] {
    const rows = this.#unpack(e);
    this.#hold(e, null, null, rows);
    return rows;
  }

  /** A compact entry's rows, as the values they were encoded from. */
  #unpack(e: Entry): Row[] {
    const rows = (this.#text as RowText).decode(e.text as string, this.columns.length) as Value[][];
    const at = { p: 0 };
    for (const r of rows) {
      for (const [c, k] of this.#fromKey) r[c] = e.keyRow[k];
      if (e.hidden !== null) unpackValues(e.hidden, at, r, this.#kept);
    }
    return rows;
  }

  onBatch(_from: number, deltas: ReadonlyArray<Delta>): BatchResult {
    if (this.entries.size === 0 && !this.complete) return EMPTY_RESULT;
    const changed = new Map<string, Entry>();
    const broken = this.changeEntries(deltas, (e, d, key) => {
      const rows = e.rows ?? this.#loosen(e);
      // Retracting a row this key never held means the key is not what MySQL holds: drop it
      // rather than serve it (it refills on the next read).
      if (d.sign === 1) rows.push(d.row);
      else if (takeRow(rows, d.row) === undefined) return false;
      e.answer = null;
      e.derived = null;
      if (this.#text !== null) changed.set(key, e);
      return true;
    });
    const evicted = broken === null ? [] : this.evictKeys(broken);
    for (const [k, e] of changed) if (broken === null || !broken.has(k)) this.#pack(e);
    return evicted.length === 0 ? EMPTY_RESULT : { output: [], evicted };
  }
}

/** The rows of an answer, decoded when they are packets. */
export function answerValues(a: ReaderAnswer): ReadonlyArray<Row> {
  return isRows(a) ? a : a.values();
}

function isRows(a: ReaderAnswer): a is ReadonlyArray<Row> {
  return Array.isArray(a);
}


/** The key of a parameter tuple as the reader indexes it. */
export function readerKey(reader: Reader, params: ReadonlyArray<Value>): string {
  return keyString(params, reader.fold);
}
