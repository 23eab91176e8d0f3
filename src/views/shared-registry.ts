/**
 * The shared registry (`--redis URL`): the definitions of the registered caches in one Redis, so
 * several Rotor instances serve the same caches. Redis holds definitions only — an id, a name, a
 * database and the SQL text as registered — never credentials, schemas or rows: every instance
 * plans each definition against its own upstream connection and fills its own views from its own
 * binlog stream and misses.
 *
 * Keys (`rotor:` then):
 * - `caches`: a hash, cache id → JSON `{"v":1,"name","database","sql"}`;
 * - `epoch`: a random token set when the hash was (re)created; its absence means Redis lost the
 *   registry (a restart without persistence, FLUSHALL) rather than every cache being dropped;
 * - channel `changes`: a registration or drop publishes the id (`*`: reconcile everything). A
 *   message carries no definition: a receiver reads the hash, so the hash alone decides.
 *
 * - `hot:<cache id>`: the caches' hot keys, parameter values (redis-hot-keys.ts), on the same
 *   connection.
 *
 * Commands fail at once while Redis is disconnected (no offline queue): registrations and drops are
 * refused then, and the caches already installed keep answering (registry-sync.ts).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RotorError } from '../errors.js';
import { unsupported } from '../planner/unsupported.js';

/** Every key Rotor keeps in Redis starts with it (the registry here, hot keys in redis-hot-keys.ts). */
export const PREFIX = 'rotor:';
const HASH = `${PREFIX}caches`;
const EPOCH = `${PREFIX}epoch`;
const CHANNEL = `${PREFIX}changes`;
/** Published to ask every instance to reconcile its whole registry. */
export const RECONCILE_ALL = '*';

/** What the hash holds per cache: a definition, nothing an instance could not plan by itself. */
export interface SharedDefinition {
  readonly name: string;
  readonly database: string;
  readonly sql: string;
  /** `CREATE CACHE ALWAYS` (absent: false). [note: transaction-reads] */
  readonly always?: boolean;
}

/** MariaDB's longest identifier; the admin API's longest SQL. */
const MAX_NAME = 64;
const MAX_SQL = 65_536;
/** The largest entry parseShared could accept (its SQL, JSON-escaped). */
const MAX_ENTRY_BYTES = MAX_SQL * 2 + 1_024;

/**
 * A hash entry as a definition, or why it is not one. Redis is not trusted more than an HTTP
 * request: an entry is text of bounded size with exactly these fields, and is then registered
 * like any request ([note: shared-registry]).
 */
export function parseShared(id: string, raw: string): SharedDefinition | string {
  if (!/^[\w$]{1,64}$/.test(id)) return 'the id is not a cache id';
  if (raw === TOO_LARGE || raw.length > MAX_SQL * 2) return 'the entry is too large';
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    return 'the entry is not JSON';
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'the entry is not a JSON object';
  const { name, database, sql, always } = doc as Record<string, unknown>;
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME) return 'name is not a name';
  if (typeof database !== 'string' || database.length === 0 || database.length > MAX_NAME) return 'database is not a database name';
  if (typeof sql !== 'string' || !/\S/.test(sql) || sql.length > MAX_SQL) return 'sql is not a statement';
  if (always !== undefined && typeof always !== 'boolean') return 'always is not true or false';
  return { name, database, sql, ...(always === true ? { always } : {}) };
}

/**
 * Atomically: when the epoch is missing (a new or lost registry), the caller's definitions are
 * added (never replacing one) and a new epoch set; returns the epoch in effect.
 */
const SEED = `
if redis.call('EXISTS', KEYS[2]) == 0 then
  for i = 2, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
  redis.call('SET', KEYS[2], ARGV[1])
end
return redis.call('GET', KEYS[2])`;

/** The most entries an instance reads from the hash (a fleet holds at most its instances' `maxCaches`). */
export const MAX_ENTRIES = 5_000;
/** The most bytes of entries an instance reads at once; beyond, the registry is not read. */
export const MAX_REGISTRY_BYTES = 64 * 1024 * 1024;
/** What {@link SharedRegistry.entries} gives for an entry too large to be a definition (not read). */
export const TOO_LARGE = '\u0000too large';

/**
 * The hash as an instance may read it, measured in Redis before anything crosses the wire: when
 * it holds more than ARGV[1] entries, or more than ARGV[3] bytes of entries no larger than
 * ARGV[2], only `{count, bytes}`; else `{count, bytes, id, entry, …}`, an entry over ARGV[2]
 * bytes (or of an id no cache has) given as TOO_LARGE.
 */
const READ = `
local n = redis.call('HLEN', KEYS[1])
if n > tonumber(ARGV[1]) then return {n, 0} end
local ids = redis.call('HKEYS', KEYS[1])
local total = 0
local big = {}
for i, id in ipairs(ids) do
  local len = redis.call('HSTRLEN', KEYS[1], id)
  if len > tonumber(ARGV[2]) or string.len(id) > 64 then big[id] = true else total = total + len end
end
if total > tonumber(ARGV[3]) then return {n, total} end
local out = {n, total}
for i, id in ipairs(ids) do
  out[#out + 1] = string.sub(id, 1, 80)
  if big[id] then out[#out + 1] = ARGV[4] else out[#out + 1] = redis.call('HGET', KEYS[1], id) end
end
return out`;

/**
 * Atomically: writes ARGV[2] as the entry of cache ARGV[1] named ARGV[3] (ALWAYS when ARGV[4] is
 * '1'), unless Redis holds that query under another name (returns \`{'exists', name}\`) or
 * with the other ALWAYS (\`{'always', name}\`), or another cache holds the name (returns
 * \`{'taken', id}\`): two instances registering at once cannot both win ([note: shared-registry]).
 */
const PUT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local ok, d = pcall(cjson.decode, cur)
  if ok and type(d) == 'table' and type(d.name) == 'string' and d.name ~= ARGV[3] then return {'exists', d.name} end
  if ok and type(d) == 'table' and type(d.name) == 'string' and (d.always == true) ~= (ARGV[4] == '1') then return {'always', d.name} end
end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] then
    if all[i] == ARGV[3] then return {'taken', all[i]} end
    local ok, d = pcall(cjson.decode, all[i + 1])
    if ok and type(d) == 'table' and d.name == ARGV[3] then return {'taken', all[i]} end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {'ok', ''}`;

export interface SharedRegistryEvents {
  /** Both connections are up (again): the registry must be read whole. */
  onReady(): void;
  /** Another instance (or this one) changed `id`, or `*` for everything. */
  onChange(id: string): void;
}

/**
 * Where the shared definitions live, as registry-sync.ts uses it: Redis (this file), or the
 * primary process of `--workers N` (cluster-registry.ts). Commands fail with
 * ERR_REGISTRY_UNAVAILABLE while it cannot be reached.
 */
export interface RegistryStore {
  readonly connected: boolean;
  /** When the last change of connectedness happened (ms since the epoch). */
  readonly since: number;
  readonly lastError: string | null;
  /** What /api/status shows of it besides `connected`, `since`, `lastError`. */
  describe(): Record<string, unknown>;
  start(waitMs: number): Promise<void>;
  assertConnected(): void;
  entries(): Promise<Map<string, string>>;
  entry(id: string): Promise<string | null>;
  put(id: string, def: SharedDefinition): Promise<void>;
  delete(ids: ReadonlyArray<string>): Promise<number>;
  hasEpoch(): Promise<boolean>;
  seedIfLost(defs: ReadonlyMap<string, SharedDefinition>): Promise<boolean>;
  close(): Promise<void>;
}

/** A definition as the registry stores it. */
export function sharedText(def: SharedDefinition): string {
  return JSON.stringify({ v: 1, name: def.name, database: def.database, sql: def.sql, ...(def.always === true ? { always: true } : {}) });
}

export class SharedRegistry implements RegistryStore {
  readonly #cmd: Redis;
  readonly #sub: Redis;
  readonly #log: Logger;
  /** Where Redis is, for status and logs: host and port only (the URL may hold a password). */
  readonly where: string;
  #wasUp = false;
  #closed = false;
  /** When the last change of connectedness happened (ms since the epoch). */
  since = Date.now();
  lastError: string | null = null;

  constructor(url: string, log: Logger, events: SharedRegistryEvents) {
    this.#log = log;
    const u = new URL(url);
    this.where = `${u.hostname}:${u.port || 6379}${u.pathname.length > 1 ? u.pathname : ''}`;
    const options = {
      lazyConnect: true,
      // Commands fail at once while disconnected: a registration is refused, never queued.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
      retryStrategy: (times: number): number => Math.min(100 * times, 1_000),
    };
    this.#cmd = new Redis(url, options);
    // The subscription waits for a connection (and is renewed by ioredis after every reconnect).
    this.#sub = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    for (const c of [this.#cmd, this.#sub]) {
      c.on('error', (e: Error) => {
        if (this.lastError !== e.message) this.#log.debug({ err: e.message }, 'redis connection error');
        this.lastError = e.message;
      });
      c.on('ready', () => this.#changed(events));
      c.on('close', () => this.#changed(events));
    }
    this.#sub.on('message', (_channel: string, id: string) => events.onChange(id));
  }

  describe(): Record<string, unknown> {
    return { kind: 'redis', redis: this.where };
  }

  /** The command connection (no offline queue: a command fails at once while Redis is down), for hot keys. */
  get client(): Redis {
    return this.#cmd;
  }

  /** Both connections are up: registrations and drops may be written. */
  get connected(): boolean {
    return this.#cmd.status === 'ready' && this.#sub.status === 'ready';
  }

  #changed(events: SharedRegistryEvents): void {
    const up = this.connected;
    if (up === this.#wasUp || this.#closed) return;
    this.#wasUp = up;
    this.since = Date.now();
    if (up) {
      this.lastError = null;
      this.#log.info({ redis: this.where }, 'shared registry connected');
      events.onReady();
    } else {
      this.#log.warn({ redis: this.where }, 'shared registry disconnected: serving the caches installed, registrations and drops are refused until Redis is back');
    }
  }

  /** Starts connecting (and reconnecting forever); resolves when connected or after `waitMs`. */
  async start(waitMs: number): Promise<void> {
    const connect = (c: Redis): Promise<void> => c.connect().catch(() => undefined);
    await Promise.race([
      Promise.all([connect(this.#cmd), connect(this.#sub).then(() => this.#sub.subscribe(CHANNEL)).catch(() => undefined)]),
      new Promise((r) => setTimeout(r, waitMs).unref()),
    ]);
    if (!this.connected) this.#log.warn({ redis: this.where }, 'shared registry not reachable yet: serving without it until it is');
  }

  /** Throws the error registrations and drops get while Redis is down. */
  assertConnected(): void {
    if (!this.connected) throw new RotorError('ERR_REGISTRY_UNAVAILABLE', [`Redis at ${this.where}`]);
  }

  /**
   * Every entry of the hash (raw: parseShared checks each; one too large to be a definition as
   * {@link TOO_LARGE}, unread). Throws when the hash holds more than an instance may read
   * ({@link MAX_ENTRIES}, {@link MAX_REGISTRY_BYTES}): nothing is installed or dropped then.
   */
  async entries(): Promise<Map<string, string>> {
    const r = await this.#cmd.eval(READ, 1, HASH, MAX_ENTRIES, MAX_ENTRY_BYTES, MAX_REGISTRY_BYTES, TOO_LARGE).catch(this.#unavailable) as Array<number | string>;
    const [count, bytes] = r as [number, number];
    if (r.length === 2 && count > 0) throw new Error(`the shared registry holds ${count} entries (${bytes} bytes), more than an instance reads (${MAX_ENTRIES} entries, ${MAX_REGISTRY_BYTES} bytes): nothing is installed or dropped until it is cleaned up`);
    const out = new Map<string, string>();
    for (let i = 2; i + 1 < r.length; i += 2) out.set(String(r[i]), String(r[i + 1]));
    return out;
  }

  /** One entry, or null. */
  async entry(id: string): Promise<string | null> {
    if (id.length > 64) return TOO_LARGE;
    const len = await this.#cmd.hstrlen(HASH, id).catch(this.#unavailable);
    if (len > MAX_ENTRY_BYTES) return TOO_LARGE;
    return this.#cmd.hget(HASH, id).catch(this.#unavailable);
  }

  /**
   * Adds a definition and tells every instance; throws ERR_CACHE_EXISTS when Redis holds the query
   * under another name, or ERR_CACHE_UNSUPPORTED when another cache holds the name (registered on
   * another instance meanwhile): the registry never holds one name twice.
   */
  async put(id: string, def: SharedDefinition): Promise<void> {
    this.assertConnected();
    const doc = sharedText(def);
    const [outcome, other] = await this.#cmd.eval(PUT, 1, HASH, id, doc, def.name, def.always === true ? '1' : '0').catch(this.#unavailable) as [string, string];
    if (outcome === 'exists') throw new RotorError('ERR_CACHE_EXISTS', [other]);
    if (outcome === 'always') throw new RotorError('ERR_CACHE_ALWAYS_DIFFERS', [other, def.always === true ? 'without' : 'with']);
    if (outcome === 'taken') throw unsupported('name', 'name taken', `the name ${def.name} is taken`);
    await this.#publish(id);
  }

  /** Deletes definitions and tells every instance; how many were there. */
  async delete(ids: ReadonlyArray<string>): Promise<number> {
    this.assertConnected();
    if (ids.length === 0) return 0;
    const n = await this.#cmd.hdel(HASH, ...ids).catch(this.#unavailable);
    await this.#publish(ids.length === 1 ? ids[0] : RECONCILE_ALL);
    return n;
  }

  /** Whether Redis holds a registry (its epoch key): cheap, checked before {@link seedIfLost}. */
  async hasEpoch(): Promise<boolean> {
    return (await this.#cmd.exists(EPOCH).catch(this.#unavailable)) === 1;
  }

  /**
   * When Redis has no registry (new, or lost with its data), seeds it with `defs` (this instance's
   * caches) in one atomic step; returns true when this call seeded it.
   */
  async seedIfLost(defs: ReadonlyMap<string, SharedDefinition>): Promise<boolean> {
    const epoch = randomBytes(8).toString('hex');
    const args: string[] = [epoch];
    for (const [id, d] of defs) args.push(id, sharedText(d));
    const now = await this.#cmd.eval(SEED, 2, HASH, EPOCH, ...args).catch(this.#unavailable);
    const seeded = now === epoch;
    if (seeded) await this.#publish(RECONCILE_ALL);
    return seeded;
  }

  async #publish(id: string): Promise<void> {
    await this.#cmd.publish(CHANNEL, id).catch(this.#unavailable);
  }

  readonly #unavailable = (e: unknown): never => {
    this.#log.debug({ err: e instanceof Error ? e.message : String(e) }, 'a redis command failed');
    throw new RotorError('ERR_REGISTRY_UNAVAILABLE', [`Redis at ${this.where}`]);
  };

  async close(): Promise<void> {
    this.#closed = true;
    // QUIT on a connection that is not up may wait for a connection that never comes (the
    // subscriber queues commands): a stop while Redis is down hung. Only a ready one says goodbye.
    const end = (c: Redis): Promise<unknown> => (c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : Promise.resolve(c.disconnect()));
    await Promise.all([end(this.#cmd), end(this.#sub)]);
  }
}
