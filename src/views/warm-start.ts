/**
 * Warm start: each cache's hottest reader keys are recorded now and then (and at a clean stop) in
 * a {@link HotKeyStore}, and a restarted Rotor fills them in the background, hottest first, so the
 * first reads after a restart are hits.
 *
 * [note: warm-fill] A recorded key is only a request: it is filled through the engine's one
 * background fill path (cache-reads.ts → dataflow/upquery.ts), exact at its binlog position like
 * every fill ([note: fill-position]), admitted and evicted like every fill ([note: memory-budget]).
 * Warm-up starts only once the binlog stream has started (src/index.ts), so its fills are fenced
 * against the stream; at most `rate` keys a second, in at most `fills` fills in flight (each of at
 * most 16 keys of one cache, one upquery) reach the upstream;
 * a key already present is not asked for, and a cache dropped, re-registered or not ready stops
 * its warm-up. A cache still warming is not recorded, so a restart in the middle keeps its keys.
 * With a shared store (redis-hot-keys.ts) the lists of every instance are merged, and a cache
 * installed after the start (registered elsewhere, or once Redis is back) is warmed too ({@link
 * WarmStart.add}). Pinned by test/views/warm-start.test.ts, test/e2e/warm-start.test.ts and
 * test/e2e/warm-fleet.test.ts.
 */
import type { Logger } from 'pino';
import { DEFAULTS } from '../config.js';
import type { Row } from '../dataflow/delta.js';
import { keyString } from '../dataflow/state.js';
import { usage } from '../dataflow/usage.js';
import { coerceParam } from '../planner/coerce.js';
import type { Value } from '../values.js';
import type { Cache } from './cache.js';
import { decodeHotKeys, hotKeysDoc, HotKeysUnavailable, mergeHotKeys, type HotKeyStore } from './hot-keys.js';

export interface WarmOptions {
  /** Keys recorded per cache, hottest first (0: warm start off). */
  readonly keys: number;
  /** Keys started per second, at most. */
  readonly rate: number;
  /** Fills in flight at once, at most. */
  readonly fills: number;
  /** How often the hot keys are recorded (ms). */
  readonly recordMs: number;
}

/** Warm-start fills in flight at once, at most (by default). */
const WARM_FILLS = 4;
/** How often hot keys are recorded (and at a clean stop), by default. */
const WARM_RECORD_MS = 30_000;

/**
 * The warm start the engine's options ask for (EngineOptions `warm`, defaults from config.ts
 * `DEFAULTS` and above), or null: no store, or no keys recorded.
 */
export function warmStartOf(w: { keys?: number; rate?: number; fills?: number; recordMs?: number }, store: HotKeyStore | null, host: WarmHost, log: Logger): WarmStart | null {
  const keys = w.keys ?? DEFAULTS.warmKeys;
  return store === null || keys <= 0 ? null : new WarmStart(
    { keys, rate: w.rate ?? DEFAULTS.warmRate, fills: w.fills ?? WARM_FILLS, recordMs: w.recordMs ?? WARM_RECORD_MS },
    store,
    host,
    log,
  );
}

/** What warm start needs from the engine. */
export interface WarmHost {
  /** The registered caches. */
  caches(): Iterable<Cache>;
  /** `c` itself is still registered (not dropped, not replaced by a new definition). */
  holds(c: Cache): boolean;
  /** Fills keys of a cache's reader through the normal background fill path; never rejects. */
  fill(c: Cache, keys: ReadonlyArray<Row>): Promise<void>;
}

/** The warm-up as /api/status shows it. */
export interface WarmStatus {
  /** Keys read back from the store, to fill. */
  keys: number;
  filled: number;
  /** Already present when their turn came (read, or filled by a read, first). */
  present: number;
  failed: number;
  /** Keys or whole files not used: undecodable, another definition, a cache not ready or dropped. */
  skipped: number;
  pending: number;
  inFlight: number;
  done: boolean;
}

/**
 * At most `perSecond` a second, in bursts of at most a tenth of a second's worth (at least one),
 * on whatever clock `now` is read from (ms).
 */
export class WarmPacer {
  readonly #perSecond: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, now: number) {
    this.#perSecond = perSecond;
    this.#burst = Math.max(1, perSecond / 10);
    this.#tokens = this.#burst;
    this.#at = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) * this.#perSecond) / 1000);
      this.#at = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

interface Queue {
  readonly cache: Cache;
  readonly keys: Row[];
  next: number;
}

/** Keys of one cache asked for in one fill, at most. */
const WARM_BATCH = 16;

/** How often the warm-up looks for tokens when none was left. */
const PUMP_MS = 20;

export class WarmStart {
  readonly #opts: WarmOptions;
  readonly #store: HotKeyStore;
  readonly #host: WarmHost;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #status: WarmStatus = { keys: 0, filled: 0, present: 0, failed: 0, skipped: 0, pending: 0, inFlight: 0, done: false };
  readonly #queues: Queue[] = [];
  #cursor = 0;
  #pacer: WarmPacer | null = null;
  #pump: NodeJS.Timeout | null = null;
  #recordTimer: NodeJS.Timeout | null = null;
  #started = 0;
  #closed = false;
  /** The usage clock and installs at the last record: nothing read or installed since means nothing to write. */
  #recordedAt = '';
  /** What was last written per cache (its keys' JSON), so an unchanged list is not written again. */
  readonly #written = new Map<string, string>();
  #recording: Promise<void> | null = null;
  /** When every list was last written, changed or not (a store whose entries expire, `refreshMs`). */
  #refreshedAt = 0;
  /** The most fills seen in flight at once (tests count it; it never exceeds `fills`). */
  peakInFlight = 0;

  constructor(opts: WarmOptions, store: HotKeyStore, host: WarmHost, log: Logger, now: () => number = () => performance.now()) {
    this.#opts = opts;
    this.#store = store;
    this.#host = host;
    this.#log = log;
    this.#now = now;
  }

  get status(): Readonly<WarmStatus> {
    return { ...this.#status };
  }

  /**
   * Reads back every registered cache's hot keys (files of caches no longer registered are
   * deleted) and starts filling them in the background; resolves once they are read, not filled.
   * Starts the periodic record.
   */
  async start(): Promise<void> {
    this.#started = this.#now();
    this.#refreshedAt = this.#now();
    this.#recordTimer = setInterval(() => void this.record(), this.#opts.recordMs);
    this.#recordTimer.unref();
    const caches = [...this.#host.caches()];
    const ids = new Set(caches.map((c) => c.id));
    try {
      for (const id of await this.#store.list()) {
        if (ids.has(id)) continue;
        await this.#store.delete(id);
        this.#log.info({ cache: id, where: this.#store.where }, 'hot keys of a cache no longer registered were deleted');
      }
    } catch (e) {
      if (!(e instanceof HotKeysUnavailable)) this.#log.warn({ err: e, where: this.#store.where }, 'hot keys could not be listed');
    }
    for (const c of caches) this.#status.pending += await this.#load(c);
    this.#pacer = new WarmPacer(this.#opts.rate, this.#now());
    this.#fillSome();
  }

  /**
   * A cache installed after the start (registered on another instance of the fleet, or installed
   * once the shared registry was back): its hot keys are read and filled like those read at start.
   * Nothing before {@link start} (start reads every cache) or after {@link close}.
   */
  async add(c: Cache): Promise<void> {
    if (this.#pacer === null || this.#closed || this.#queues.some((q) => q.cache === c)) return;
    const n = await this.#load(c);
    if (n === 0 || this.#closed) return;
    this.#status.pending += n;
    this.#status.done = false;
    this.#fillSome();
  }

  /** Reads a cache's kept lists (one per instance, with a shared store), merged; the keys queued. */
  async #load(c: Cache): Promise<number> {
    let docs: unknown[];
    try {
      docs = await this.#store.read(c.id);
    } catch (e) {
      // Unreachable: logged once by the store.
      if (!(e instanceof HotKeysUnavailable)) this.#log.warn({ err: e, cache: c.id, where: this.#store.where }, 'hot keys could not be read; the cache starts cold');
      return 0;
    }
    const lists: Row[][] = [];
    let skipped = 0;
    for (const doc of docs) {
      const read = decodeHotKeys(doc, c, this.#opts.keys);
      if ('refusal' in read) {
        this.#status.skipped++;
        this.#log.warn({ cache: c.id, reason: read.refusal, where: this.#store.where }, docs.length === 1 ? 'hot keys skipped; the cache starts cold' : 'one instance\'s hot keys skipped');
        continue;
      }
      skipped += read.skipped;
      lists.push(read.keys);
    }
    if (lists.length === 0) return 0;
    const keys: Row[] = [];
    for (const k of mergeHotKeys(lists, this.#opts.keys)) {
      const key = readerKey(c, k);
      if (key === null) skipped++;
      else keys.push(key);
    }
    if (skipped > 0) this.#log.warn({ cache: c.id, skipped }, 'hot keys that do not fit the cache were skipped');
    this.#status.skipped += skipped;
    this.#status.keys += keys.length;
    if (keys.length > 0) this.#queues.push({ cache: c, keys, next: 0 });
    return keys.length;
  }

  /**
   * Starts fills while tokens and room in flight allow: hottest first, caches in turn, each fill up
   * to {@link WARM_BATCH} keys of one cache (one upquery, as misses arriving together are).
   */
  #fillSome(): void {
    if (this.#closed || this.#pacer === null) return;
    while (this.#status.inFlight < this.#opts.fills) {
      const q = this.#nextQueue();
      if (q === null) break;
      const c = q.cache;
      if (!this.#host.holds(c) || c.status !== 'ready') {
        // Dropped, replaced, or not answering: its warm-up stops.
        const left = q.keys.length - q.next;
        this.#status.skipped += left;
        this.#status.pending -= left;
        q.next = q.keys.length;
        this.#log.info({ cache: c.id, left }, 'warm-up of a cache that is gone or not ready stopped');
        continue;
      }
      const reader = c.built.reader;
      const batch: Row[] = [];
      let tokens = true;
      while (q.next < q.keys.length && batch.length < WARM_BATCH) {
        const key = q.keys[q.next];
        if (reader.has(keyString(key, reader.fold))) {
          q.next++;
          this.#status.present++;
          this.#status.pending--;
          continue;
        }
        if (!(tokens = this.#pacer.take(this.#now()))) break;
        batch.push(key);
        q.next++;
      }
      if (batch.length > 0) this.#start(c, batch);
      if (!tokens) {
        this.#schedule();
        return;
      }
    }
    if (this.#status.pending === 0 && !this.#status.done) {
      this.#status.done = true;
      const s = this.#status;
      const level = s.keys + s.skipped > 0 ? 'info' : 'debug';
      this.#log[level]({ keys: s.keys, filled: s.filled, present: s.present, failed: s.failed, skipped: s.skipped, ms: Math.round(this.#now() - this.#started) }, 'warm start done');
    }
  }

  #start(c: Cache, keys: ReadonlyArray<Row>): void {
    const reader = c.built.reader;
    this.#status.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.#status.inFlight);
    void this.#host.fill(c, keys).then(() => {
      this.#status.inFlight--;
      this.#status.pending -= keys.length;
      for (const k of keys) {
        if (reader.has(keyString(k, reader.fold))) this.#status.filled++;
        else this.#status.failed++;
      }
      this.#fillSome();
    });
  }

  /** The next cache with keys left, in turn; null when every one is through. */
  #nextQueue(): Queue | null {
    for (let i = 0; i < this.#queues.length; i++) {
      const q = this.#queues[(this.#cursor + i) % this.#queues.length];
      if (q.next < q.keys.length) {
        this.#cursor = (this.#cursor + i + 1) % this.#queues.length;
        return q;
      }
    }
    return null;
  }

  #schedule(): void {
    if (this.#pump !== null) return;
    this.#pump = setTimeout(() => {
      this.#pump = null;
      this.#fillSome();
    }, PUMP_MS);
    this.#pump.unref();
  }

  /** The caches whose warm-up has keys left (not recorded: their file keeps the keys to fill). */
  #warming(): Set<Cache> {
    return new Set(this.#queues.filter((q) => q.next < q.keys.length).map((q) => q.cache));
  }

  /**
   * Records every ready cache's hottest keys, unless nothing was read or installed since the last
   * record; a cache whose list has not changed is not written again. Never rejects.
   */
  record(): Promise<void> {
    if (this.#recording !== null) return this.#recording;
    // A key admitted first-to-go takes no tick ([note: memory-budget]), but counts as installed.
    const at = `${usage.tick}:${usage.installs}`;
    // A store whose entries expire gets every list again now and then, read since or not.
    const refresh = this.#store.refreshMs !== undefined && this.#now() - this.#refreshedAt >= this.#store.refreshMs;
    if (at === this.#recordedAt && !refresh) return Promise.resolve();
    this.#recording = (async () => {
      const warming = this.#warming();
      let ok = true;
      for (const c of this.#host.caches()) {
        if (c.status !== 'ready' || warming.has(c)) continue;
        const doc = hotKeysDoc(c, c.built.reader.hottest(this.#opts.keys));
        const text = JSON.stringify([doc.definition, doc.keys]);
        if (this.#written.get(c.id) === text && !refresh) continue;
        try {
          await this.#store.write(doc);
          this.#written.set(c.id, text);
        } catch (e) {
          ok = false;
          // Unreachable: logged once by the store.
          if (!(e instanceof HotKeysUnavailable)) this.#log.warn({ err: e, cache: c.id, where: this.#store.where }, 'hot keys could not be recorded');
        }
      }
      if (ok) this.#recordedAt = at;
      if (ok && refresh) this.#refreshedAt = this.#now();
    })().finally(() => {
      this.#recording = null;
    });
    return this.#recording;
  }

  /** A dropped cache's hot keys go with it. */
  async forget(cacheId: string): Promise<void> {
    this.#written.delete(cacheId);
    try {
      await this.#store.delete(cacheId);
    } catch (e) {
      if (!(e instanceof HotKeysUnavailable)) this.#log.warn({ err: e, cache: cacheId }, 'hot keys of a dropped cache could not be deleted');
    }
  }

  /** Stops filling and recording; records one last time (a clean stop). */
  async close(): Promise<void> {
    if (this.#recordTimer !== null) clearInterval(this.#recordTimer);
    if (this.#pump !== null) clearTimeout(this.#pump);
    this.#closed = true;
    await this.#recording;
    await this.record();
  }
}

/** A recorded key as the cache's reader key now, or null when a value no longer fits its parameter. */
function readerKey(c: Cache, values: ReadonlyArray<Value>): Row | null {
  const cols = c.plan.schema.columns;
  const key: Value[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // No read names a NULL key (`= NULL` matches nothing; such a read goes upstream), so a NULL
    // here would only gather the table's NULL rows: skipped. Anything else is coerced as a read's
    // literal would be.
    if (v === null) return null;
    const k = coerceParam(v, cols[c.plan.params[i].column]);
    if (k === undefined) return null;
    key.push(k);
  }
  return key;
}
