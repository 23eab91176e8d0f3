/**
 * Where caches are registered and dropped: this instance's registry (registry.ts, and its data
 * dir's files), and with `--redis` or `--workers` the shared registry every instance keeps its own
 * equal to ([note: shared-registry]): a registration is planned and installed here first, then
 * written there; a drop is deleted there first, then here. Hot keys are kept where the
 * definitions are.
 */
import { RotorError } from '../errors.js';
import type { Cache } from './cache.js';
import { explainCache, registerCache, type Explained, type RegisterDeps, type Registered, type RegisterRequest } from './register.js';
import { RegistrySync } from './registry-sync.js';
import { SharedRegistry, type RegistryStore, type SharedDefinition, type SharedRegistryEvents } from './shared-registry.js';
import { ClusterRegistry } from './cluster-registry.js';
import { tablesOf } from './statement-plan.js';
import { FileHotKeyStore, type HotKeyStore } from './hot-keys.js';
import { MirroredHotKeyStore, RedisHotKeyStore } from './redis-hot-keys.js';

/** How long start waits for Redis before serving without the shared registry (it keeps trying). */
const REDIS_START_WAIT_MS = 3_000;

/** What the engine does around the catalog's installs and drops. */
export interface CatalogHooks {
  /** The most caches a registration here may make (RegistrationLimit). */
  maxCaches(): number;
  /** A cache the shared registry installed here (registered elsewhere). */
  installedShared(c: Cache): void;
  /** Drops an installed cache here only (its nodes, its data-dir file, what else the engine keeps of it). */
  dropHere(c: Cache): void;
}

/** What the shared registry holds of a cache: its definition, nothing derived. [note: shared-registry] */
function sharedDefinition(c: Cache): SharedDefinition {
  return { name: c.def.name, database: c.def.database, sql: c.def.sql, ...(c.def.always === true ? { always: true } : {}) };
}

export class CacheCatalog {
  readonly #d: RegisterDeps;
  readonly #dataDir: string | null;
  readonly #hooks: CatalogHooks;
  /** The shared registry, with `--redis`; null: this instance's registry is its own. */
  readonly #sync: RegistrySync | null;

  constructor(d: RegisterDeps, opts: { readonly dataDir: string | null; readonly redisUrl?: string | null; readonly clusterRegistry?: boolean }, hooks: CatalogHooks) {
    this.#d = d;
    this.#dataDir = opts.dataDir;
    this.#hooks = hooks;
    const log = d.log;
    const redisUrl = opts.redisUrl;
    const registryStore: ((events: SharedRegistryEvents) => RegistryStore) | null = redisUrl
      ? (events) => new SharedRegistry(redisUrl, log, events)
      : opts.clusterRegistry === true ? (events) => new ClusterRegistry(log, events) : null;
    this.#sync = registryStore !== null ? new RegistrySync(registryStore, {
      installShared: async (def) => {
        // As many caches as a registration here may make: a registry of more installs no more.
        const max = hooks.maxCaches();
        if (d.registry.size >= max) throw new RotorError('ERR_ADMIN_TOO_MANY_REGISTRATIONS', [`Rotor holds the most caches it may (${max})`]);
        const r = await this.#registerHere(def);
        // A cache registered elsewhere: the fleet may hold its hot keys already. [note: warm-fill]
        if (r.created) hooks.installedShared(r.cache);
        return r;
      },
      dropLocal: (id) => {
        const c = d.registry.byName(id);
        if (c !== null && c.id === id) hooks.dropHere(c);
      },
      localDefinitions: () => new Map([...d.registry.values()].map((c): [string, SharedDefinition] => [c.id, sharedDefinition(c)])),
    }, log) : null;
  }

  /**
   * Redis (mirrored in the data dir) with `--redis`, else the data dir (under `--workers` without
   * Redis too: the workers share the files), else none.
   */
  hotKeyStore(instance: string): HotKeyStore | null {
    const file = this.#dataDir !== null ? new FileHotKeyStore(this.#dataDir) : null;
    const sync = this.#sync;
    if (sync === null || !(sync.shared instanceof SharedRegistry)) return file;
    const shared = new RedisHotKeyStore(sync.shared.client, instance, sync.shared.where, this.#d.log);
    return file === null ? shared : new MirroredHotKeyStore(shared, file);
  }

  /** Installs the data dir's caches, then joins the shared registry. */
  async start(): Promise<void> {
    if (this.#d.registry.persistent) await this.#loadPersisted();
    // [note: shared-registry] After the data dir's caches: they seed a registry Redis has lost.
    await this.#sync?.start(REDIS_START_WAIT_MS);
  }

  async #loadPersisted(): Promise<void> {
    const { registry, schema, log } = this.#d;
    const installed: Cache[] = [];
    const defs = await registry.load();
    await schema.loadCollations(defs.flatMap((d) => tablesOf(d)));
    for (const def of defs) {
      try {
        installed.push(registry.install(def, schema.settings));
      } catch (e) {
        log.warn({ err: e, cache: def.id }, 'a persisted cache could not be rebuilt');
      }
    }
    // The schema may have changed while Rotor was down: each cache is checked against the
    // current one (and planned again if it changed) before it answers.
    for (const c of installed) c.status = 'invalidated';
    await Promise.all(installed.map((c) => schema.recheck(c)));
  }

  /** Registers a cache, or finds the one registered for the same statement (`created` false). */
  async register(req: RegisterRequest): Promise<Registered> {
    const sync = this.#sync;
    if (sync === null) return this.#registerHere(req);
    // [note: shared-registry] Planned here first (a refusal never reaches Redis), then written.
    return sync.register(() => this.#registerHere(req), (x) => ({
      id: x.cache.id, def: sharedDefinition(x.cache),
      undo: () => { if (this.#d.registry.holds(x.cache)) this.#hooks.dropHere(x.cache); },
    }));
  }

  /** Registers on this instance only (a request, or a definition of the shared registry). */
  async #registerHere(req: RegisterRequest): Promise<{ cache: Cache; created: boolean; id: string }> {
    const r = await registerCache(req, this.#d);
    return { ...r, id: r.cache.id };
  }

  /** EXPLAIN CACHE: a dry run of {@link register}. */
  explain(req: { sql: string; database?: string }): Promise<Explained> {
    return explainCache(req, this.#d);
  }

  /**
   * Drops a cache. Without a shared registry the cache is gone when this returns (before the
   * promise resolves); with one, once Redis has deleted it, and the promise rejects with
   * ERR_REGISTRY_UNAVAILABLE while Redis is down.
   */
  drop(c: Cache): Promise<true> {
    const sync = this.#sync;
    if (sync === null) {
      this.#hooks.dropHere(c);
      return Promise.resolve(true);
    }
    return sync.drop(c.id, () => {
      if (this.#d.registry.holds(c)) this.#hooks.dropHere(c);
    }).then(() => true);
  }

  /** Where the registry lives, as /api/status shows it. */
  status(): Record<string, unknown> {
    const dataDir = this.#d.registry.persistent ? { dataDir: this.#dataDir } : {};
    if (this.#sync === null) return { kind: this.#d.registry.persistent ? 'data-dir' : 'memory', ...dataDir };
    return { ...this.#sync.status(), ...dataDir };
  }

  /** Resolves once the shared registry's reconciles asked for so far have run (tests). */
  async settled(): Promise<void> {
    await this.#sync?.settled();
  }

  async close(): Promise<void> {
    await this.#sync?.close();
  }
}
