/**
 * Hot keys: the keys each cache's reader used most recently, kept so a restarted Rotor can fill
 * them again before they are read (warm-start.ts). This file is their persisted form and where it
 * is kept: the {@link HotKeyStore} seam, and its embedded implementation, one file per cache,
 * `<dataDir>/hot/<cache id>.json`, written atomically (temp file + rename, as cache-store.ts).
 *
 * [note: hot-keys-exact] A recorded key reads back as exactly the values it was recorded from:
 * every {@link Value} has one JSON form (a bigint beyond 2^53 as `{"big": "…"}`, a Buffer as
 * `{"hex": "…"}`, DECIMAL and temporal values as the strings they are, NULL as null), and a file
 * is used only for a cache of the very definition it was recorded for (its digest). A key that
 * does not decode, or has the wrong arity, is skipped; so is a whole file of another format,
 * version or definition. Nothing read from a file is installed: a key is only a request for a
 * fill, which stays exact ([note: fill-position]). Pinned by test/views/warm-start.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Row } from '../dataflow/delta.js';
import type { Value } from '../values.js';
import type { Cache } from './cache.js';

export const HOT_KEYS_FORMAT = 'rotor-hot-keys';
export const HOT_KEYS_VERSION = 1;

/** One cache's hot keys as they are kept. */
export interface HotKeysDoc {
  readonly format: typeof HOT_KEYS_FORMAT;
  readonly version: typeof HOT_KEYS_VERSION;
  /** When they were recorded (ms since the epoch). */
  readonly at: number;
  readonly cache: string;
  /** {@link definitionDigest} of the cache they were recorded for. */
  readonly definition: string;
  /** Values per key: the cache's parameters. */
  readonly arity: number;
  /** Hottest first, each value in its JSON form ({@link encodeValue}). */
  readonly keys: ReadonlyArray<ReadonlyArray<unknown>>;
}

/**
 * Where hot keys are kept: the data dir (below), or Redis, shared by a fleet (redis-hot-keys.ts).
 * `read` resolves the documents kept for the cache — none, this instance's one, or one per
 * instance of a fleet — each MAY be of any shape (each is checked by {@link decodeHotKeys}, then
 * they are merged by {@link mergeHotKeys}). `list` names every cache something is kept for (that
 * this instance may delete when it no longer has the cache). A store that cannot be reached
 * rejects with {@link HotKeysUnavailable} (logged once by the store, not per cache).
 */
export interface HotKeyStore {
  read(cacheId: string): Promise<unknown[]>;
  write(doc: HotKeysDoc): Promise<void>;
  delete(cacheId: string): Promise<void>;
  list(): Promise<string[]>;
  /** Where, for log lines. */
  readonly where: string;
  /** A store whose entries expire: an unchanged list is written again after this long (ms). */
  readonly refreshMs?: number;
}

/** The store is not reachable now (Redis down): the cache starts cold, quietly. */
export class HotKeysUnavailable extends Error {}

/**
 * Several instances' lists of one cache as one, hottest first, at most `limit` keys: a key scores
 * `limit − rank` in each list it is in (a Borda count), so a key hot on several instances beats
 * one hot on one, and a short list does not weigh more per key than a long one. Ties keep the
 * better rank, then the earlier list. One list comes back as it was (up to `limit`).
 */
export function mergeHotKeys(lists: ReadonlyArray<ReadonlyArray<Row>>, limit: number): Row[] {
  if (lists.length === 1) return lists[0].slice(0, limit);
  const scored = new Map<string, { key: Row; score: number; best: number; order: number }>();
  let order = 0;
  for (const list of lists) {
    for (let rank = 0; rank < Math.min(list.length, limit); rank++) {
      const key = list[rank];
      const id = JSON.stringify(key.map(encodeValue));
      const s = scored.get(id);
      if (s === undefined) scored.set(id, { key, score: limit - rank, best: rank, order: order++ });
      else {
        s.score += limit - rank;
        s.best = Math.min(s.best, rank);
      }
    }
  }
  return [...scored.values()]
    .sort((a, b) => b.score - a.score || a.best - b.best || a.order - b.order)
    .slice(0, limit)
    .map((s) => s.key);
}

/** What identifies a cache's definition for its hot keys: its query, database and parameter columns' types. */
export function definitionDigest(c: Cache): string {
  const cols = c.plan.schema.columns;
  const params = c.plan.params.map((p) => {
    const info = cols[p.column];
    return [info.name, info.dataType, info.scale, info.collation];
  });
  return createHash('sha256').update(JSON.stringify([c.def.sql, c.def.database, params])).digest('hex').slice(0, 32);
}

/** A value's JSON form, from which {@link decodeValue} gives it back exactly. */
export function encodeValue(v: Value): unknown {
  if (typeof v === 'bigint') return { big: v.toString() };
  if (Buffer.isBuffer(v)) return { hex: v.toString('hex') };
  return v;
}

/** The value a JSON form stands for, or undefined when it is not one ({@link encodeValue}). */
export function decodeValue(j: unknown): Value | undefined {
  if (j === null || typeof j === 'string') return j;
  if (typeof j === 'number') return Number.isFinite(j) ? j : undefined;
  if (typeof j !== 'object' || Array.isArray(j)) return undefined;
  const o = j as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1) return undefined;
  if (typeof o.big === 'string' && /^-?\d+$/.test(o.big)) return BigInt(o.big);
  if (typeof o.hex === 'string' && /^(?:[0-9a-f]{2})*$/.test(o.hex)) return Buffer.from(o.hex, 'hex');
  return undefined;
}

export function hotKeysDoc(c: Cache, keys: ReadonlyArray<Row>, at = Date.now()): HotKeysDoc {
  return {
    format: HOT_KEYS_FORMAT, version: HOT_KEYS_VERSION, at, cache: c.id, definition: definitionDigest(c),
    arity: c.plan.params.length, keys: keys.map((k) => k.map(encodeValue)),
  };
}

/**
 * The keys a kept document holds for `c`, hottest first, with how many were skipped (undecodable,
 * of the wrong arity); or why the whole document is not used.
 */
export function decodeHotKeys(doc: unknown, c: Cache, max = Number.MAX_SAFE_INTEGER): { keys: Row[]; skipped: number } | { refusal: string } {
  if (typeof doc !== 'object' || doc === null) return { refusal: 'not a hot-keys document' };
  const d = doc as Partial<Record<keyof HotKeysDoc, unknown>>;
  if ((doc as { tooLarge?: unknown }).tooLarge === true) return { refusal: `the file is larger than ${MAX_HOT_KEYS_FILE_BYTES} bytes` };
  if (d.format !== HOT_KEYS_FORMAT) return { refusal: 'not a hot-keys document' };
  if (d.version !== HOT_KEYS_VERSION) return { refusal: `hot-keys version ${String(d.version)}, not ${HOT_KEYS_VERSION}` };
  if (d.cache !== c.id) return { refusal: `recorded for cache ${String(d.cache)}` };
  if (d.definition !== definitionDigest(c)) return { refusal: 'recorded for another definition of the cache' };
  if (!Array.isArray(d.keys)) return { refusal: 'no list of keys' };
  const arity = c.plan.params.length;
  const keys: Row[] = [];
  let skipped = 0;
  // Only the keys that will be used are decoded (the file may list more than `--warm-keys` now allows).
  for (const k of (d.keys as unknown[]).slice(0, max)) {
    const values = Array.isArray(k) && k.length === arity ? k.map(decodeValue) : null;
    if (values === null || values.some((v) => v === undefined)) skipped++;
    else keys.push(values as Value[]);
  }
  return { keys, skipped };
}

/** A kept document's text as a document; garbage is a document decodeHotKeys refuses, not an error. */
export function parseHotKeys(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { unreadable: true };
  }
}

const SUFFIX = '.json';
/** A hot-keys file larger than this is refused unread (500 keys of 64 KiB values, twice over). */
export const MAX_HOT_KEYS_FILE_BYTES = 64 * 1024 * 1024;

/** The embedded store: `<dataDir>/hot/<cache id>.json`, each written atomically. */
export class FileHotKeyStore implements HotKeyStore {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = join(dataDir, 'hot');
  }

  get where(): string {
    return this.#dir;
  }

  async read(cacheId: string): Promise<unknown[]> {
    let text: string;
    try {
      // Read before the proxy listens: a file no record of Rotor's could be is not read at all.
      if ((await stat(this.#file(cacheId))).size > MAX_HOT_KEYS_FILE_BYTES) return [{ tooLarge: true }];
      text = await readFile(this.#file(cacheId), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return [parseHotKeys(text)];
  }

  async write(doc: HotKeysDoc): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const file = this.#file(doc.cache);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(doc));
    await rename(tmp, file);
  }

  async delete(cacheId: string): Promise<void> {
    await unlink(this.#file(cacheId)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.#dir)).filter((n) => n.endsWith(SUFFIX)).map((n) => decodeURIComponent(n.slice(0, -SUFFIX.length)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  #file(id: string): string {
    return join(this.#dir, encodeURIComponent(id) + SUFFIX);
  }
}
