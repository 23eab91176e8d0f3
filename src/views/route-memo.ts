/**
 * [note: route-memo] What routing a statement's exact text found, so that a statement sent again
 * skips the fingerprint tokenizer, the cache lookup, the binding of its literals and the making of
 * its reader key. An entry is the pure part of routing only: it holds for the tokenizing mode
 * (NO_BACKSLASH_ESCAPES, [note: sql-mode-quoting]) and the current database ([note: scoped-key])
 * it was made under, and only while its cache is ready and still registered under the routing key
 * (the candidate list a registration or a drop replaces: checked only when the registry's
 * generation moved since). It also keeps what does not change between reads of its text: the
 * column definitions of its select text (a spelling's definitions, once learned, are never
 * replaced by others) and the reader's entry of its key ([note: held-key], looked up again once
 * that entry left the reader). Everything that depends on the session
 * or the moment (a transaction, a cache blocker such as a changed sql_mode or character set, the
 * grants check [note: cached-grants], read-your-writes, the binlog's lag, the key being present)
 * is decided afresh on every read, after the memo. Pinned by test/e2e/hit-bytes.test.ts and
 * test/e2e/injection.test.ts.
 *
 * Bounded: at most {@link MEMO_ENTRIES} statements of at most {@link MEMO_MAX_LENGTH} characters
 * binding at most {@link MEMO_MAX_KEYS} reader keys; the oldest entry leaves first. A statement is
 * kept from the second time it is routed ([note: seen-once]: a key read once leaves no entry to
 * push out). Statements that match no cache are not kept, and a route whose cache was dropped or replaced is forgotten
 * when its statement is sent again (the registry frees a removed cache's rows in any case).
 */
import type { Row } from '../dataflow/delta.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { HeldKey } from '../operators/reader.js';
import type { Cache, ValueSource } from './cache.js';
import type { LimitSpec } from '../planner/limit.js';
import { SeenOnce } from '../planner/seen-once.js';

/** Statements remembered at most. */
export const MEMO_ENTRIES = 16_384;
/** Reader keys a remembered route holds at most (an IN list's keys). */
export const MEMO_MAX_KEYS = 64;
/** Longer statements are routed afresh each time (their text would be most of the memo's memory). */
export const MEMO_MAX_LENGTH = 1024;

/** The routing of one statement text to a ready cache. */
export interface MemoRoute {
  /** The tokenizing mode and the database the statement was routed under. */
  readonly mode: number;
  readonly database: string | null;
  /** The statement's routing key, and the candidate list it found there. */
  readonly routingKey: string;
  readonly candidates: ReadonlyArray<Cache>;
  readonly cache: Cache;
  readonly bound: ReadonlyArray<ReadonlyArray<ValueSource>>;
  /** The reader keys of the statement's literals, or null when one is not a plain key. */
  readonly keys: ReadonlyArray<Row> | null;
  /** The reader's key string of the only key, or null when there are several (or none). */
  readonly readerKey: string | null;
  /** The statement's own LIMIT for a `LIMIT ?` cache (undefined: not one Rotor reads). [note: limit-param] */
  readonly limit: LimitSpec | null | undefined;
  /** The statement's select list, as written (the cache's column names for it, [note: hot-path]). */
  readonly selectText: string;
  /** The statement's fingerprint key (SHOW PROXIED QUERIES). */
  readonly statement: string;
  /** The registry's generation the candidate list was last found current at (CacheRegistry.generation). */
  generation: number;
  /** The column definitions of {@link selectText}, once the cache has them. */
  columns: ReadonlyArray<ColumnDefinition> | undefined;
  /** The reader's entry of {@link readerKey}, once read ([note: held-key]). */
  held: HeldKey | undefined;
}

export class RouteMemo {
  readonly #byText = new Map<string, MemoRoute>();
  readonly #seen = new SeenOnce();
  readonly #capacity: number;

  constructor(capacity = MEMO_ENTRIES) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#byText.size;
  }

  /**
   * The route remembered for `sql` when it still holds for this mode and database: its cache is
   * ready and `candidates` (the registry's list under its routing key) is the list it was found
   * in, which is looked up only when the registry's `generation` moved since.
   */
  get(sql: string, mode: number, database: string | null, generation: number, candidates: (routingKey: string) => ReadonlyArray<Cache> | undefined): MemoRoute | undefined {
    const r = this.#byText.get(sql);
    if (r === undefined || r.mode !== mode || r.database !== database) return undefined;
    if (r.generation !== generation) {
      // A route whose candidate list was replaced (a registration or a drop under its key) is
      // forgotten, so it does not keep a dropped cache; a cache that is not ready may be again.
      if (candidates(r.routingKey) !== r.candidates) {
        this.#byText.delete(sql);
        return undefined;
      }
      r.generation = generation;
    }
    return r.cache.status === 'ready' ? r : undefined;
  }

  /**
   * Remembers `route` for `sql` (in place of any route for another mode or database), unless the
   * statement is long or binds many keys (IN lists multiply: 1 KiB of text can bind millions).
   */
  set(sql: string, route: MemoRoute): void {
    if (sql.length > MEMO_MAX_LENGTH || (route.keys !== null && route.keys.length > MEMO_MAX_KEYS)) return;
    if (!this.#byText.has(sql) && !this.#seen.again(sql, route.mode)) return;
    if (this.#byText.size >= this.#capacity && !this.#byText.has(sql)) {
      const oldest = this.#byText.keys().next();
      if (oldest.done !== true) this.#byText.delete(oldest.value);
    }
    this.#byText.set(sql, route);
  }

  clear(): void {
    this.#byText.clear();
  }
}
