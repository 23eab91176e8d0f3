/**
 * The engine's side of the HTTP read seam (src/proxy/read-router.ts `KeyReadRouter`): a cache read
 * by name and key, without SQL. Who may read is decided as for a SQL read of the cache (an account
 * MariaDB lets run the SELECT, [note: http-principals]), or by a read token of the cache or its
 * public mark (src/views/read-access.ts); the keys are bound and coerced as the same values written
 * as literals in the cache's statement would be ([note: http-keys]); the rows come from the reader
 * through the read path SQL reads take ([note: one-read-path]), a miss filled as under
 * `--miss-policy fill` (there is no session to relay it to), as JSON made once per change of a key
 * ([note: derived-answer], [note: http-values]).
 */
import type { ReaderAnswer } from '../dataflow/operator.js';
import type { Row } from '../dataflow/delta.js';
import { keyString } from '../dataflow/state.js';
import { RotorError, type ErrorCode } from '../errors.js';
import { coerceParam, type ValueType } from '../planner/coerce.js';
import type { KeyJson, KeyReadAnswer, KeyReadError, KeyReadRouter, KeyRequest, KeyValue, NumberText, ReadCredentials } from '../proxy/read-router.js';
import type { Value } from '../values.js';
import { AnswerJson, type JsonAnswer } from './answer-json.js';
import { fillThenRead, notServing, presentAnswer, presentAs } from './cache-reads.js';
import { numberLiteral, type Cache, type ValueSource } from './cache.js';
import type { Principal, Principals } from './http-principals.js';
import { mayRead, type PrivilegeChecks } from './privileges.js';
import type { ReadAccess } from './read-access.js';
import { parameterOf } from './statement-plan.js';

/** Keys one HTTP read may name at most. */
export const MAX_HTTP_KEYS = 1_000;

/** What the HTTP reads need from the engine. */
export interface HttpReadsBackend {
  /** The cache of this id or name, or null. */
  cache(idOrName: string): Cache | null;
  readonly staleReason: string | null;
  readonly timeZoneReason: string | null;
  readonly parseModeReason?: string | null;
  /** Why caches answering CHAR values may not answer (the upstream's sql_mode pads them), or null. */
  readonly padCharReason?: string | null;
  readonly privileges: PrivilegeChecks;
  /** A miss, filled for a read that waits (Engine.fill, src/views/cache-reads.ts). */
  fill(cache: Cache, keys: ReadonlyArray<Row>): Promise<ReaderAnswer | undefined>;
}

function failure(code: ErrorCode, args: ReadonlyArray<string | number> = []): KeyReadError {
  const e = new RotorError(code, args);
  return { kind: 'error', http: e.http, code, errno: e.errno, sqlState: e.sqlState, message: e.message };
}

/** MariaDB's own error, with the HTTP status of what it refused. */
function upstreamError(e: { errno: number; sqlState: string; message: string }, http: number): KeyReadError {
  return { kind: 'error', http, code: 'UPSTREAM', errno: e.errno, sqlState: e.sqlState, message: e.message };
}

const NO_PARAMS: ReadonlyArray<Value> = [];

function isNumberText(v: KeyValue): v is NumberText {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v);
}

function isError(x: unknown): x is KeyReadError {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'error';
}

/** Who a read is made as: an account (its grants checked), or a token or public mark (nothing to check). */
type Reader = { readonly principal: Principal; readonly password: string } | null;

export class HttpReads implements KeyReadRouter {
  readonly #json = new WeakMap<Cache, AnswerJson>();
  /** Caches by the name a request gives (a name lookup in the registry walks every cache). */
  readonly #byName = new Map<string, Cache>();

  /** `memo` false: a key's JSON is made on every read (the benchmark's comparison). */
  constructor(readonly backend: HttpReadsBackend, readonly access: ReadAccess, readonly principals: Principals, readonly memo = true) {}

  read(name: string, req: KeyRequest, cred: ReadCredentials, source: string): KeyReadAnswer | KeyReadError | Promise<KeyReadAnswer | KeyReadError> {
    try {
      const cache = this.#cache(name);
      switch (cred.kind) {
        case 'none':
          // Without credentials, a cache that is not public and one that does not exist look alike.
          if (cache === null || !this.access.isPublic(cache.id)) return failure('ERR_HTTP_UNAUTHORIZED');
          return this.#afterAccess(cache, req, null);
        case 'bearer': {
          const token = this.access.token(cred.token);
          if (token === undefined) return failure('ERR_HTTP_TOKEN_INVALID');
          // A cache that does not exist looks like one the token is not for.
          if (cache === null || token.cacheId !== cache.id) return failure('ERR_HTTP_TOKEN_OTHER_CACHE', [name]);
          return this.#afterAccess(cache, req, null);
        }
        case 'basic': {
          const v = this.principals.verify(cred.user, cred.password, source);
          const go = (p: Awaited<typeof v>): KeyReadAnswer | KeyReadError | Promise<KeyReadAnswer | KeyReadError> => {
            if (p === 'busy') return failure('ERR_HTTP_LOGINS_BUSY');
            if ('kind' in p) return p.kind === 'refused' ? upstreamError(p.error, 401) : failure('ERR_HTTP_UPSTREAM_UNREACHABLE', [p.message]);
            // The cache is looked up again: it may have been dropped while the login ran.
            const c = cache !== null && v instanceof Promise ? this.#cache(name) : cache;
            if (c === null) return failure('ERR_CACHE_NOT_FOUND', [name]);
            return this.#afterAccess(c, req, { principal: p, password: cred.password });
          };
          return v instanceof Promise ? v.then(go, (e: unknown) => failure('ERR_INTERNAL', [String(e)])) : go(v);
        }
      }
    } catch (e) {
      return failure('ERR_INTERNAL', [e instanceof Error ? e.message : String(e)]);
    }
  }

  /** The cache by id or name, remembered by name while it stays registered. */
  #cache(name: string): Cache | null {
    const known = this.#byName.get(name);
    if (known !== undefined && this.backend.cache(known.id) === known && (known.def.name === name || known.id === name)) return known;
    const c = this.backend.cache(name);
    if (c === null) this.#byName.delete(name);
    else {
      if (this.#byName.size >= 4_096) this.#byName.clear();
      this.#byName.set(name, c);
    }
    return c;
  }

  /**
   * Grants (for an account), then the keys, then the answer. An account MariaDB refuses learns
   * nothing more of the cache (its state, its LIMIT, the tables MariaDB's refusal names).
   */
  #afterAccess(cache: Cache, req: KeyRequest, reader: Reader): KeyReadAnswer | KeyReadError | Promise<KeyReadAnswer | KeyReadError> {
    if (reader === null) return this.#servable(cache, req);
    const privileges = this.backend.privileges;
    const { principal } = reader;
    const verdict = privileges.checked(principal, cache.grantKey);
    if (verdict === true) return this.#servable(cache, req);
    if (verdict === false) return failure('ERR_HTTP_ACCESS_DENIED', [principal.user, cache.def.name]);
    const query = cache.probe;
    if (query === null) return failure('ERR_HTTP_ACCESS_DENIED', [principal.user, cache.def.name]);
    // [note: cached-grants] The account's first read of the cache (in this privilege epoch): MariaDB
    // decides on the account's own session, as it does for a SQL session's.
    const record = privileges.begin(principal, cache.grantKey);
    return mayRead(principal.prober(reader.password), query, cache.views).then((refused) => {
      record(refused === null);
      if (refused !== null) {
        return refused.kind === 'error' && (refused.errno === 2003 || refused.errno === 2013) ? upstreamError(refused, 503)
          : failure('ERR_HTTP_ACCESS_DENIED', [principal.user, cache.def.name]);
      }
      return this.#servable(cache, req);
    });
  }

  /** A reader that may read the cache: whether it can answer now, then the keys and the answer. */
  #servable(cache: Cache, req: KeyRequest): KeyReadAnswer | KeyReadError | Promise<KeyReadAnswer | KeyReadError> {
    const why = notServing(cache, this.backend);
    if (why !== null) return failure('ERR_HTTP_UNAVAILABLE', [cache.def.name, why]);
    // Its row count is the statement's, not a parameter of the key ([note: limit-param]).
    if (cache.built.range !== undefined) return failure('ERR_HTTP_BAD_KEY', [cache.def.name, 'its parameters bound a range, which HTTP reads do not serve yet: read it over SQL']);
    if (cache.plan.slots.some((sl) => sl.kind === 'limit')) return failure('ERR_HTTP_BAD_KEY', [cache.def.name, 'its LIMIT is a parameter, which an HTTP read cannot give: register the query with a constant LIMIT']);
    return this.#keysThenServe(cache, req);
  }

  #keysThenServe(cache: Cache, req: KeyRequest): KeyReadAnswer | KeyReadError | Promise<KeyReadAnswer | KeyReadError> {
    const keys = req.kind === 'query' ? this.#queryKey(cache, req.pairs) : this.#bodyKeys(cache, req.keys);
    if (isError(keys)) return keys;
    return this.#serve(cache, keys);
  }

  /**
   * [note: http-keys] A query string names one key: each parameter (a `?` of the cache's statement,
   * in order) once, by position (`key=…`, repeated in order) or by its column (`item_id=…`, or
   * `table.column=…` where two parameters share a column name), not both. Every value is a string,
   * bound as the same text written as a quoted literal in the statement would be (`id = '42'` finds
   * key 42 of an INT column, as MariaDB compares them).
   */
  #queryKey(cache: Cache, pairs: ReadonlyArray<readonly [string, string]>): Row[] | KeyReadError {
    const params = cache.plan.params;
    const name = cache.def.name;
    const values: Value[] = new Array(params.length);
    const positional = pairs.length > 0 && pairs.every(([k]) => k === 'key');
    if (positional) {
      if (pairs.length !== params.length) return failure('ERR_HTTP_BAD_KEY', [name, `it has ${params.length} parameter(s) (${this.#names(cache).join(', ')}), ${pairs.length} given`]);
      for (let i = 0; i < pairs.length; i++) values[i] = pairs[i][1];
    } else {
      const names = params.map((p) => parameterOf(cache.plan, p.column));
      const given = new Array<boolean>(params.length).fill(false);
      for (const [k, v] of pairs) {
        if (k === 'key') return failure('ERR_HTTP_BAD_KEY', [name, 'give the parameters by position (key=…) or by name, not both']);
        const at = names.flatMap((n, i) => (k === n.column || k === `${n.table}.${n.column}` ? [i] : []));
        if (at.length === 0) return failure('ERR_HTTP_BAD_KEY', [name, `no parameter ${k} (it has ${this.#names(cache).join(', ')})`]);
        if (at.length > 1) return failure('ERR_HTTP_BAD_KEY', [name, `${k} names ${at.length} parameters: write table.column, or give them by position`]);
        if (given[at[0]]) return failure('ERR_HTTP_BAD_KEY', [name, `${k} is given twice (several keys: POST /v1/caches/${name}/lookup)`]);
        given[at[0]] = true;
        values[at[0]] = v;
      }
      const missing = given.flatMap((g, i) => (g ? [] : [this.#names(cache)[i]]));
      if (missing.length > 0) return failure('ERR_HTTP_BAD_KEY', [name, `missing ${missing.join(', ')}`]);
    }
    const key = this.#key(cache, values);
    return isError(key) ? key : [key];
  }

  /** A body's key tuples: each the cache's parameters in order ([note: http-keys]). */
  #bodyKeys(cache: Cache, tuples: ReadonlyArray<ReadonlyArray<KeyValue>>): Row[] | KeyReadError {
    const name = cache.def.name;
    if (tuples.length === 0) return failure('ERR_HTTP_BAD_KEY', [name, 'no keys given']);
    if (tuples.length > MAX_HTTP_KEYS) return failure('ERR_HTTP_BAD_KEY', [name, `${tuples.length} keys, more than ${MAX_HTTP_KEYS} in one request`]);
    const n = cache.plan.params.length;
    const out: Row[] = [];
    for (const t of tuples) {
      if (t.length !== n) return failure('ERR_HTTP_BAD_KEY', [name, `a key has ${t.length} value(s); the cache has ${n} parameter(s) (${this.#names(cache).join(', ')})`]);
      const key = this.#key(cache, t);
      if (isError(key)) return key;
      out.push(key);
    }
    return out;
  }

  /**
   * One key from its values, each bound as the same literal written in the cache's statement would
   * be ([note: http-keys]; a JSON number with a point or an exponent typed as such a literal is,
   * [note: value-types]), and coerced as the router coerces a statement's literals (Cache.keys).
   */
  #key(cache: Cache, values: ReadonlyArray<KeyValue>): Row | KeyReadError {
    const bound: ValueSource[][] = values.map((v) => [isNumberText(v) ? numberLiteral(v.number) : { v }]);
    const keys = cache.keys(bound, NO_PARAMS);
    if (keys !== null && keys.length === 1) return keys[0];
    const cols = cache.plan.schema.columns;
    const names = this.#names(cache);
    for (let i = 0; i < values.length; i++) {
      const src = bound[i][0] as { readonly v: Value; readonly t?: ValueType };
      if (src.v === null) return failure('ERR_HTTP_BAD_KEY', [cache.def.name, `${names[i]} is null, which no row equals`]);
      if (coerceParam(src.v, cols[cache.plan.params[i].column], src.t) === undefined) {
        const shown = src.t === undefined ? JSON.stringify(String(src.v)) : String(src.v);
        return failure('ERR_HTTP_BAD_KEY', [cache.def.name, `${shown.slice(0, 80)} does not compare with ${names[i]} as a plain key (MariaDB would convert it)`]);
      }
    }
    return failure('ERR_HTTP_BAD_KEY', [cache.def.name, 'the values do not make a key']);
  }

  #names(cache: Cache): string[] {
    return cache.plan.params.map((p) => parameterOf(cache.plan, p.column).column);
  }

  /** A key's JSON made afresh, not kept (`memo` false). */
  #unkept(cache: Cache, ks: string, json: AnswerJson): JsonAnswer | undefined {
    const a = presentAnswer(cache, ks);
    return a === undefined ? undefined : json.make(a);
  }

  #jsonOf(cache: Cache): AnswerJson {
    let j = this.#json.get(cache);
    if (j === undefined) this.#json.set(cache, (j = new AnswerJson(cache.def.columns)));
    return j;
  }

  /** [note: one-read-path] Present keys at once; missing ones filled together, then read back. */
  #serve(cache: Cache, keys: ReadonlyArray<Row>): KeyReadAnswer | KeyReadError | Promise<KeyReadAnswer | KeyReadError> {
    const t0 = performance.now();
    const json = this.#jsonOf(cache);
    const reader = cache.built.reader;
    const out: KeyJson[] = new Array(keys.length);
    const ks = keys.map((k) => keyString(k, reader.fold));
    let missing: number[] | null = null;
    for (let i = 0; i < keys.length; i++) {
      const a = this.memo ? presentAs(cache, ks[i], json.make) : this.#unkept(cache, ks[i], json);
      if (a !== undefined) out[i] = a;
      else (missing ??= []).push(i);
    }
    const publicCache = this.access.isPublic(cache.id);
    if (missing === null) {
      cache.stats.hits++;
      cache.latency.observe(performance.now() - t0);
      return { kind: 'rows', columns: json.columnsJson, keys: out, public: publicCache };
    }
    cache.stats.misses++;
    const absent = missing;
    const unique = [...new Map(absent.map((i) => [ks[i], keys[i]])).values()];
    const readBack = (): JsonAnswer[] | undefined => {
      const got: JsonAnswer[] = [];
      for (const i of absent) {
        const a = reader.answerAs(ks[i], json.make, false);
        if (a === undefined) return undefined;
        got.push(a);
      }
      return got;
    };
    return fillThenRead((c, k) => this.backend.fill(c, k), cache, unique, readBack).then((filled): KeyReadAnswer | KeyReadError => {
      if (filled === null) return failure('ERR_CACHE_FILL_FAILED', ['the keys were evicted again as they were filled']);
      const got = 'read' in filled ? filled.read : absent.map(() => json.make(filled.installed));
      absent.forEach((i, j) => { out[i] = got[j]; });
      return { kind: 'rows', columns: json.columnsJson, keys: out, public: publicCache };
    }, (e: unknown) => failure('ERR_CACHE_FILL_FAILED', [e instanceof Error ? e.message : String(e)]));
  }
}
