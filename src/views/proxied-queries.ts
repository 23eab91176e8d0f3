/**
 * What the application sends: per normalized statement (its fingerprint, literals as `?`, in the
 * session's database), how often it ran, how often a cache answered it, and the time the upstream
 * spent on the rest — the list an operator picks caches from (`SHOW PROXIED QUERIES`,
 * `GET /api/queries`). Bounded: past `limit` statements the one with the least upstream time
 * gives its place. Never holds a statement's literals: other sessions' values are not anyone's to
 * read here, only the shape of their statements.
 */
import { createHash } from 'node:crypto';
import { LatencyHistogram } from '../latency.js';

export interface ProxiedQuery {
  /** `pq_` and 12 hex digits: stable for the statement and database; `CREATE CACHE FROM <id>` takes it. */
  readonly id: string;
  readonly query: string;
  readonly database: string | null;
  /** The statement begins with SELECT (only those may be cached). */
  readonly read: boolean;
  count: number;
  /** Executions a cache answered. */
  cached: number;
  /** Executions relayed upstream, and the time they took there (ms, from send to the response's end). */
  upstream: number;
  upstreamMs: number;
  readonly times: LatencyHistogram;
  readonly firstSeen: number;
  lastSeen: number;
}

export type ProxiedSort = 'total' | 'count' | 'p99';

/** A proxied statement's id. */
export const PROXIED_ID = /^pq_[0-9a-f]{12}$/;

export class ProxiedQueries {
  /**
   * By database, then by statement: a relayed statement's fingerprint key is looked up as it is
   * (the same string each time a statement repeats, its hash kept), never joined to its database
   * first (a new string to hash for every statement). [note: hot-path]
   */
  readonly #byDatabase = new Map<string | null, Map<string, ProxiedQuery>>();
  readonly #byId = new Map<string, ProxiedQuery>();

  constructor(readonly limit: number) {}

  get size(): number {
    return this.#byId.size;
  }

  /**
   * Counts one execution of the statement `query` (a fingerprint key) in `database`: answered by a
   * cache (`upstreamMs` null) or relayed, taking `upstreamMs` there.
   */
  record(query: string, database: string | null, upstreamMs: number | null, now = Date.now()): void {
    let inDatabase = this.#byDatabase.get(database);
    let q = inDatabase?.get(query);
    if (q === undefined) {
      if (this.limit <= 0) return;
      if (this.#byId.size >= this.limit) this.#evictLeast();
      const id = `pq_${createHash('sha1').update(`${database ?? ''}\0${query}`).digest('hex').slice(0, 12)}`;
      q = {
        id, query, database, read: /^\s*\(*\s*(?:SELECT|WITH)\b/i.test(query), count: 0, cached: 0, upstream: 0, upstreamMs: 0,
        times: new LatencyHistogram(), firstSeen: now, lastSeen: now,
      };
      if (inDatabase === undefined) this.#byDatabase.set(database, (inDatabase = new Map()));
      inDatabase.set(query, q);
      this.#byId.set(id, q);
    }
    q.count++;
    q.lastSeen = now;
    if (upstreamMs === null) {
      q.cached++;
      return;
    }
    q.upstream++;
    q.upstreamMs += upstreamMs;
    q.times.observe(upstreamMs);
  }

  byId(id: string): ProxiedQuery | null {
    return this.#byId.get(id) ?? null;
  }

  /** The statements, `sort`ed (most first), at most `limit`, those whose text `filter` accepts. */
  list(sort: ProxiedSort = 'total', limit = 100, filter?: (q: ProxiedQuery) => boolean): ProxiedQuery[] {
    const all = [...this.#byId.values()].filter((q) => filter === undefined || filter(q));
    const by = sort === 'count' ? (q: ProxiedQuery) => q.count : sort === 'p99' ? (q: ProxiedQuery) => percentileMs(q, 0.99) ?? 0 : (q: ProxiedQuery) => q.upstreamMs;
    return all.sort((a, b) => by(b) - by(a)).slice(0, limit);
  }

  clear(): void {
    this.#byDatabase.clear();
    this.#byId.clear();
  }

  #evictLeast(): void {
    let least: ProxiedQuery | null = null;
    for (const q of this.#byId.values()) if (least === null || q.upstreamMs < least.upstreamMs) least = q;
    if (least === null) return;
    const inDatabase = this.#byDatabase.get(least.database);
    inDatabase?.delete(least.query);
    if (inDatabase?.size === 0) this.#byDatabase.delete(least.database);
    this.#byId.delete(least.id);
  }
}

/** The upstream time under which `p` of the relayed executions finished (a bucket's bound), or null without any. */
export function percentileMs(q: ProxiedQuery, p: number): number | null {
  return q.times.percentile(p);
}

/** A SQL LIKE pattern (`%`, `_`, `\` escapes) as a test of a whole string, case-insensitive as MariaDB's default collations. */
export function likeMatcher(pattern: string): (s: string) => boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const compiled = new RegExp(`^${re}$`, 'i');
  return (s) => compiled.test(s);
}

/** Whether a statement can be cached: null, or why not (registration's own reasons). */
export type Cacheability = { readonly refusal: string | null; readonly cachedAs: string | null };

/** One proxied statement as `GET /api/queries` and `SHOW PROXIED QUERIES` report it. */
export interface ProxiedReport {
  readonly id: string;
  readonly query: string;
  readonly database: string | null;
  readonly count: number;
  readonly servedFromCache: number;
  readonly upstream: { readonly count: number; readonly totalMs: number; readonly p50Ms: number | null; readonly p99Ms: number | null };
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly cacheable: boolean;
  readonly reason: string | null;
  readonly cachedAs: string | null;
  /** Among the statements whose caching would save the most upstream time (a cacheable read no cache serves). */
  readonly suggested: boolean;
  /** Upstream time a cache would have saved (ms): its reads' upstream time so far, when cacheable and not cached. */
  readonly savingMs: number;
}

/** How many statements are suggested at most: the ones that would save the most. */
const SUGGESTED = 5;

/**
 * The statement's text as registration takes it: its fingerprint with an IN list as one parameter
 * list (`IN (?)` registers a lookup of any number of keys).
 */
export function registrableText(q: ProxiedQuery): string {
  return q.query.replace(/IN \(\?\+\)/g, 'IN (?)');
}

/** Reports `queries` with their cacheability, the most worthwhile cacheable ones suggested. */
export function proxiedReports(queries: ReadonlyArray<ProxiedQuery>, cacheability: ReadonlyArray<Cacheability>): ProxiedReport[] {
  const saving = queries.map((q, i) => (cacheability[i].refusal === null && cacheability[i].cachedAs === null ? q.upstreamMs : 0));
  const ranked = queries.map((q, i) => i).filter((i) => saving[i] > 0 && queries[i].upstream >= 2).sort((a, b) => saving[b] - saving[a]).slice(0, SUGGESTED);
  const suggested = new Set(ranked);
  return queries.map((q, i) => ({
    id: q.id, query: q.query, database: q.database, count: q.count, servedFromCache: q.cached,
    upstream: { count: q.upstream, totalMs: round(q.upstreamMs), p50Ms: percentileMs(q, 0.5), p99Ms: percentileMs(q, 0.99) },
    firstSeen: new Date(q.firstSeen).toISOString(), lastSeen: new Date(q.lastSeen).toISOString(),
    cacheable: cacheability[i].refusal === null, reason: cacheability[i].refusal, cachedAs: cacheability[i].cachedAs,
    suggested: suggested.has(i), savingMs: round(saving[i]),
  }));
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
