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
 * Pinned by test/views/warm-start.test.ts and test/e2e/warm-start.test.ts.
 */
import type { Logger } from 'pino';
import type { Row } from '../dataflow/delta.js';
import { keyString } from '../dataflow/state.js';
import { usage } from '../dataflow/usage.js';
import { coerceParam } from '../planner/coerce.js';
import type { Value } from '../values.js';
import type { Cache } from './cache.js';
import { decodeHotKeys, hotKeysDoc, type HotKeyStore } from './hot-keys.js';

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
      this.#log.warn({ err: e, where: this.#store.where }, 'hot keys could not be listed');
    }
    for (const c of caches) await this.#load(c);
    this.#status.pending = this.#queues.reduce((n, q) => n + q.keys.length, 0);
    this.#pacer = new WarmPacer(this.#opts.rate, this.#now());
    this.#fillSome();
  }

  async #load(c: Cache): Promise<void> {
    let doc: unknown;
    try {
      doc = await this.#store.read(c.id);
    } catch (e) {
      this.#log.warn({ err: e, cache: c.id, where: this.#store.where }, 'hot keys could not be read; the cache starts cold');
      return;
    }
    if (doc === null) return;
    const read = decodeHotKeys(doc, c, this.#opts.keys);
    if ('refusal' in read) {
      this.#status.skipped++;
      this.#log.warn({ cache: c.id, reason: read.refusal, where: this.#store.where }, 'hot keys skipped; the cache starts cold');
      return;
    }
    const keys: Row[] = [];
    let skipped = read.skipped;
    for (const k of read.keys.slice(0, this.#opts.keys)) {
      const key = readerKey(c, k);
      if (key === null) skipped++;
      else keys.push(key);
    }
    if (skipped > 0) this.#log.warn({ cache: c.id, skipped }, 'hot keys that do not fit the cache were skipped');
    this.#status.skipped += skipped;
    this.#status.keys += keys.length;
    if (keys.length > 0) this.#queues.push({ cache: c, keys, next: 0 });
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
    if (at === this.#recordedAt) return Promise.resolve();
    this.#recording = (async () => {
      const warming = this.#warming();
      let ok = true;
      for (const c of this.#host.caches()) {
        if (c.status !== 'ready' || warming.has(c)) continue;
        const doc = hotKeysDoc(c, c.built.reader.hottest(this.#opts.keys));
        const text = JSON.stringify([doc.definition, doc.keys]);
        if (this.#written.get(c.id) === text) continue;
        try {
          await this.#store.write(doc);
          this.#written.set(c.id, text);
        } catch (e) {
          ok = false;
          this.#log.warn({ err: e, cache: c.id, where: this.#store.where }, 'hot keys could not be recorded');
        }
      }
      if (ok) this.#recordedAt = at;
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
      this.#log.warn({ err: e, cache: cacheId }, 'hot keys of a dropped cache could not be deleted');
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
