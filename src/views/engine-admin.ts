/**
 * The engine's admin surface, a cache named by its id or its name (the admin API, the SQL port's
 * cache commands): registration, where a proxied statement's id (`pq_…`) stands for its text; what
 * a cache is; drop, and what dropping a cache here undoes; eviction; the read tokens and public
 * marks of HTTP reads; a cache's dataflow as DOT.
 */
import { RotorError } from '../errors.js';
import type { QualifiedQuery } from '../planner/parse.js';
import type { Value } from '../values.js';
import type { Cache, CacheInfo } from './cache.js';
import type { CacheCatalog } from './cache-catalog.js';
import type { CacheRegistry } from './registry.js';
import type { MemoryBudget } from './memory-budget.js';
import type { RegisterRequest } from './register.js';
import { PROXIED_ID } from './proxied-queries.js';
import type { ProxiedReports } from './proxied-reports.js';
import type { ReadAccess, ReadTokenInfo } from './read-access.js';
import type { WarmStart } from './warm-start.js';
import { cacheInfo, cachesDot } from './engine-status.js';

export interface AdminDeps {
  readonly registry: CacheRegistry;
  readonly catalog: CacheCatalog;
  readonly reports: ProxiedReports;
  readonly budget: MemoryBudget;
  /** Its read tokens and public marks, read when used. */
  readonly engine: { readonly access: ReadAccess };
  /** The warm start, made after this ([note: warm-fill]); null: none. */
  warm(): WarmStart | null;
}

export class EngineAdmin {
  readonly #d: AdminDeps;

  constructor(d: AdminDeps) {
    this.#d = d;
  }

  /**
   * Registers a cache, or finds the one registered for the same statement (`created` false). `sql`
   * may be a proxied statement's id (`pq_…`): its text is registered, in its database.
   */
  async register(req: RegisterRequest): Promise<CacheInfo & { readonly created: boolean }> {
    if (PROXIED_ID.test(req.sql.trim())) {
      const q = this.#d.reports.statement(req.sql.trim());
      if (q === null) throw new RotorError('ERR_PROXIED_NOT_FOUND', [req.sql.trim()]);
      req = { sql: q.sql, ...(req.name === undefined ? {} : { name: req.name }), ...(q.database === null ? (req.database === undefined ? {} : { database: req.database }) : { database: q.database }), ...(req.always === true ? { always: true } : {}) };
    }
    const r = await this.#d.catalog.register(req);
    return { ...this.info(r.cache), created: r.created };
  }

  info(c: Cache): CacheInfo {
    return cacheInfo(c, this.#d.budget);
  }

  get(idOrName: string): CacheInfo | null {
    const c = this.#d.registry.byName(idOrName);
    return c === null ? null : this.info(c);
  }

  /** The cache's dataflow as Graphviz DOT, nodes shared with other caches marked; null if unknown. */
  dot(idOrName: string): string | null {
    const c = this.#d.registry.byName(idOrName);
    return c === null ? null : cachesDot(c, this.#d.registry.values());
  }

  /** A cache's probe query, or null without such a cache. */
  cacheProbe(idOrName: string): { readonly query: QualifiedQuery | null } | null {
    const c = this.#d.registry.byName(idOrName);
    return c === null ? null : { query: c.probe };
  }

  /** Drops a cache; false when there is none (Engine.drop states when it is gone). */
  drop(idOrName: string): Promise<boolean> {
    const c = this.#d.registry.byName(idOrName);
    return c === null ? Promise.resolve(false) : this.#d.catalog.drop(c);
  }

  /** A cache dropped here (the catalog's hook): its read tokens, state, file and hot keys go with it. */
  dropHere(c: Cache): void {
    this.#d.engine.access.forget(c.id);
    this.#d.registry.remove(c);
    void this.#d.registry.unpersist(c);
    void this.#d.warm()?.forget(c.id);
  }

  /**
   * Evicts keys (parameter tuples) or everything from a cache, so the next read refills from
   * MySQL. Returns how many reader keys were dropped.
   */
  evict(idOrName: string, keys: ReadonlyArray<ReadonlyArray<Value>> | 'all'): number {
    const c = this.#d.registry.byName(idOrName);
    if (c === null) throw new RotorError('ERR_CACHE_NOT_FOUND', [idOrName]);
    return this.#d.registry.evict(c, keys);
  }

  /** A read token for the cache (shown once), or null without such a cache; rejects past the tokens' limit. */
  createReadToken(idOrName: string, label: string | null): { readonly token: string; readonly info: ReadTokenInfo } | null {
    const c = this.#d.registry.byName(idOrName);
    if (c === null) return null;
    const made = this.#d.engine.access.create(c.id, label);
    if (made === null) throw new RotorError('ERR_ADMIN_BAD_REQUEST', ['too many read tokens: revoke some first']);
    return made;
  }

  /** The cache's read tokens (never the tokens themselves), or null without such a cache. */
  readTokens(idOrName: string): ReadTokenInfo[] | null {
    const c = this.#d.registry.byName(idOrName);
    return c === null ? null : this.#d.engine.access.list(c.id);
  }

  /** False without such a cache or token. */
  revokeReadToken(idOrName: string, tokenId: string): boolean {
    const c = this.#d.registry.byName(idOrName);
    return c !== null && this.#d.engine.access.revoke(c.id, tokenId);
  }

  /** Marks the cache readable over HTTP without credentials (or not); false without such a cache. */
  setPublic(idOrName: string, on: boolean): boolean {
    const c = this.#d.registry.byName(idOrName);
    if (c === null) return false;
    this.#d.engine.access.setPublic(c.id, on);
    return true;
  }

  /** Whether the cache is public, or null without such a cache. */
  isPublic(idOrName: string): boolean | null {
    const c = this.#d.registry.byName(idOrName);
    return c === null ? null : this.#d.engine.access.isPublic(c.id);
  }
}
