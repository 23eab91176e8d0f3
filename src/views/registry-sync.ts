/**
 * Keeps this instance's caches equal to the shared registry in Redis (shared-registry.ts).
 *
 * [note: shared-registry] The Redis hash is the registry: an instance installs every definition it
 * lacks and drops every cache the hash no longer holds — on every change message, whenever the
 * connection comes back, and every RECONCILE_MS — with one exception: when Redis has lost the
 * registry (no epoch key: restarted without persistence, flushed), the first instance to reconnect
 * seeds it with its caches instead of everyone dropping theirs. A definition read from Redis is
 * registered exactly as a request on this instance is (`Engine.installShared` → register.ts: the
 * same parse, system-table and binlog checks, table lookups and plan, over Rotor's own upstream
 * account); reads of it are then checked per session like any cache ([note: cached-grants]). An
 * entry that is not a definition, or that registration refuses, is skipped and logged, never
 * thrown; an entry whose id is not the id its own query gets is skipped too. Registrations and
 * drops on this instance write Redis first and are refused while it is unreachable. Pinned by
 * test/e2e/shared-registry.test.ts.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { RotorError } from '../errors.js';
import { RECONCILE_ALL, parseShared, type RegistryStore, type SharedDefinition, type SharedRegistryEvents } from './shared-registry.js';

/** The full registry is read again this often, besides change messages and reconnects. */
export const RECONCILE_MS = 5_000;
/** Single caches waiting for a reconcile, at most; past it, the whole registry is read once instead. */
const MAX_PENDING_IDS = 1_000;

/** What the sync needs from the engine. */
export interface SyncTarget {
  /** Registers a definition as a local request would be; the cache it gives, and whether it made it. */
  installShared(def: SharedDefinition): Promise<{ readonly id: string; readonly created: boolean }>;
  /** Drops an installed cache here only (its nodes, its data-dir file). */
  dropLocal(id: string): void;
  /** The installed caches' definitions, by id. */
  localDefinitions(): Map<string, SharedDefinition>;
}

export class RegistrySync {
  readonly shared: RegistryStore;
  readonly #target: SyncTarget;
  readonly #log: Logger;
  /**
   * Reconciles run one at a time; those asked while one runs are merged (a whole reconcile
   * replaces every single one asked before it), so a flood of change messages costs a few
   * reconciles, not one each.
   */
  #running: Promise<void> | null = null;
  /** A whole reconcile is asked for. */
  #pendingAll = false;
  /** Single caches asked for (past {@link MAX_PENDING_IDS}, a whole reconcile instead). */
  readonly #pendingIds = new Set<string>();
  /**
   * Caches this instance registered or dropped since the running whole reconcile read the hash:
   * its snapshot is stale for them, so it neither installs nor drops them (their own change
   * message, read after, decides).
   */
  readonly #touched = new Set<string>();
  /** Registrations and drops of this instance under way: no cache is dropped for being absent meanwhile. */
  #localOps = 0;
  /**
   * Entries skipped, with a digest of the entry's text, why, and when it was last tried: an
   * unchanged bad entry is logged once and tried again at most every {@link RECONCILE_MS}.
   */
  readonly skipped = new Map<string, { readonly digest: string; readonly reason: string; readonly at: number }>();
  #timer: NodeJS.Timeout | null = null;
  /** Reconciles done (status, tests). */
  reconciles = 0;

  /** `store` makes the store (Redis, or the cluster's primary) that reports to the given events. */
  constructor(store: (events: SharedRegistryEvents) => RegistryStore, target: SyncTarget, log: Logger) {
    this.#target = target;
    this.#log = log;
    this.shared = store({
      onReady: () => void this.#ask(RECONCILE_ALL),
      onChange: (id) => void this.#ask(id),
    });
  }

  /** Connects (waiting up to `waitMs`) and, when connected, reconciles once before resolving. */
  async start(waitMs: number): Promise<void> {
    await this.shared.start(waitMs);
    this.#timer = setInterval(() => {
      if (this.shared.connected) void this.#ask(RECONCILE_ALL);
    }, RECONCILE_MS);
    this.#timer.unref();
    await this.settled();
  }

  /** Resolves once every reconcile asked for so far has run. */
  async settled(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  /**
   * A registration on this instance: refused while Redis is down; `install` plans and installs it
   * here, then a new cache is written to Redis, and undone here when that write fails.
   */
  register<T extends { readonly created: boolean }>(install: () => Promise<T>, shared: (r: T) => { readonly id: string; readonly def: SharedDefinition; undo(): void }): Promise<T> {
    return this.#local(async () => {
      const r = await install();
      if (!r.created) return r;
      const s = shared(r);
      try {
        await this.shared.put(s.id, s.def);
      } catch (e) {
        s.undo();
        throw e;
      } finally {
        this.#touched.add(s.id);
      }
      return r;
    });
  }

  /** A drop on this instance: refused while Redis is down; deleted from Redis, then `dropHere`. */
  drop(id: string, dropHere: () => void): Promise<void> {
    return this.#local(async () => {
      try {
        await this.shared.delete([id]);
        dropHere();
      } finally {
        this.#touched.add(id);
      }
    });
  }

  /** The shared registry as /api/status shows it. */
  status(): Record<string, unknown> {
    const s = this.shared;
    return {
      ...s.describe(), connected: s.connected, since: new Date(s.since).toISOString(), lastError: s.lastError,
      reconciles: this.reconciles, skipped: [...this.skipped].map(([id, x]) => ({ id: id.slice(0, 80), reason: x.reason })),
    };
  }

  /** Runs a registration or drop of this instance: refused while Redis is down; reconciles hold their drops meanwhile. */
  async #local<T>(op: () => Promise<T>): Promise<T> {
    this.shared.assertConnected();
    this.#localOps++;
    try {
      return await op();
    } finally {
      this.#localOps--;
    }
  }

  /** Asks for a reconcile of one cache, or of everything (RECONCILE_ALL); runs it when none is running. */
  #ask(id: string): Promise<void> {
    if (id === RECONCILE_ALL || this.#pendingIds.size >= MAX_PENDING_IDS) {
      this.#pendingAll = true;
      this.#pendingIds.clear();
    } else if (!this.#pendingAll) this.#pendingIds.add(id);
    this.#running ??= this.#drain().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #drain(): Promise<void> {
    for (;;) {
      let step: () => Promise<void>;
      if (this.#pendingAll) {
        this.#pendingAll = false;
        step = () => this.#all();
      } else {
        const id = this.#pendingIds.values().next();
        if (id.done === true) return;
        this.#pendingIds.delete(id.value);
        step = () => this.#one(id.value);
      }
      try {
        await step();
      } catch (e) {
        // Redis went away mid-way: the reconnect reconciles again.
        if (!(e instanceof RotorError && e.code === 'ERR_REGISTRY_UNAVAILABLE')) this.#log.error({ err: e }, 'reconciling the shared registry failed');
      }
    }
  }

  /** The whole registry: seeded when lost, then installed and dropped to match. */
  async #all(): Promise<void> {
    if (!this.shared.connected) return;
    this.#touched.clear();
    // Every definition goes to the seed script only when the epoch is missing.
    const mine = (await this.shared.hasEpoch()) ? null : this.#target.localDefinitions();
    if (mine !== null && (await this.shared.seedIfLost(mine))) {
      if (mine.size === 0) this.#log.info('a new shared registry was started in Redis');
      else this.#log.warn({ caches: mine.size }, 'Redis held no registry (new, or it lost its data): seeded it with this instance\'s caches');
    }
    const entries = await this.shared.entries();
    for (const [id, raw] of entries) if (!this.#touched.has(id)) await this.#install(id, raw);
    for (const id of this.skipped.keys()) if (!entries.has(id)) this.skipped.delete(id);
    this.#dropAbsent((id) => !entries.has(id) && !this.#touched.has(id));
    this.reconciles++;
  }

  async #one(id: string): Promise<void> {
    const raw = await this.shared.entry(id);
    if (raw === null) {
      this.skipped.delete(id);
      this.#dropAbsent((x) => x === id);
    } else await this.#install(id, raw);
  }

  #dropAbsent(absent: (id: string) => boolean): void {
    // A registration here may be between its install and its write to Redis: the next reconcile drops.
    if (this.#localOps > 0) return;
    for (const id of this.#target.localDefinitions().keys()) {
      if (!absent(id)) continue;
      this.#target.dropLocal(id);
      this.#log.info({ cache: id }, 'cache dropped: the shared registry no longer holds it');
    }
  }

  async #install(id: string, raw: string): Promise<void> {
    if (this.#target.localDefinitions().has(id)) {
      this.skipped.delete(id);
      return;
    }
    const known = this.skipped.get(id);
    const digest = createHash('sha1').update(raw).digest('hex');
    // A table created since may let it register now, but not more often than a periodic reconcile.
    if (known !== undefined && known.digest === digest && Date.now() - known.at < RECONCILE_MS) return;
    const def = parseShared(id, raw);
    if (typeof def === 'string') return this.#skip(id, digest, def);
    let got: { readonly id: string; readonly created: boolean };
    try {
      got = await this.#target.installShared(def);
    } catch (e) {
      return this.#skip(id, digest, e instanceof Error ? e.message : String(e));
    }
    if (got.id !== id) {
      if (got.created) this.#target.dropLocal(got.id);
      return this.#skip(id, digest, `its query is cache ${got.id}, not ${id}`);
    }
    this.skipped.delete(id);
    this.#log.info({ cache: id, name: def.name }, 'cache installed from the shared registry');
  }

  #skip(id: string, digest: string, reason: string): void {
    const known = this.skipped.get(id);
    if (known === undefined || known.digest !== digest || known.reason !== reason) {
      this.#log.warn({ cache: id.slice(0, 80), reason }, 'a shared registry entry was skipped');
    }
    this.skipped.set(id, { digest, reason, at: Date.now() });
  }

  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.shared.close();
  }
}
