/**
 * The proxied statements as an operator reads them (`SHOW PROXIED QUERIES`, `GET /api/queries`,
 * `CREATE CACHE FROM pq_…`): each with whether it can be cached, as a dry run of registration
 * found it (remembered for a minute), and the cache already registered for it.
 */
import type { Answer } from '../proxy/read-router.js';
import { fingerprint } from '../planner/fingerprint.js';
import type { Explained } from './register.js';
import type { CacheRegistry } from './registry.js';
import { likeMatcher, proxiedReports, registrableText, type Cacheability, type ProxiedQueries, type ProxiedQuery, type ProxiedReport, type ProxiedSort } from './proxied-queries.js';
import { proxiedQueriesAnswer } from './show-caches.js';

export class ProxiedReports {
  readonly #proxied: ProxiedQueries;
  readonly #registry: CacheRegistry;
  readonly #dryRun: { explain(req: { sql: string; database?: string }): Promise<Explained> };
  /** Whether each proxied statement can be cached, as a dry run of registration found it, and when. */
  readonly #cacheability = new Map<string, { readonly refusal: string | null; readonly at: number }>();

  constructor(proxied: ProxiedQueries, registry: CacheRegistry, dryRun: { explain(req: { sql: string; database?: string }): Promise<Explained> }) {
    this.#proxied = proxied;
    this.#registry = registry;
    this.#dryRun = dryRun;
  }

  /** A proxied statement's registrable text and database, by its id (`CREATE CACHE FROM pq_…`). */
  statement(id: string): { readonly sql: string; readonly database: string | null } | null {
    const q = this.#proxied.byId(id);
    return q === null ? null : { sql: registrableText(q), database: q.database };
  }

  /** The proxied statements, `sort`ed, with whether each can be cached and which to cache first. */
  async reports(opts: { sort?: ProxiedSort; like?: string; limit?: number; supportedOnly?: boolean } = {}): Promise<ProxiedReport[]> {
    const limit = opts.limit ?? 100;
    const like = opts.like === undefined ? null : likeMatcher(opts.like);
    const list = this.#proxied.list(opts.sort ?? 'total', opts.supportedOnly ? this.#proxied.size : limit, like === null ? undefined : (q) => like(q.query));
    const cacheability: Cacheability[] = [];
    for (const q of list) cacheability.push(await this.#cacheabilityOf(q));
    const reports = proxiedReports(list, cacheability);
    return opts.supportedOnly ? reports.filter((r) => r.cacheable).slice(0, limit) : reports;
  }

  /** SHOW PROXIED [SUPPORTED] QUERIES. */
  async answer(opts: { like?: string; limit?: number; supportedOnly?: boolean }): Promise<Answer> {
    return proxiedQueriesAnswer(await this.reports(opts));
  }

  /** A dry run of registration, remembered for a minute (a table's change may change it). */
  async #cacheabilityOf(q: ProxiedQuery): Promise<Cacheability> {
    if (!q.read) return { refusal: 'not a SELECT', cachedAs: null };
    const sql = registrableText(q);
    const database = q.database ?? undefined;
    const fp = fingerprint(sql);
    const cachedAs = fp === null || q.database === null ? null : this.#registry.findSame(fp, q.database)?.def.name ?? null;
    const known = this.#cacheability.get(q.id);
    const now = Date.now();
    if (known !== undefined && now - known.at < 60_000) return { refusal: known.refusal, cachedAs };
    let refusal: string | null;
    try {
      refusal = (await this.#dryRun.explain({ sql, ...(database === undefined ? {} : { database }) })).refusal;
    } catch (e) {
      refusal = e instanceof Error ? e.message : String(e);
    }
    this.#cacheability.set(q.id, { refusal, at: now });
    if (this.#cacheability.size > 4 * Math.max(1, this.#proxied.limit)) this.#cacheability.clear();
    return { refusal, cachedAs };
  }
}
