/**
 * The embedded registry: cache definitions in `<dataDir>/caches.json`, written atomically (temp
 * file + rename) so a crash leaves the old or the new list, never half of one.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheDefinition } from './cache.js';

export class CacheStore {
  readonly #file: string;
  #writing: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {
    this.#file = join(dir, 'caches.json');
  }

  async load(): Promise<CacheDefinition[]> {
    try {
      const doc = JSON.parse(await readFile(this.#file, 'utf8')) as { version: number; caches: CacheDefinition[] };
      return Array.isArray(doc.caches) ? doc.caches : [];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  /** Saves the whole list; concurrent saves are serialized, the last one wins. */
  save(defs: ReadonlyArray<CacheDefinition>): Promise<void> {
    const text = JSON.stringify({ version: 1, caches: defs }, null, 2);
    this.#writing = this.#writing.catch(() => undefined).then(async () => {
      await mkdir(this.dir, { recursive: true });
      const tmp = `${this.#file}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, this.#file);
    });
    return this.#writing;
  }
}
