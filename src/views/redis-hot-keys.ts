/**
 * Hot keys shared by a fleet (`--redis`): every instance contributes its own list of each cache's
 * hottest keys, and an instance that starts, or installs a cache registered elsewhere, warms from
 * all of them merged ({@link mergeHotKeys}), so a new instance joining the fleet starts warm.
 *
 * In Redis, next to the shared registry (same prefix, same connection): `rotor:hot:<cache id>`, a
 * hash, instance id (its `--server-id`) → that instance's {@link HotKeysDoc} as JSON, the very
 * document the file store writes. Each write refreshes the hash's expiry; a contribution older
 * than {@link HOT_TTL_MS} is not used (and is deleted), so an instance gone for good stops
 * counting, while a live one writes its list again at least every {@link HOT_REFRESH_MS}.
 *
 * [note: hot-keys-exact] holds as for files: each contribution is checked on its own (format,
 * version, cache, definition digest, every key) by decodeHotKeys, so garbage, another definition's
 * list or a key that does not decode is skipped and logged, and a key is only ever a request for
 * a fill ([note: warm-fill]). Keys are parameter values of cached queries (user ids, emails…):
 * whoever can read this Redis can read them (README, "Several instances").
 *
 * Redis down: every command fails at once (no offline queue), logged once until Redis answers
 * again; reads reject with {@link HotKeysUnavailable}, so the cache starts cold.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { HotKeysUnavailable, parseHotKeys, type FileHotKeyStore, type HotKeyStore, type HotKeysDoc } from './hot-keys.js';
import { PREFIX } from './shared-registry.js';

/** A contribution not written again for this long is not used. */
export const HOT_TTL_MS = 60 * 60_000;
/** A live instance writes its list again after this long, changed or not. */
export const HOT_REFRESH_MS = 5 * 60_000;
/** Contributions read per cache, at most (the most recent): the fleet's size, generously. */
const MAX_CONTRIBUTIONS = 64;
/** A contribution larger than this is not parsed (100,000 keys of a few values fit). */
const MAX_CONTRIBUTION_BYTES = 32 * 1024 * 1024;

export class RedisHotKeyStore implements HotKeyStore {
  readonly #redis: Redis;
  readonly #instance: string;
  readonly #log: Logger;
  readonly where: string;
  readonly refreshMs = HOT_REFRESH_MS;
  readonly #now: () => number;
  #down = false;

  constructor(redis: Redis, instance: string, where: string, log: Logger, now: () => number = Date.now) {
    this.#redis = redis;
    this.#instance = instance;
    this.where = `redis ${where} ${PREFIX}hot:*`;
    this.#log = log;
    this.#now = now;
  }

  async read(cacheId: string): Promise<unknown[]> {
    const key = hotKey(cacheId);
    const all = await this.#run(() => this.#redis.hgetall(key));
    const now = this.#now();
    const docs: Array<{ at: number; doc: unknown }> = [];
    const stale: string[] = [];
    for (const [instance, raw] of Object.entries(all)) {
      const doc = raw.length > MAX_CONTRIBUTION_BYTES ? { tooLarge: true } : parseHotKeys(raw);
      const at = typeof doc === 'object' && doc !== null ? (doc as { at?: unknown }).at : undefined;
      if (typeof at === 'number' && now - at > HOT_TTL_MS) stale.push(instance);
      // No time: decodeHotKeys refuses it (and it is logged there), unless it is a document.
      else docs.push({ at: typeof at === 'number' ? at : 0, doc });
    }
    if (stale.length > 0) {
      await this.#redis.hdel(key, ...stale).catch(() => undefined);
      this.#log.info({ cache: cacheId, instances: stale }, 'hot keys of instances silent for an hour were deleted');
    }
    return docs.sort((a, b) => b.at - a.at).slice(0, MAX_CONTRIBUTIONS).map((d) => d.doc);
  }

  async write(doc: HotKeysDoc): Promise<void> {
    const key = hotKey(doc.cache);
    await this.#run(() => this.#redis.multi().hset(key, this.#instance, JSON.stringify(doc)).pexpire(key, HOT_TTL_MS).exec());
  }

  async delete(cacheId: string): Promise<void> {
    await this.#run(() => this.#redis.del(hotKey(cacheId)));
  }

  /**
   * Nothing: an instance does not delete what the fleet keeps for caches it lacks (it may be
   * skipping one the others serve). The instances that drop a cache delete its hash, and an
   * abandoned hash expires.
   */
  list(): Promise<string[]> {
    return Promise.resolve([]);
  }

  /** Runs a command; a failure while Redis is down is {@link HotKeysUnavailable}, logged once per outage. */
  async #run<T>(command: () => Promise<T>): Promise<T> {
    if (this.#redis.status !== 'ready') this.#unavailable(null);
    let r: T;
    try {
      r = await command();
    } catch (e) {
      if (this.#redis.status !== 'ready') this.#unavailable(e);
      throw e;
    }
    if (this.#down) {
      this.#down = false;
      this.#log.info({ where: this.where }, 'hot keys in Redis reachable again');
    }
    return r;
  }

  #unavailable(e: unknown): never {
    if (!this.#down) {
      this.#down = true;
      this.#log.warn({ where: this.where, err: e instanceof Error ? e.message : undefined }, 'hot keys in Redis not reachable: caches start cold and hot keys are not shared until it is back');
    }
    throw new HotKeysUnavailable(`Redis (${this.where}) is not reachable`);
  }
}

/**
 * `--redis` with `--data-dir`: Redis first, the data dir as this instance's own mirror. Writes go
 * to both; reads come from Redis, and from the file when Redis is down or holds nothing for the
 * cache (expired, flushed), so an instance restarted while Redis is away still starts warm.
 */
export class MirroredHotKeyStore implements HotKeyStore {
  readonly #shared: RedisHotKeyStore;
  readonly #file: FileHotKeyStore;
  readonly where: string;
  readonly refreshMs: number;

  constructor(shared: RedisHotKeyStore, file: FileHotKeyStore) {
    this.#shared = shared;
    this.#file = file;
    this.where = `${shared.where}, mirrored in ${file.where}`;
    this.refreshMs = shared.refreshMs;
  }

  async read(cacheId: string): Promise<unknown[]> {
    const shared = await this.#shared.read(cacheId).catch(unlessUnavailable([]));
    return shared.length > 0 ? shared : this.#file.read(cacheId);
  }

  async write(doc: HotKeysDoc): Promise<void> {
    const [shared, file] = await Promise.allSettled([this.#shared.write(doc).catch(unlessUnavailable(undefined)), this.#file.write(doc)]);
    if (file.status === 'rejected') throw file.reason;
    if (shared.status === 'rejected') throw shared.reason;
  }

  async delete(cacheId: string): Promise<void> {
    await Promise.all([this.#shared.delete(cacheId).catch(unlessUnavailable(undefined)), this.#file.delete(cacheId)]);
  }

  list(): Promise<string[]> {
    return this.#file.list();
  }
}

function hotKey(cacheId: string): string {
  return `${PREFIX}hot:${cacheId}`;
}

/** A rejection handler: {@link HotKeysUnavailable} gives `value` (already logged), anything else rethrows. */
function unlessUnavailable<T>(value: T): (e: unknown) => T {
  return (e) => {
    if (e instanceof HotKeysUnavailable) return value;
    throw e;
  };
}
