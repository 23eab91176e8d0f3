/**
 * The embedded registry's files: one per cache, so registering and dropping cost the same however
 * many caches exist, and an earlier Rotor's single caches.json is split at the first load.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStore } from '../../src/views/cache-store.js';
import type { CacheDefinition } from '../../src/views/cache.js';

const def = (id: string): CacheDefinition => ({
  id, name: id, database: 'd', sql: `SELECT v FROM t WHERE id = ? /* ${id} */`, columns: [],
  schema: { database: 'd', table: 't', columns: [{ name: 'id', dataType: 'int', scale: 0, collation: null, primary: true }] },
});

describe('cache store', () => {
  const dirs: string[] = [];
  const fresh = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'rotor-store-'));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('keeps one file per cache, in registration order, and deletes only the dropped one', async () => {
    const dir = await fresh();
    const store = new CacheStore(dir);
    assert.deepEqual(await store.load(), []);
    await Promise.all(['q_b', 'q_a', 'q_c'].map((id) => store.put(def(id))));
    await store.delete('q_a');
    await store.put({ ...def('q_b'), name: 'renamed' });
    assert.deepEqual((await readdir(join(dir, 'caches'))).sort(), ['q_b.json', 'q_c.json']);
    const loaded = await new CacheStore(dir).load();
    assert.deepEqual(loaded.map((d) => d.id), ['q_c', 'q_b']);
    assert.equal(loaded[1].name, 'renamed');
  });

  it('skips a file it cannot read, and names it, instead of refusing to start', async () => {
    const dir = await fresh();
    const store = new CacheStore(dir);
    await store.put(def('q_ok'));
    await writeFile(join(dir, 'caches', 'q_bad.json'), '{ not json');
    await writeFile(join(dir, 'caches', 'q_odd.json'), '{"version": 2, "cache": {}}');
    const again = new CacheStore(dir);
    assert.deepEqual((await again.load()).map((d) => d.id), ['q_ok']);
    assert.deepEqual(again.unreadable.sort(), ['q_bad.json', 'q_odd.json']);
  });

  it('splits an earlier single caches.json into files at the first load', async () => {
    const dir = await fresh();
    await writeFile(join(dir, 'caches.json'), JSON.stringify({ version: 1, caches: [def('q_1'), def('q_2')] }));
    const loaded = await new CacheStore(dir).load();
    assert.deepEqual(loaded.map((d) => d.id), ['q_1', 'q_2']);
    assert.deepEqual((await readdir(dir)).sort(), ['caches', 'caches.json.migrated']);
    assert.deepEqual((await new CacheStore(dir).load()).map((d) => d.id), ['q_1', 'q_2']);
  });
});
