/**
 * The engine's side of the proxy seam (src/proxy/read-router.ts): fingerprint a statement, find the
 * cache it matches, answer from the reader on a hit (synchronously, no parse), relay a miss (and
 * fill a key missed again in the background) or wait for its fill (`--miss-policy`), and relay
 * everything else upstream with the reason recorded. A session's first read of a
 * cache waits for MariaDB to confirm its user may run it ([note: cached-grants]); the first read of
 * a new spelling is relayed to learn its column names. Also the SQL-port admin statements `CREATE CACHE [name] FROM
 * <select>`, `DROP CACHE <id|name>`, `SHOW CACHES`, for users with the PROCESS privilege.
 */
import type { ReaderAnswer } from '../dataflow/operator.js';
import type { Answer, PreparedMatch, ProbeError, ReadRouter, RelayWatch, Routed, SessionView, Upstream } from '../proxy/read-router.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import { fingerprint, scopedKey, type Literal } from '../planner/fingerprint.js';
import { SqlMode } from '../planner/tokenizer.js';
import { qualifiedQuery, type QualifiedQuery } from '../planner/parse.js';
import { keyString } from '../dataflow/state.js';
import { FrequencySketch, hashKey } from '../dataflow/frequency-sketch.js';
import type { Row } from '../dataflow/delta.js';
import { RotorError } from '../errors.js';
import type { Value } from '../values.js';
import type { MissPolicy, TransactionReads } from '../config.js';
import type { LimitSpec } from '../planner/limit.js';
import { answerValues } from '../operators/reader.js';
import { Cache, MAX_READ_KEYS, type ValueSource } from './cache.js';
import { denial, errorAnswer, mayRead, type PrivilegeChecks } from './privileges.js';
import type { Explained } from './register.js';
import { PROXIED_ID, type ProxiedQueries } from './proxied-queries.js';
import { RouteMemo, type MemoRoute } from './route-memo.js';
import { explainCacheAnswer, explainLastAnswer } from './show-caches.js';
import { fillThenRead, notServing, presentAnswer, presentHeld, type Filled } from './cache-reads.js';
import { UPQUERY_COLLATION } from '../upstream/connections.js';
import { rangeAnswer, rangeKey } from './range-reads.js';
import type { RangeReader } from '../operators/range-reader.js';

/** What the router needs from the engine. */
export interface RouterBackend {
  candidates(fingerprintKey: string): ReadonlyArray<Cache> | undefined;
  /** Moves whenever a cache is installed or removed under any routing key (CacheRegistry.generation). [note: route-memo] */
  readonly registryGeneration: number;
  /** Caches registered (dropped or not): with none, no statement needs a fingerprint. */
  readonly cacheCount: number;
  /**
   * Fills `keys` of the cache's reader. For a single key, resolves to its rows as the fill
   * installed them (one consistent point), or undefined when they were not captured.
   */
  fill(cache: Cache, keys: ReadonlyArray<Row>): Promise<ReaderAnswer | undefined>;
  /** Fills `keys` of the cache's reader off every client's path; a failure is logged and counted, never thrown. */
  fillBehind(cache: Cache, keys: ReadonlyArray<Row>): void;
  /** What a read of a key the reader does not hold does (config.ts `missPolicy`). */
  readonly missPolicy: MissPolicy;
  /** `cache`: every cache serves reads inside transactions, as ALWAYS ones do. [note: transaction-reads] */
  readonly transactionReads: TransactionReads;
  /** The most rows (offset + count) a `LIMIT ?` read is served from a cache for. [note: limit-param] */
  readonly maxLimitParam: number;
  /** Makes a `LIMIT ?` cache keep at least `rows` rows per key, evicting the keys that do not. [note: limit-param] */
  widenLimit(cache: Cache, rows: number): void;
  /** Keeps the column definitions MariaDB sent a session for a spelling of the cache's select list. */
  learnVariant(cache: Cache, selectText: string, columns: ReadonlyArray<ColumnDefinition>): void;
  register(req: { sql: string; name?: string; database?: string; always?: boolean }): Promise<{ readonly name: string; readonly created: boolean }>;
  /** False when no such cache; rejects with a RotorError when the drop is refused (the shared registry is down). */
  drop(idOrName: string): Promise<boolean>;
  /** EXPLAIN CACHE: what registering the statement would do, nothing registered. */
  explain(req: { sql: string; database?: string }): Promise<Explained>;
  /** The statements sessions send (SHOW PROXIED QUERIES). */
  readonly proxied: ProxiedQueries;
  /** A proxied statement's registrable text and database, by its id, or null. */
  proxiedStatement(id: string): { readonly sql: string; readonly database: string | null } | null;
  /** SHOW PROXIED [SUPPORTED] QUERIES: the statements with whether each can be cached. */
  proxiedQueries(opts: { like?: string; limit?: number; supportedOnly?: boolean }): Promise<Answer>;
  /** The ids of every registered cache (DROP ALL CACHES). */
  cacheIds(): ReadonlyArray<string>;
  /** A cache's query with its tables qualified (`query` null when it cannot be written), or null without such a cache. */
  cacheProbe(idOrName: string): { readonly query: QualifiedQuery | null } | null;
  /** Why a registration must be refused now (rate or number of caches), taking its turn otherwise. */
  registrationRefusal(): string | null;
  /** Where a registration resolves unqualified tables when the session has no database. */
  readonly defaultDatabase: string | null;
  showCaches(): Answer;
  recordUpstream(reason: string): void;
  /** Statements run where the binlog does not see them changed what they name. [note: unlogged-writes] */
  forgetUnlogged(statements: ReadonlyArray<string | null>, database: string | null): void;
  /** 'session': a session's reads after its writes wait for the binlog. [note: read-your-writes] */
  readonly consistency: 'eventual' | 'session';
  /** Resolves true once the binlog has brought the upstream's current state, false on timeout. */
  syncWrites(): Promise<boolean>;
  /** Why no cache may answer right now (the binlog is too far behind), or null. [note: staleness-bound] */
  readonly staleReason: string | null;
  /** Why caches over TIMESTAMP columns may not answer (the upstream's time zone is not UTC), or null. */
  readonly timeZoneReason: string | null;
  /** Why caches of expressions may not answer (the upstream's sql_mode changes how text parses), or null. [note: answer-refill] */
  readonly parseModeReason?: string | null;
  /** Why no cache answers reads inside transactions whatever the session says (a SERIALIZABLE server), or null. [note: transaction-reads] */
  readonly serializableReason: string | null;
  /** What MariaDB said each session may read. [note: cached-grants] */
  readonly privileges: PrivilegeChecks;
}

interface Prepared extends PreparedMatch {
  readonly cache: Cache;
  readonly bound: ReadonlyArray<ReadonlyArray<ValueSource>>;
  readonly selectText: string;
  /** The statement's fingerprint key and database, as SHOW PROXIED QUERIES counts it. */
  readonly statement: string;
  readonly database: string | null;
}

/**
 * Cache commands need the PROCESS privilege (they see and change what every session's reads do, as
 * SHOW PROCESSLIST sees every session's statements). MariaDB itself decides whether the session
 * holds it: this statement fails with 1227 without it.
 */
const PROCESS_PROBE = 'SHOW ENGINE INNODB STATUS';

const UPSTREAM: Routed = Object.freeze({ kind: 'upstream', reason: null });

/** A statement read (`statement`: its fingerprint key) that no cache serves, and why (null: none has its shape). */
interface Unrouted {
  readonly cache?: undefined;
  readonly statement: string;
  readonly reason: string | null;
}
const NO_PARAMS: ReadonlyArray<Value> = [];

function upstream(reason: string): Upstream {
  return { kind: 'upstream', reason };
}

// A relayed miss's reasons, constant: notCachedReasons counts reads by their reason's text.
const MISS_FIRST = Object.freeze(upstream('miss (first read of the key)'));
const MISS_FILLED = Object.freeze(upstream('miss (filled in the background)'));
const MISS_AHEAD = Object.freeze(upstream('miss (the key\'s fill waits for the binlog stream)'));

const NOT_PLAIN = 'a parameter does not compare as a plain key (NULL, or another type)';
const BAD_LIMIT = 'a LIMIT value that is not a non-negative integer';
const TOO_MANY_KEYS = `the IN lists name more than ${MAX_READ_KEYS} keys`;

/** Why bound parameters gave no reader keys (Cache.keys returned null). */
function noKeys(bound: ReadonlyArray<ReadonlyArray<ValueSource>>): string {
  return Cache.tooManyKeys(bound) ? TOO_MANY_KEYS : NOT_PLAIN;
}

/** What a routed read resolves to once it waited: the answer, or the relay it became. */
function settled(r: Routed): Answer | Upstream | Promise<Answer | Upstream | null> {
  return r.kind === 'answer' || r.kind === 'pending' ? r.answer : r;
}

// `\s*(?:;\s*)?$`, never `\s*;?\s*$`: the two adjacent `\s*` backtrack quadratically over a run of
// spaces that is not at the end, and a lazy `[\s\S]+?` before them cubically (a COM_QUERY of a
// few KiB froze every session). CREATE CACHE's query is the rest of the statement.
const CREATE_CACHE = /^\s*CREATE\s+CACHE\s+(ALWAYS\s+)?(?:(?!FROM\s)(`[^`]+`|[^\s`]+)\s+)?FROM\s+/i;
const DROP_CACHE = /^\s*DROP\s+CACHE\s+(`[^`]+`|[^\s`;]+)\s*(?:;\s*)?$/i;
const SHOW_CACHES = /^\s*SHOW\s+CACHES\s*(?:;\s*)?$/i;
// A LIKE pattern in single quotes (a doubled quote inside); no backslash escapes are read in it.
const SHOW_PROXIED = /^\s*SHOW\s+PROXIED\s+(SUPPORTED\s+)?QUERIES(?:\s+LIKE\s+'((?:[^'\\]|'')*)')?(?:\s+LIMIT\s+(\d{1,6}))?\s*(?:;\s*)?$/i;
const EXPLAIN_LAST = /^\s*EXPLAIN\s+LAST\s+STATEMENT\s*(?:;\s*)?$/i;
const EXPLAIN_CACHE = /^\s*EXPLAIN\s+CACHE\s+/i;
const DROP_ALL_CACHES = /^\s*DROP\s+ALL\s+CACHES\s*(?:;\s*)?$/i;

/** A statement without its trailing `;` and whitespace. */
function withoutTerminator(sql: string): string {
  const s = sql.trimEnd();
  return s.endsWith(';') ? s.slice(0, -1).trimEnd() : s;
}

export class CacheRouter implements ReadRouter {
  /** Per session, how many of its writes its cached reads are known to include. */
  readonly #synced = new WeakMap<SessionView, number>();
  /**
   * Which keys were missed, approximately (`--miss-policy relay`): a key is filled only when it is
   * missed again. Its own sketch, apart from the memory budget's admission ([note: memory-budget]),
   * so what one counts does not move the other.
   */
  readonly #missed = new FrequencySketch();
  /** Routes of statement texts seen before. [note: route-memo] */
  readonly #memo = new RouteMemo();
  readonly #candidates = (routingKey: string): ReadonlyArray<Cache> | undefined => this.backend.candidates(routingKey);

  constructor(readonly backend: RouterBackend) {}

  /** Statement texts the route memo holds. [note: route-memo] */
  get memoSize(): number {
    return this.#memo.size;
  }

  routeQuery(sql: string, session: SessionView): Routed {
    try {
      let i = 0;
      while (i < sql.length && sql.charCodeAt(i) <= 32) i++;
      const c = sql.charCodeAt(i) | 0x20;
      // [note: hot-path] Writes and most other statements leave here on their first letter.
      if (c === 0x63 /* c */ || c === 0x64 /* d */ || c === 0x65 /* e */) return this.#admin(sql, session) ?? UPSTREAM;
      // s(elect), w(ith), a parenthesis, or a leading comment (/* */, --, #): anything else is not a read.
      if (c !== 0x73 && c !== 0x77 && c !== 0x28 && c !== 0x2f && c !== 0x2d && c !== 0x23) return UPSTREAM;
      if ((sql.charCodeAt(i + 1) | 0x20) === 0x68 /* h */) return this.#show(sql, session);
      if (this.backend.cacheCount === 0) return UPSTREAM;
      const mode = this.#mode(session);
      // [note: route-memo] A statement seen before skips everything up to the session's checks.
      const route = this.#memo.get(sql, mode, session.database, this.backend.registryGeneration, this.#candidates) ?? this.#route(sql, mode, session);
      if (route === null) return UPSTREAM;
      const statement = route.statement;
      if (route.cache === undefined) return route.reason === null ? { kind: 'upstream', reason: null, statement } : this.#up(route.reason, statement);
      const { cache, keys, limit } = route;
      if (!this.#sessionOk(cache, session)) return this.#up(this.#whyNot(cache, session), statement);
      if (keys === null) return this.#up(noKeys(route.bound), statement);
      if (limit === undefined) return this.#up(BAD_LIMIT, statement);
      const r = this.#counted(this.#checked(session, cache, keys, limit, route.selectText, route), statement, session.database);
      // A relayed read carries what it was read as, for observeRelayed.
      return r.kind === 'upstream' ? { ...r, statement } : r;
    } catch (e) {
      return this.#up(`router error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Routes a statement text not in the memo: its route to a cache (remembered when the cache is
   * ready), or why it has none (reason null: no cache has its shape); null when it could not be
   * read at all.
   */
  #route(sql: string, mode: number, session: SessionView): MemoRoute | Unrouted | null {
    const generation = this.backend.registryGeneration;
    const fp = fingerprint(sql, mode);
    if (fp === null) return null;
    const key = scopedKey(fp, session.database);
    if (key === null) return { statement: fp.key, reason: null };
    const candidates = this.backend.candidates(key);
    if (candidates === undefined) return { statement: fp.key, reason: null };
    const found = this.#find(key, fp.literals);
    if (found === null) return { statement: fp.key, reason: 'the statement matches a cache except for a constant' };
    const { cache, bound } = found;
    const keys = cache.keys(bound, NO_PARAMS);
    const route: MemoRoute = {
      mode, database: session.database, routingKey: key, candidates, cache, bound, keys,
      readerKey: keys !== null && keys.length === 1 && cache.built.range === undefined ? keyString(keys[0], cache.built.reader.fold) : null,
      limit: cache.readLimit(bound, NO_PARAMS),
      selectText: fp.selectStart >= 0 ? sql.slice(fp.selectStart, fp.selectEnd) : '',
      statement: fp.key,
      generation, columns: undefined, held: undefined,
    };
    if (cache.status === 'ready') this.#memo.set(sql, route);
    return route;
  }

  matchPrepared(sql: string, session: SessionView): PreparedMatch | null {
    try {
      const fp = fingerprint(sql, this.#mode(session));
      if (fp === null) return null;
      const key = scopedKey(fp, session.database);
      const found = key === null ? null : this.#find(key, fp.literals);
      if (found !== null) {
        const selectText = fp.selectStart >= 0 ? sql.slice(fp.selectStart, fp.selectEnd) : '';
        const m: Prepared = { cacheId: found.cache.id, cache: found.cache, bound: found.bound, selectText, statement: fp.key, database: session.database };
        return m;
      }
      return null;
    } catch {
      return null;
    }
  }

  routeExecute(match: PreparedMatch, params: ReadonlyArray<Value>, session: SessionView): Routed {
    try {
      const m = match as Prepared;
      // A prepared statement's tables were resolved at prepare, in the database it was prepared in
      // (matchPrepared's routing key), as MariaDB resolves them: a later USE does not move them.
      if (!this.#sessionOk(m.cache, session)) return this.#up(this.#whyNot(m.cache, session));
      const keys = m.cache.keys(m.bound, params);
      if (keys === null) return this.#up(noKeys(m.bound));
      const limit = m.cache.readLimit(m.bound, params);
      if (limit === undefined) return this.#up(BAD_LIMIT);
      return this.#counted(this.#checked(session, m.cache, keys, limit, m.selectText), m.statement, m.database);
    } catch (e) {
      return this.#up(`router error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  observeRelayed(sql: string, session: SessionView, upstreamMs: number, statement?: string): void {
    const proxied = this.backend.proxied;
    if (proxied.limit <= 0) return;
    try {
      const key = statement ?? fingerprint(sql, this.#mode(session))?.key;
      if (key !== undefined) proxied.record(key, session.database, upstreamMs);
    } catch {
      // Not counted: what the proxy relays is never held up by what it counts.
    }
  }

  /** Counts a read a cache answers (now, or once its fill or check is done) in the proxied queries. */
  #counted(r: Routed, statement: string, database: string | null): Routed {
    const proxied = this.backend.proxied;
    if (proxied.limit <= 0) return r;
    if (r.kind === 'answer') proxied.record(statement, database, null);
    else if (r.kind === 'pending') void r.answer.then((a) => { if (a !== null && a.kind !== 'upstream') proxied.record(statement, database, null); }, () => undefined);
    return r;
  }

  forgetUnlogged(statements: ReadonlyArray<string | null>, session: SessionView): void {
    try {
      this.backend.forgetUnlogged(statements, session.database);
    } catch {
      // Forgetting one table failed: forget everything rather than keep what may be stale.
      this.backend.forgetUnlogged([null], null);
    }
  }

  #up(reason: string, statement?: string): Routed {
    this.backend.recordUpstream(reason);
    return statement === undefined ? upstream(reason) : { kind: 'upstream', reason, statement };
  }

  /** How the session's statements tokenize. [note: sql-mode-quoting] */
  #mode(session: SessionView): number {
    return session.noBackslashEscapes ? SqlMode.NoBackslashEscapes : 0;
  }

  /**
   * Relays a read of a new spelling of `cache`'s select list, by a session already checked for it,
   * to learn the names MariaDB gives its columns.
   */
  #learn(cache: Cache, selectText: string): Routed {
    const reason = 'learning the column definitions of a new spelling of the query';
    this.backend.recordUpstream(reason);
    // Bound, not a closure in a property: [note: named-closures].
    const watch: RelayWatch = { columns: this.backend.learnVariant.bind(this.backend, cache, selectText) };
    return { kind: 'upstream', reason, watch };
  }

  /**
   * Serves a read once the session is known to may read the cache. [note: cached-grants] A first
   * read prepares the cache's qualified query on the session's own upstream session, then is
   * served; a refused one is relayed, so the client gets MariaDB's own error for its statement.
   */
  #checked(session: SessionView, cache: Cache, keys: ReadonlyArray<Row>, limit: LimitSpec | null, selectText: string, route: MemoRoute | null = null): Routed {
    const privileges = this.backend.privileges;
    const verdict = privileges.checked(session, cache.grantKey);
    // [note: route-memo] A spelling's column definitions, once learned, stay the cache's.
    const columns = route?.columns ?? cache.variants.get(selectText);
    if (verdict === true) {
      if (columns === undefined) return this.#learn(cache, selectText);
      if (route !== null) route.columns = columns;
      return this.#serveSession(session, cache, keys, limit, columns, route);
    }
    if (verdict === false) return this.#up(`the user may not read cache ${cache.id}`);
    const query = cache.probe;
    if (query === null) return this.#up(`the user's grants for cache ${cache.id} cannot be checked`);
    const record = privileges.begin(session, cache.grantKey);
    const answer = (async (): Promise<Answer | Upstream | null> => {
      const refused = await mayRead(session, query, cache.views);
      record(refused === null);
      if (refused !== null) {
        this.backend.recordUpstream(`the user may not read cache ${cache.id}`);
        return null;
      }
      // A new spelling is learned from a later read, by a session known to may read the cache.
      if (columns === undefined) return null;
      // The cache may have stopped serving while the check ran (DDL, a lagging binlog).
      if (!this.#sessionOk(cache, session)) return settled(this.#up(this.#whyNot(cache, session)));
      return settled(this.#serveSession(session, cache, keys, limit, columns));
    })();
    return { kind: 'pending', answer };
  }

  /**
   * The cache that serves a statement of routing key `key` ([note: scoped-key]: same tables, same
   * databases) with these literals: the first ready one they bind to, else the first they bind
   * to (which tells why it cannot serve), else null. A cache dropped or invalidated in its
   * database does not hide one ready for the same statement.
   */
  #find(key: string, literals: ReadonlyArray<Literal>): { cache: Cache; bound: ReadonlyArray<ReadonlyArray<ValueSource>> } | null {
    const cands = this.backend.candidates(key);
    if (cands === undefined) return null;
    let first: { cache: Cache; bound: ReadonlyArray<ReadonlyArray<ValueSource>> } | null = null;
    let alternate: { cache: Cache; bound: ReadonlyArray<ReadonlyArray<ValueSource>> } | null = null;
    for (const cache of cands) {
      const bound = cache.bindAt(key, literals);
      if (bound === null) continue;
      if (cache.status === 'ready') {
        // A cache of the statement's own spelling before one that answers it as a union of keys.
        if (cache.routingKey === key) return { cache, bound };
        alternate ??= { cache, bound };
      }
      first ??= { cache, bound };
    }
    return alternate ?? first;
  }

  #sessionOk(cache: Cache, session: SessionView): boolean {
    return this.#transactionRefusal(cache, session) === null && session.cacheBlocker === null && notServing(cache, this.backend) === null
      && (cache.plan.kind !== 'answer' || collationRefusal(session) === null);
  }

  /**
   * [note: transaction-reads] Why a read inside a transaction may not come from `cache`, or null
   * (outside one, null). Inside one a read goes upstream (MariaDB's snapshot, the transaction's
   * own uncommitted writes), unless its cache serves transactions — registered `ALWAYS`, or every
   * cache under `--transaction-reads cache` — and the transaction has changed no rows and neither
   * it nor the upstream's default runs SERIALIZABLE (SessionView.transactionBlocker,
   * RouterBackend.serializableReason, read with the global settings): then it is served as
   * outside one, the cache's latest state rather than the transaction's snapshot. The session's
   * writes before the transaction are still waited for (`--consistency session`). Pinned by
   * test/e2e/transaction-reads.test.ts.
   */
  #transactionRefusal(cache: Cache, session: SessionView): string | null {
    if (!session.inTransaction) return null;
    if (cache.def.always !== true && this.backend.transactionReads !== 'cache') return 'inside a transaction';
    return session.transactionBlocker ?? this.backend.serializableReason;
  }

  #whyNot(cache: Cache, session: SessionView): string {
    if (cache.status !== 'ready') return `cache ${cache.id} is ${cache.status}`;
    const tx = this.#transactionRefusal(cache, session);
    if (tx !== null) return tx;
    if (session.cacheBlocker !== null) return session.cacheBlocker;
    return notServing(cache, this.backend) ?? (cache.plan.kind === 'answer' ? collationRefusal(session) : null) ?? 'the cache cannot serve now';
  }

  // [note: read-your-writes] In 'session' consistency, a session that changed rows since its last
  // synced read first waits until the binlog stream has applied the upstream's state as of now
  // (Engine.syncWrites), which contains those writes; on timeout the read goes upstream. Pinned by
  // test/e2e/read-your-writes.test.ts.
  #serveSession(session: SessionView, cache: Cache, keys: ReadonlyArray<Row>, limit: LimitSpec | null, columns: ReadonlyArray<ColumnDefinition>, route: MemoRoute | null = null): Routed {
    if (this.backend.consistency !== 'session' || session.writes <= (this.#synced.get(session) ?? 0)) return this.#serve(cache, keys, limit, columns, route);
    return { kind: 'pending', answer: this.#afterSync(session, session.writes, cache, keys, limit, columns) };
  }

  async #afterSync(session: SessionView, writes: number, cache: Cache, keys: ReadonlyArray<Row>, limit: LimitSpec | null, columns: ReadonlyArray<ColumnDefinition>): Promise<Answer | Upstream | null> {
    const synced = await this.backend.syncWrites().catch(() => false);
    if (!synced) {
      this.backend.recordUpstream('the binlog did not bring the session\'s own writes in time (--consistency session)');
      return null;
    }
    if ((this.#synced.get(session) ?? 0) < writes) this.#synced.set(session, writes);
    if (!this.#sessionOk(cache, session)) return settled(this.#up(this.#whyNot(cache, session)));
    return settled(this.#serve(cache, keys, limit, columns));
  }

  /**
   * `route`: the remembered route of the statement (of `cache`), whose reader key and entry are
   * known already ([note: held-key]); `limit`: the read's own LIMIT, for a `LIMIT ?` cache
   * ([note: limit-param]).
   */
  #serve(cache: Cache, keys: ReadonlyArray<Row>, limit: LimitSpec | null, columns: ReadonlyArray<ColumnDefinition>, route: MemoRoute | null = null): Routed {
    const t0 = performance.now();
    const reader = cache.built.reader;
    const range = cache.built.range;
    if (range !== undefined) return keys.length === 1 ? this.#serveRange(cache, range, keys[0], columns, t0) : this.#up('several keys of a range cache');
    if (limit !== null) {
      const rows = limit.count === 0 ? 0 : limit.offset + limit.count;
      const node = cache.built.limitNode;
      if (node !== null && rows > node.need) {
        if (rows > this.backend.maxLimitParam) return this.#up(`the LIMIT asks for more than --max-limit-param (${this.backend.maxLimitParam}) rows`);
        this.backend.widenLimit(cache, rows);
      }
    }
    if (keys.length === 1) {
      const rows = route !== null && route.readerKey !== null ? presentHeld(cache, route, limit) : presentAnswer(cache, keyString(keys[0], reader.fold), limit);
      if (rows !== undefined) {
        cache.stats.hits++;
        cache.latency.observe(performance.now() - t0);
        return { kind: 'answer', answer: { kind: 'rows', columns, rows, cache: cache.def.name } };
      }
    } else {
      const merged = this.#merged(cache, keys, limit);
      if (merged !== null) {
        cache.stats.hits++;
        cache.latency.observe(performance.now() - t0);
        return { kind: 'answer', answer: { kind: 'rows', columns, rows: merged, cache: cache.def.name } };
      }
    }
    cache.stats.misses++;
    if (this.backend.missPolicy === 'relay' && cache.relaysMisses) return this.#relayMiss(cache, keys);
    return { kind: 'pending', answer: this.#filled(cache, keys, limit, columns) };
  }

  /**
   * A read of a range cache ([note: range-state]): its rows when the covered intervals hold them;
   * else a miss, relayed or filled as a keyed miss is.
   */
  #serveRange(cache: Cache, range: RangeReader, key: Row, columns: ReadonlyArray<ColumnDefinition>, t0: number): Routed {
    const rows = rangeAnswer(cache, range, key);
    if (rows !== undefined) {
      cache.stats.hits++;
      cache.latency.observe(performance.now() - t0);
      return { kind: 'answer', answer: { kind: 'rows', columns, rows, cache: cache.def.name } };
    }
    cache.stats.misses++;
    if (this.backend.missPolicy === 'relay' && cache.relaysMisses) {
      cache.stats.relayedMisses++;
      // Counted by partition, not by interval: each page of a keyset pagination is read once, and
      // the fill behind the second page's miss brings the next pages with it.
      const h = hashKey(`${cache.id}\0${keyString(rangeKey(cache, key).part, range.fold)}`);
      this.#missed.add(h);
      const again = this.#missed.estimate(h) > 1;
      if (again) this.backend.fillBehind(cache, [key]);
      const r = again ? MISS_FILLED : MISS_FIRST;
      this.backend.recordUpstream(r.reason as string);
      return r;
    }
    const answer = fillThenRead((c, k) => this.backend.fill(c, k), cache, [key], () => rangeAnswer(cache, range, key, false))
      .then((filled): Answer | null => (filled === null ? null : { kind: 'rows', columns, rows: 'read' in filled ? filled.read : filled.installed, cache: cache.def.name }), () => null);
    return { kind: 'pending', answer };
  }

  /**
   * A miss under `--miss-policy relay`: the client's own statement goes to its upstream session,
   * an exact answer at a direct read's cost with no lock taken for Rotor. A key the sketch has seen
   * missed before is filled off the client's path (concurrent fills of one key are one upquery),
   * so a key read once never costs a locking read that writers would wait for.
   */
  #relayMiss(cache: Cache, keys: ReadonlyArray<Row>): Upstream {
    cache.stats.relayedMisses++;
    const reader = cache.built.reader;
    let absent = 0;
    let again: Row[] | null = null;
    const seen = keys.length > 1 ? new Set<string>() : null;
    for (const k of keys) {
      const ks = keyString(k, reader.fold);
      // Present but held back until the stream catches up with its fill (cache.ahead).
      if (reader.state.has(ks)) continue;
      // `IN (3, 3)` is one read of key 3.
      if (seen !== null) {
        if (seen.has(ks)) continue;
        seen.add(ks);
      }
      absent++;
      const h = hashKey(`${cache.id}\0${ks}`);
      this.#missed.add(h);
      if (this.#missed.estimate(h) > 1) (again ??= []).push(k);
    }
    if (again !== null) this.backend.fillBehind(cache, again);
    const r = absent === 0 ? MISS_AHEAD : again !== null ? MISS_FILLED : MISS_FIRST;
    this.backend.recordUpstream(r.reason as string);
    return r;
  }

  async #filled(cache: Cache, keys: ReadonlyArray<Row>, limit: LimitSpec | null, columns: ReadonlyArray<ColumnDefinition>): Promise<Answer | null> {
    const reader = cache.built.reader;
    let filled: Filled<ReaderAnswer | ReadonlyArray<Row>>;
    try {
      filled = await fillThenRead((c, k) => this.backend.fill(c, k), cache, keys,
        () => (keys.length === 1 ? reader.peek(keyString(keys[0], reader.fold), limit) : this.#merged(cache, keys, limit, true) ?? undefined));
    } catch {
      return null;
    }
    if (filled === null) return null;
    if ('read' in filled) return { kind: 'rows', columns, rows: filled.read, cache: cache.def.name };
    const rows = limit === null ? filled.installed : answerValues(filled.installed).slice(limit.offset, limit.offset + limit.count);
    return { kind: 'rows', columns, rows, cache: cache.def.name };
  }

  #merged(cache: Cache, keys: ReadonlyArray<Row>, limit: LimitSpec | null, waited = false): ReadonlyArray<Row> | null {
    const reader = cache.built.reader;
    const seen = new Set<string>();
    const rows: Row[] = [];
    for (const k of keys) {
      const ks = keyString(k, reader.fold);
      if (seen.has(ks)) continue;
      if (!waited && cache.ahead.size > 0 && cache.ahead.has(ks)) return null;
      seen.add(ks);
      const r = reader.rows(ks);
      if (r === undefined) return null;
      for (const row of r) rows.push(row);
    }
    const sorted = reader.sortVisible(rows);
    return limit === null ? sorted : sorted.slice(limit.offset, limit.offset + limit.count);
  }

  #admin(sql: string, session: SessionView): Routed | null {
    const create = CREATE_CACHE.exec(sql);
    const given = create === null ? '' : withoutTerminator(sql.slice(create[0].length));
    if (create !== null && given !== '') {
      const name = create[2]?.replace(/^`|`$/g, '');
      const always = create[1] !== undefined;
      // `CREATE CACHE FROM pq_…`: a statement SHOW PROXIED QUERIES listed, in the database it ran in.
      const proxied = PROXIED_ID.test(given) ? this.backend.proxiedStatement(given) : undefined;
      if (proxied === null) return { kind: 'answer', answer: errorAnswer(new RotorError('ERR_PROXIED_NOT_FOUND', [given])) };
      const query = proxied?.sql ?? given;
      const target = proxied?.database ?? session.database;
      const database = target ?? this.backend.defaultDatabase;
      // A query that cannot be qualified does not parse (or names no database): its registration fails.
      return this.#authorized(session, () => {
        const q = qualifiedQuery(query, database);
        return q === null ? null : { query: q };
      }, () => {
        const refusal = this.backend.registrationRefusal();
        if (refusal !== null) return errorAnswer(new RotorError('ERR_ADMIN_TOO_MANY_REGISTRATIONS', [refusal]));
        return this.backend.register({ sql: query, ...(name ? { name } : {}), ...(target ? { database: target } : {}), ...(always ? { always } : {}) })
          .then((r): Answer => ({ kind: 'ok', affectedRows: 0, info: r.created ? '' : `The query is already cached, as ${r.name}` }), errorAnswer);
      });
    }
    if (EXPLAIN_LAST.test(sql)) return { kind: 'answer', answer: explainLastAnswer(session.lastRoute) };
    const explain = EXPLAIN_CACHE.exec(sql);
    const explained = explain === null ? '' : withoutTerminator(sql.slice(explain[0].length));
    if (explain !== null && explained !== '') {
      const database = session.database ?? this.backend.defaultDatabase;
      return this.#authorized(session, () => {
        const q = qualifiedQuery(explained, database);
        return q === null ? null : { query: q };
      }, async () => explainCacheAnswer(await this.backend.explain({ sql: explained, ...(session.database ? { database: session.database } : {}) })));
    }
    if (DROP_ALL_CACHES.test(sql)) return this.#dropAll(session);
    const drop = DROP_CACHE.exec(sql);
    if (drop !== null) {
      const id = drop[1].replace(/^`|`$/g, '');
      return this.#authorized(session, () => this.backend.cacheProbe(id), () => this.backend.drop(id).then((dropped): Answer => (dropped ? { kind: 'ok', affectedRows: 0, info: '' } : errorAnswer(new RotorError('ERR_CACHE_NOT_FOUND', [id]))), errorAnswer));
    }
    return null;
  }

  /** SHOW CACHES and SHOW PROXIED [SUPPORTED] QUERIES [LIKE '…'] [LIMIT n]; any other SHOW goes upstream. */
  #show(sql: string, session: SessionView): Routed {
    if (SHOW_CACHES.test(sql)) return this.#authorized(session, null, () => this.backend.showCaches());
    const m = SHOW_PROXIED.exec(sql);
    if (m === null) return UPSTREAM;
    const like = m[2] === undefined ? undefined : m[2].replace(/''/g, "'");
    const opts = { supportedOnly: m[1] !== undefined, ...(like === undefined ? {} : { like }), ...(m[3] === undefined ? {} : { limit: Number(m[3]) }) };
    return this.#authorized(session, null, () => this.backend.proxiedQueries(opts));
  }

  /**
   * DROP ALL CACHES: what DROP CACHE of each would check, for every cache at once (PROCESS, and
   * MariaDB lets the session prepare each cache's query): one refusal refuses the whole statement,
   * before anything is dropped. Affected rows: the caches dropped.
   */
  #dropAll(session: SessionView): Routed {
    const ids = this.backend.cacheIds();
    return this.#authorized(session, null, async () => {
      for (const id of ids) {
        const probe = this.backend.cacheProbe(id);
        if (probe === null) continue;
        if (probe.query === null) return errorAnswer(new RotorError('ERR_CACHE_ACCESS_DENIED', []));
        const refused = await mayRead(session, probe.query);
        if (refused !== null) return refused;
      }
      let dropped = 0;
      try {
        for (const id of ids) if (await this.backend.drop(id)) dropped++;
      } catch (e) {
        return errorAnswer(e);
      }
      return { kind: 'ok', affectedRows: dropped, info: '' };
    });
  }

  /**
   * Runs a cache command for a session that holds PROCESS and can prepare the cache's SELECT (so
   * SELECT on what it reads), both decided by MariaDB on the session's own upstream session;
   * otherwise answers with MariaDB's own error.
   */
  #authorized(session: SessionView, select: (() => { readonly query: QualifiedQuery | null } | null) | null, run: () => Answer | Promise<Answer>): Routed {
    const probeRow = session.probeRow;
    if (probeRow === undefined) return { kind: 'answer', answer: errorAnswer(new RotorError('ERR_CACHE_ACCESS_DENIED', [])) };
    const answer = (async (): Promise<Answer> => {
      const status = await probeRow(PROCESS_PROBE);
      if (status === null) return errorAnswer(new RotorError('ERR_CACHE_ACCESS_DENIED', []));
      if (!Array.isArray(status)) return denial(status as ProbeError);
      if (status[0] !== 'InnoDB') return errorAnswer(new RotorError('ERR_CACHE_ACCESS_DENIED', []));
      // Prepared fully qualified, so the session's current database cannot change what it names;
      // any error refuses (fails closed).
      const target = select?.() ?? null;
      if (target !== null) {
        if (target.query === null) return errorAnswer(new RotorError('ERR_CACHE_ACCESS_DENIED', []));
        const refused = await mayRead(session, target.query);
        if (refused !== null) return refused;
      }
      return run();
    })();
    return { kind: 'pending', answer };
  }
}

/**
 * [note: answer-refill] Why a cache of expressions may not answer this session: its string
 * literals (and CAST … AS CHAR, DATE_FORMAT…) take the connection's collation, in which the fills
 * computed them (src/upstream/connections.ts, a collation SET STATEMENT cannot change); or null.
 */
function collationRefusal(session: SessionView): string | null {
  if (session.collation === undefined || session.collation === UPQUERY_COLLATION) return null;
  return `the connection's collation (id ${session.collation}) is not utf8mb4_general_ci, in which the cache's expressions are computed`;
}
