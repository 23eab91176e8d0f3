/**
 * The engine's side of the proxy seam (src/proxy/read-router.ts): fingerprint a statement, find the
 * cache it matches, answer from the reader on a hit (synchronously, no parse), start a fill on a
 * miss, and relay everything else upstream with the reason recorded. Also the SQL-port admin
 * statements `CREATE CACHE [name] FROM <select>`, `DROP CACHE <id|name>`, `SHOW CACHES`.
 */
import type { Answer, PreparedMatch, ReadRouter, Routed, SessionView } from '../proxy/read-router.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import { fingerprint, type Fingerprint } from '../planner/fingerprint.js';
import { keyString } from '../dataflow/state.js';
import type { Row } from '../dataflow/delta.js';
import { RotorError } from '../errors.js';
import type { Value } from '../values.js';
import type { Cache, ValueSource } from './cache.js';

/** What the router needs from the engine. */
export interface RouterBackend {
  candidates(fingerprintKey: string): ReadonlyArray<Cache> | undefined;
  /**
   * Fills `keys` of the cache's reader. For a single key, resolves to its rows as the fill
   * installed them (one consistent point), or undefined when they were not captured.
   */
  fill(cache: Cache, keys: ReadonlyArray<Row>): Promise<ReadonlyArray<Row> | undefined>;
  learnVariant(cache: Cache, sql: string, fp: Fingerprint, selectText: string): void;
  register(req: { sql: string; name?: string; database?: string }): Promise<unknown>;
  drop(idOrName: string): boolean;
  showCaches(): Answer;
  recordUpstream(reason: string): void;
  /** 'session': a session's reads after its writes wait for the binlog. [note: read-your-writes] */
  readonly consistency: 'eventual' | 'session';
  /** Resolves true once the binlog has brought the upstream's current state, false on timeout. */
  syncWrites(): Promise<boolean>;
  /** Why no cache may answer right now (the binlog is too far behind), or null. [note: staleness-bound] */
  readonly staleReason: string | null;
}

interface Prepared extends PreparedMatch {
  readonly cache: Cache;
  readonly bound: ReadonlyArray<ReadonlyArray<ValueSource>>;
  readonly columns: ReadonlyArray<ColumnDefinition>;
}

const UPSTREAM: Routed = Object.freeze({ kind: 'upstream', reason: null });
const NO_PARAMS: ReadonlyArray<Value> = [];

function upstream(reason: string): Routed {
  return { kind: 'upstream', reason };
}

function errorAnswer(e: unknown): Answer {
  if (e instanceof RotorError) return { kind: 'error', errno: e.errno, sqlState: e.sqlState, message: e.message };
  return { kind: 'error', errno: 1105, sqlState: 'HY000', message: e instanceof Error ? e.message : String(e) };
}

// `\s*(?:;\s*)?$`, never `\s*;?\s*$`: the two adjacent `\s*` backtrack quadratically over a run of
// spaces that is not at the end, and a lazy `[\s\S]+?` before them cubically (a COM_QUERY of a
// few KiB froze every session). CREATE CACHE's query is the rest of the statement.
const CREATE_CACHE = /^\s*CREATE\s+CACHE\s+(?:(?!FROM\s)(`[^`]+`|[^\s`]+)\s+)?FROM\s+/i;
const DROP_CACHE = /^\s*DROP\s+CACHE\s+(`[^`]+`|[^\s`;]+)\s*(?:;\s*)?$/i;
const SHOW_CACHES = /^\s*SHOW\s+CACHES\s*(?:;\s*)?$/i;

/** A statement without its trailing `;` and whitespace. */
function withoutTerminator(sql: string): string {
  const s = sql.trimEnd();
  return s.endsWith(';') ? s.slice(0, -1).trimEnd() : s;
}

export class CacheRouter implements ReadRouter {
  /** Per session, how many of its writes its cached reads are known to include. */
  readonly #synced = new WeakMap<SessionView, number>();

  constructor(readonly backend: RouterBackend) {}

  routeQuery(sql: string, session: SessionView): Routed {
    try {
      let i = 0;
      while (i < sql.length && sql.charCodeAt(i) <= 32) i++;
      const c = sql.charCodeAt(i) | 0x20;
      // [note: hot-path] Writes and most other statements leave here on their first letter.
      if (c === 0x63 /* c */ || c === 0x64 /* d */) return this.#admin(sql, session) ?? UPSTREAM;
      // s(elect), a parenthesis, or a leading comment (/* */, --, #): anything else is not a read.
      if (c !== 0x73 && c !== 0x28 && c !== 0x2f && c !== 0x2d && c !== 0x23) return UPSTREAM;
      if ((sql.charCodeAt(i + 1) | 0x20) === 0x68 /* h */) return SHOW_CACHES.test(sql) ? { kind: 'answer', answer: this.backend.showCaches() } : UPSTREAM;
      const fp = fingerprint(sql);
      if (fp === null) return UPSTREAM;
      const cands = this.backend.candidates(fp.key);
      if (cands === undefined) return UPSTREAM;
      for (const cache of cands) {
        const bound = cache.bind(fp.literals);
        if (bound === null) continue;
        if (!this.#sessionOk(cache, session)) return this.#up(this.#whyNot(cache, session));
        const columns = this.#columns(cache, sql, fp);
        if (columns === null) return this.#up('learning the column names of a new spelling of the query');
        const keys = cache.keys(bound, NO_PARAMS);
        if (keys === null) return this.#up('a parameter does not compare as a plain key (NULL, or another type)');
        return this.#serveSession(session, cache, keys, columns);
      }
      return this.#up('the statement matches a cache except for a constant');
    } catch (e) {
      return this.#up(`router error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  matchPrepared(sql: string, session: SessionView): PreparedMatch | null {
    try {
      const fp = fingerprint(sql);
      if (fp === null) return null;
      for (const cache of this.backend.candidates(fp.key) ?? []) {
        const bound = cache.bind(fp.literals);
        if (bound === null) continue;
        if (cache.plan.unqualified && session.database !== cache.def.database) return null;
        const columns = this.#columns(cache, sql, fp);
        if (columns === null) return null;
        const m: Prepared = { cacheId: cache.id, cache, bound, columns };
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
      if (m.cache.status !== 'ready' || session.inTransaction || session.cacheBlocker !== null || this.backend.staleReason !== null) return this.#up(this.#whyNot(m.cache, session));
      const keys = m.cache.keys(m.bound, params);
      if (keys === null) return this.#up('a parameter does not compare as a plain key (NULL, or another type)');
      return this.#serveSession(session, m.cache, keys, m.columns);
    } catch (e) {
      return this.#up(`router error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #up(reason: string): Routed {
    this.backend.recordUpstream(reason);
    return upstream(reason);
  }

  #sessionOk(cache: Cache, session: SessionView): boolean {
    return cache.status === 'ready' && !session.inTransaction && session.cacheBlocker === null
      && this.backend.staleReason === null && (!cache.plan.unqualified || session.database === cache.def.database);
  }

  #whyNot(cache: Cache, session: SessionView): string {
    if (cache.status !== 'ready') return `cache ${cache.id} is ${cache.status}`;
    if (session.inTransaction) return 'inside a transaction';
    if (session.cacheBlocker !== null) return session.cacheBlocker;
    if (this.backend.staleReason !== null) return this.backend.staleReason;
    return `the session's database is not ${cache.def.database}`;
  }

  #columns(cache: Cache, sql: string, fp: Fingerprint): ReadonlyArray<ColumnDefinition> | null {
    const text = fp.selectStart >= 0 ? sql.slice(fp.selectStart, fp.selectEnd) : '';
    const cols = cache.variants.get(text);
    if (cols !== undefined) return cols;
    this.backend.learnVariant(cache, sql, fp, text);
    return null;
  }

  // [note: read-your-writes] In 'session' consistency, a session that changed rows since its last
  // synced read first waits until the binlog stream has applied the upstream's state as of now
  // (Engine.syncWrites), which contains those writes; on timeout the read goes upstream. Pinned by
  // test/e2e/read-your-writes.test.ts.
  #serveSession(session: SessionView, cache: Cache, keys: ReadonlyArray<Row>, columns: ReadonlyArray<ColumnDefinition>): Routed {
    if (this.backend.consistency !== 'session' || session.writes <= (this.#synced.get(session) ?? 0)) return this.#serve(cache, keys, columns);
    return { kind: 'pending', answer: this.#afterSync(session, session.writes, cache, keys, columns) };
  }

  async #afterSync(session: SessionView, writes: number, cache: Cache, keys: ReadonlyArray<Row>, columns: ReadonlyArray<ColumnDefinition>): Promise<Answer | null> {
    const synced = await this.backend.syncWrites().catch(() => false);
    if (!synced) {
      this.backend.recordUpstream('the binlog did not bring the session\'s own writes in time (--consistency session)');
      return null;
    }
    if ((this.#synced.get(session) ?? 0) < writes) this.#synced.set(session, writes);
    const r = this.#serve(cache, keys, columns);
    return r.kind === 'answer' ? r.answer : r.kind === 'pending' ? r.answer : null;
  }

  #serve(cache: Cache, keys: ReadonlyArray<Row>, columns: ReadonlyArray<ColumnDefinition>): Routed {
    const t0 = performance.now();
    const reader = cache.built.reader;
    if (keys.length === 1) {
      const ks = keyString(keys[0], reader.fold);
      const rows = cache.ahead.size > 0 && cache.ahead.has(ks) ? undefined : reader.answer(ks);
      if (rows !== undefined) {
        cache.stats.hits++;
        cache.latency.add(performance.now() - t0);
        return { kind: 'answer', answer: { kind: 'rows', columns, rows } };
      }
    } else {
      const merged = this.#merged(cache, keys);
      if (merged !== null) {
        cache.stats.hits++;
        cache.latency.add(performance.now() - t0);
        return { kind: 'answer', answer: { kind: 'rows', columns, rows: merged } };
      }
    }
    cache.stats.misses++;
    return { kind: 'pending', answer: this.#filled(cache, keys, columns) };
  }

  async #filled(cache: Cache, keys: ReadonlyArray<Row>, columns: ReadonlyArray<ColumnDefinition>): Promise<Answer | null> {
    const reader = cache.built.reader;
    // A key can be evicted again between its fill and this answer (an eviction, a MIN/MAX losing
    // its extreme while the fill waits for the stream): fill again rather than give up. A single
    // key falls back to the rows its last fill installed, which were exact at that fill's position.
    let installed: ReadonlyArray<Row> | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        installed = await this.backend.fill(cache, keys);
      } catch {
        return null;
      }
      const rows = keys.length === 1 ? reader.answer(keyString(keys[0], reader.fold)) : this.#merged(cache, keys, true);
      if (rows !== undefined && rows !== null) return { kind: 'rows', columns, rows };
    }
    return installed === undefined ? null : { kind: 'rows', columns, rows: installed };
  }

  #merged(cache: Cache, keys: ReadonlyArray<Row>, waited = false): ReadonlyArray<Row> | null {
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
    return reader.sortVisible(rows);
  }

  #admin(sql: string, session: SessionView): Routed | null {
    const create = CREATE_CACHE.exec(sql);
    const query = create === null ? '' : withoutTerminator(sql.slice(create[0].length));
    if (create !== null && query !== '') {
      const name = create[1]?.replace(/^`|`$/g, '');
      const answer = this.backend
        .register({ sql: query, ...(name ? { name } : {}), ...(session.database ? { database: session.database } : {}) })
        .then((): Answer => ({ kind: 'ok', affectedRows: 0, info: '' }), errorAnswer);
      return { kind: 'pending', answer };
    }
    const drop = DROP_CACHE.exec(sql);
    if (drop !== null) {
      const id = drop[1].replace(/^`|`$/g, '');
      return {
        kind: 'answer',
        answer: this.backend.drop(id) ? { kind: 'ok', affectedRows: 0, info: '' } : errorAnswer(new RotorError('ERR_CACHE_NOT_FOUND', [id])),
      };
    }
    return null;
  }
}
