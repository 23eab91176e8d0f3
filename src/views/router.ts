/**
 * The engine's side of the proxy seam (src/proxy/read-router.ts): fingerprint a statement, find the
 * cache it matches, answer from the reader on a hit (synchronously, no parse), relay a miss (and
 * fill a key missed again in the background) or wait for its fill (`--miss-policy`:
 * miss-reads.ts), and relay everything else upstream with the reason recorded (read-refusals.ts).
 * A session's first read of a cache waits for MariaDB to confirm its user may run it ([note:
 * cached-grants]); the first read of a new spelling is relayed to learn its column names. The
 * SQL-port cache commands (`CREATE CACHE`, `DROP CACHE`, `SHOW CACHES`, …) are cache-commands.ts.
 */
import type { Answer, PreparedMatch, ReadRouter, RelayWatch, Routed, SessionView, Upstream } from '../proxy/read-router.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import { readAsSent } from '../proxy/protocol/statement-execute.js';
import { fingerprint, scopedKey, type Literal } from '../planner/fingerprint.js';
import { SqlMode } from '../planner/tokenizer.js';
import { keyString } from '../dataflow/state.js';
import { FrequencySketch } from '../dataflow/frequency-sketch.js';
import type { Row } from '../dataflow/delta.js';
import type { Value } from '../values.js';
import type { MissPolicy } from '../config.js';
import type { LimitSpec } from '../planner/limit.js';
import type { RangeReader } from '../operators/range-reader.js';
import type { Cache, ValueSource } from './cache.js';
import { mayRead, type PrivilegeChecks } from './privileges.js';
import type { ProxiedQueries } from './proxied-queries.js';
import { RouteMemo, type MemoRoute } from './route-memo.js';
import { mergedRows, presentAnswer, presentHeld } from './cache-reads.js';
import { rangeAnswer } from './range-reads.js';
import { cacheCommand, showCommand, type CommandBackend } from './cache-commands.js';
import { filledAnswer, filledRangeAnswer, relayMiss, relayRangeMiss, type MissBackend } from './miss-reads.js';
import { BAD_LIMIT, noKeys, sessionOk, whyNot, type RefusalBackend } from './read-refusals.js';

/** What the router needs from the engine. */
export interface RouterBackend extends CommandBackend, MissBackend, RefusalBackend {
  candidates(fingerprintKey: string): ReadonlyArray<Cache> | undefined;
  /** Moves whenever a cache is installed or removed under any routing key (CacheRegistry.generation). [note: route-memo] */
  readonly registryGeneration: number;
  /** Caches registered (dropped or not): with none, no statement needs a fingerprint. */
  readonly cacheCount: number;
  /** What a read of a key the reader does not hold does (config.ts `missPolicy`). */
  readonly missPolicy: MissPolicy;
  /** The most rows (offset + count) a `LIMIT ?` read is served from a cache for. [note: limit-param] */
  readonly maxLimitParam: number;
  /** Makes a `LIMIT ?` cache keep at least `rows` rows per key, evicting the keys that do not. [note: limit-param] */
  widenLimit(cache: Cache, rows: number): void;
  /** Keeps the column definitions MariaDB sent a session for a spelling of the cache's select list. */
  learnVariant(cache: Cache, selectText: string, columns: ReadonlyArray<ColumnDefinition>): void;
  /** The statements sessions send (SHOW PROXIED QUERIES). */
  readonly proxied: ProxiedQueries;
  /** Statements run where the binlog does not see them changed what they name. [note: unlogged-writes] */
  forgetUnlogged(statements: ReadonlyArray<string | null>, database: string | null): void;
  /** 'session': a session's reads after its writes wait for the binlog. [note: read-your-writes] */
  readonly consistency: 'eventual' | 'session';
  /** Resolves true once the binlog has brought the upstream's current state, false on timeout. */
  syncWrites(): Promise<boolean>;
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

const UPSTREAM: Routed = Object.freeze({ kind: 'upstream', reason: null });
const UNREAD_TYPES = 'a parameter is bound as a type (BIT, YEAR, INT24, …) the upstream does not read as sent';

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

/** What a routed read resolves to once it waited: the answer, or the relay it became. */
function settled(r: Routed): Answer | Upstream | Promise<Answer | Upstream | null> {
  return r.kind === 'answer' || r.kind === 'pending' ? r.answer : r;
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
      if (c === 0x63 /* c */ || c === 0x64 /* d */ || c === 0x65 /* e */) return cacheCommand(this.backend, sql, session) ?? UPSTREAM;
      // s(elect), w(ith), a parenthesis, or a leading comment (/* */, --, #): anything else is not a read.
      if (c !== 0x73 && c !== 0x77 && c !== 0x28 && c !== 0x2f && c !== 0x2d && c !== 0x23) return UPSTREAM;
      if ((sql.charCodeAt(i + 1) | 0x20) === 0x68 /* h */) return showCommand(this.backend, sql, session) ?? UPSTREAM;
      if (this.backend.cacheCount === 0) return UPSTREAM;
      const mode = this.#mode(session);
      // [note: route-memo] A statement seen before skips everything up to the session's checks.
      const route = this.#memo.get(sql, mode, session.database, this.backend.registryGeneration, this.#candidates) ?? this.#route(sql, mode, session);
      if (route === null) return UPSTREAM;
      const statement = route.statement;
      if (route.cache === undefined) return route.reason === null ? { kind: 'upstream', reason: null, statement } : this.#up(route.reason, statement);
      const { cache, keys, limit } = route;
      if (!sessionOk(this.backend, cache, session)) return this.#up(whyNot(this.backend, cache, session), statement);
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

  routeExecute(match: PreparedMatch, params: ReadonlyArray<Value>, session: SessionView, types?: ReadonlyArray<number>): Routed {
    try {
      const m = match as Prepared;
      // A prepared statement's tables were resolved at prepare, in the database it was prepared in
      // (matchPrepared's routing key), as MariaDB resolves them: a later USE does not move them.
      if (!sessionOk(this.backend, m.cache, session)) return this.#up(whyNot(this.backend, m.cache, session));
      // [note: value-types] A parameter bound as a type MariaDB does not read as it was sent (BIT,
      // YEAR and INT24 it reads as NULL, shifting the parameters after it; TIME2 it refuses).
      if (types !== undefined && !readAsSent(types)) return this.#up(UNREAD_TYPES);
      const keys = m.cache.keys(m.bound, params, types);
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
      if (!sessionOk(this.backend, cache, session)) return settled(this.#up(whyNot(this.backend, cache, session)));
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
    if (!sessionOk(this.backend, cache, session)) return settled(this.#up(whyNot(this.backend, cache, session)));
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
      const merged = mergedRows(cache, keys, limit);
      if (merged !== null) {
        cache.stats.hits++;
        cache.latency.observe(performance.now() - t0);
        return { kind: 'answer', answer: { kind: 'rows', columns, rows: merged, cache: cache.def.name } };
      }
    }
    cache.stats.misses++;
    // [note: memory-fill] Keys computed from states that hold or know them are answered now, read
    // back as a fill's are: a key read once keeps the tick admission gave it ([note: memory-budget]).
    if (this.backend.fillFromMemory(cache, keys)) {
      const rows = keys.length === 1 ? reader.peek(keyString(keys[0], reader.fold), limit) : mergedRows(cache, keys, limit, true);
      if (rows != null) {
        cache.stats.memoryFills++;
        return { kind: 'answer', answer: { kind: 'rows', columns, rows, cache: cache.def.name } };
      }
    }
    if (this.backend.missPolicy === 'relay' && cache.relaysMisses) return relayMiss(this.backend, this.#missed, cache, keys);
    return { kind: 'pending', answer: filledAnswer(this.backend, cache, keys, limit, columns) };
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
    if (this.backend.missPolicy === 'relay' && cache.relaysMisses) return relayRangeMiss(this.backend, this.#missed, cache, range, key);
    return { kind: 'pending', answer: filledRangeAnswer(this.backend, cache, range, key, columns) };
  }
}
