/**
 * The embedded registry: one file per cache, `<dataDir>/caches/<id>.json`, each written atomically
 * (temp file + rename) so a crash leaves the old or the new definition, never half of one.
 * Registering or dropping a cache writes or deletes its own file only, so it costs the same with
 * ten caches as with a thousand. A `caches.json` of an earlier Rotor (every definition in one
 * list) is split into files at the first load and renamed `caches.json.migrated`.
 */
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RotorError } from '../errors.js';
import type { CacheDefinition } from './cache.js';

/**
 * Refuses a data dir Rotor cannot write (one line, before anything starts), rather than
 * registrations that fail one by one later: creates it and its caches folder, writes and removes
 * a file there.
 */
export async function checkDataDir(dir: string): Promise<void> {
  const probe = join(dir, 'caches', `.write-check-${process.pid}`);
  try {
    await mkdir(join(dir, 'caches'), { recursive: true });
    await writeFile(probe, '');
    await unlink(probe);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new RotorError('ERR_CONFIG_INVALID', [`--data-dir ${dir} cannot be written (${err.code ?? err.message})`]);
  }
}

const SUFFIX = '.json';

/** Orders the files written in one millisecond. */
let written = 0;

export class CacheStore {
  readonly #dir: string;
  readonly #legacy: string;
  /** Writes and deletes of one cache's file, in the order they were asked for. */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(readonly dir: string) {
    this.#dir = join(dir, 'caches');
    this.#legacy = join(dir, 'caches.json');
  }

  /** Files {@link load} could not read (left in place, for an operator to look at). */
  unreadable: string[] = [];

  /** Every persisted definition, in the order the caches were last written; unreadable files are skipped. */
  async load(): Promise<CacheDefinition[]> {
    await this.#migrate();
    let names: string[];
    try {
      names = (await readdir(this.#dir)).filter((n) => n.endsWith(SUFFIX));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    this.unreadable = [];
    const docs: Array<{ at: number; n: number; cache: CacheDefinition }> = [];
    for (const n of names) {
      try {
        const doc = JSON.parse(await readFile(join(this.#dir, n), 'utf8')) as { at: number; n: number; cache: CacheDefinition };
        if (typeof doc.cache?.id !== 'string' || typeof doc.cache.sql !== 'string') throw new Error('not a cache definition');
        docs.push(doc);
      } catch {
        this.unreadable.push(n);
      }
    }
    return docs.sort((a, b) => a.at - b.at || a.n - b.n).map((d) => d.cache);
  }

  /** Writes one cache's definition (replacing an earlier one of the same id). */
  put(def: CacheDefinition): Promise<void> {
    const text = JSON.stringify({ version: 2, at: Date.now(), n: written++, cache: def }, null, 2);
    return this.#queue(def.id, async () => {
      await mkdir(this.#dir, { recursive: true });
      const file = this.#file(def.id);
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, file);
    });
  }

  /** Deletes one cache's definition. */
  delete(id: string): Promise<void> {
    return this.#queue(id, async () => {
      await unlink(this.#file(id)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    });
  }

  #file(id: string): string {
    // Ids are generated (`q_` and hex) or validated names; the file name escapes anything else.
    return join(this.#dir, encodeURIComponent(id) + SUFFIX);
  }

  #queue(id: string, write: () => Promise<void>): Promise<void> {
    const next = (this.#pending.get(id) ?? Promise.resolve()).catch(() => undefined).then(write);
    this.#pending.set(id, next);
    void next.catch(() => undefined).then(() => {
      if (this.#pending.get(id) === next) this.#pending.delete(id);
    });
    return next;
  }

  async #migrate(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#legacy, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const doc = JSON.parse(text) as { caches?: CacheDefinition[] };
    for (const def of Array.isArray(doc.caches) ? doc.caches : []) await this.put(def);
    await rename(this.#legacy, `${this.#legacy}.migrated`);
  }
}
