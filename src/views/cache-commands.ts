/**
 * The cache commands on the SQL port: `CREATE CACHE [ALWAYS] [name] FROM <select | pq_…>`,
 * `EXPLAIN CACHE <select>`, `EXPLAIN LAST STATEMENT`, `DROP CACHE <id|name>`, `DROP ALL CACHES`,
 * `SHOW CACHES` and `SHOW PROXIED [SUPPORTED] QUERIES [LIKE '…'] [LIMIT n]`, for users with the
 * PROCESS privilege, which MariaDB checks on the session's own upstream session. The router
 * (src/views/router.ts) hands them the statements that may be one.
 */
import type { Answer, ProbeError, Routed, SessionView } from '../proxy/read-router.js';
import { qualifiedQuery, type QualifiedQuery } from '../planner/parse.js';
import { RotorError } from '../errors.js';
import { denial, errorAnswer, mayRead } from './privileges.js';
import type { Explained } from './register.js';
import { PROXIED_ID } from './proxied-queries.js';
import { explainCacheAnswer, explainLastAnswer } from './show-caches.js';

/** What the cache commands need from the engine. */
export interface CommandBackend {
  register(req: { sql: string; name?: string; database?: string; always?: boolean }): Promise<{ readonly name: string; readonly created: boolean }>;
  /** False when no such cache; rejects with a RotorError when the drop is refused (the shared registry is down). */
  drop(idOrName: string): Promise<boolean>;
  /** EXPLAIN CACHE: what registering the statement would do, nothing registered. */
  explain(req: { sql: string; database?: string }): Promise<Explained>;
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
}

/**
 * Cache commands need the PROCESS privilege (they see and change what every session's reads do, as
 * SHOW PROCESSLIST sees every session's statements). MariaDB itself decides whether the session
 * holds it: this statement fails with 1227 without it.
 */
const PROCESS_PROBE = 'SHOW ENGINE INNODB STATUS';

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

/**
 * CREATE CACHE, EXPLAIN CACHE, EXPLAIN LAST STATEMENT, DROP CACHE and DROP ALL CACHES, or null when
 * `sql` is none of them.
 */
export function cacheCommand(backend: CommandBackend, sql: string, session: SessionView): Routed | null {
  const create = CREATE_CACHE.exec(sql);
  const given = create === null ? '' : withoutTerminator(sql.slice(create[0].length));
  if (create !== null && given !== '') {
    const name = create[2]?.replace(/^`|`$/g, '');
    const always = create[1] !== undefined;
    // `CREATE CACHE FROM pq_…`: a statement SHOW PROXIED QUERIES listed, in the database it ran in.
    const proxied = PROXIED_ID.test(given) ? backend.proxiedStatement(given) : undefined;
    if (proxied === null) return { kind: 'answer', answer: errorAnswer(new RotorError('ERR_PROXIED_NOT_FOUND', [given])) };
    const query = proxied?.sql ?? given;
    const target = proxied?.database ?? session.database;
    const database = target ?? backend.defaultDatabase;
    // A query that cannot be qualified does not parse (or names no database): its registration fails.
    return authorized(session, () => {
      const q = qualifiedQuery(query, database);
      return q === null ? null : { query: q };
    }, () => {
      const refusal = backend.registrationRefusal();
      if (refusal !== null) return errorAnswer(new RotorError('ERR_ADMIN_TOO_MANY_REGISTRATIONS', [refusal]));
      return backend.register({ sql: query, ...(name ? { name } : {}), ...(target ? { database: target } : {}), ...(always ? { always } : {}) })
        .then((r): Answer => ({ kind: 'ok', affectedRows: 0, info: r.created ? '' : `The query is already cached, as ${r.name}` }), errorAnswer);
    });
  }
  if (EXPLAIN_LAST.test(sql)) return { kind: 'answer', answer: explainLastAnswer(session.lastRoute) };
  const explain = EXPLAIN_CACHE.exec(sql);
  const explained = explain === null ? '' : withoutTerminator(sql.slice(explain[0].length));
  if (explain !== null && explained !== '') {
    const database = session.database ?? backend.defaultDatabase;
    return authorized(session, () => {
      const q = qualifiedQuery(explained, database);
      return q === null ? null : { query: q };
    }, async () => explainCacheAnswer(await backend.explain({ sql: explained, ...(session.database ? { database: session.database } : {}) })));
  }
  if (DROP_ALL_CACHES.test(sql)) return dropAll(backend, session);
  const drop = DROP_CACHE.exec(sql);
  if (drop !== null) {
    const id = drop[1].replace(/^`|`$/g, '');
    return authorized(session, () => backend.cacheProbe(id), () => backend.drop(id).then((dropped): Answer => (dropped ? { kind: 'ok', affectedRows: 0, info: '' } : errorAnswer(new RotorError('ERR_CACHE_NOT_FOUND', [id]))), errorAnswer));
  }
  return null;
}

/** SHOW CACHES and SHOW PROXIED [SUPPORTED] QUERIES [LIKE '…'] [LIMIT n]; null for any other SHOW (it goes upstream). */
export function showCommand(backend: CommandBackend, sql: string, session: SessionView): Routed | null {
  if (SHOW_CACHES.test(sql)) return authorized(session, null, () => backend.showCaches());
  const m = SHOW_PROXIED.exec(sql);
  if (m === null) return null;
  const like = m[2] === undefined ? undefined : m[2].replace(/''/g, "'");
  const opts = { supportedOnly: m[1] !== undefined, ...(like === undefined ? {} : { like }), ...(m[3] === undefined ? {} : { limit: Number(m[3]) }) };
  return authorized(session, null, () => backend.proxiedQueries(opts));
}

/**
 * DROP ALL CACHES: what DROP CACHE of each would check, for every cache at once (PROCESS, and
 * MariaDB lets the session prepare each cache's query): one refusal refuses the whole statement,
 * before anything is dropped. Affected rows: the caches dropped.
 */
function dropAll(backend: CommandBackend, session: SessionView): Routed {
  const ids = backend.cacheIds();
  return authorized(session, null, async () => {
    for (const id of ids) {
      const probe = backend.cacheProbe(id);
      if (probe === null) continue;
      if (probe.query === null) return errorAnswer(new RotorError('ERR_CACHE_ACCESS_DENIED', []));
      const refused = await mayRead(session, probe.query);
      if (refused !== null) return refused;
    }
    let dropped = 0;
    try {
      for (const id of ids) if (await backend.drop(id)) dropped++;
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
function authorized(session: SessionView, select: (() => { readonly query: QualifiedQuery | null } | null) | null, run: () => Answer | Promise<Answer>): Routed {
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