/**
 * [note: memory-budget] end to end: a Rotor started with --memory-limit keeps reading far more
 * distinct keys than fit under it, answers each as MariaDB does, and shows the budget in
 * /api/status, per cache, and in /metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eFixture } from '../support/e2e-fixture.js';

const KEYS = 3000;

const fx = e2eFixture('e2e_memory', {
  async schema(db) {
    await db.admin.query('CREATE TABLE big (id INT PRIMARY KEY, payload VARCHAR(600))');
    for (let i = 0; i < KEYS; i += 500) {
      const rows = Array.from({ length: 500 }, (_, j) => `(${i + j + 1}, REPEAT('${String.fromCharCode(65 + ((i + j) % 26))}', 600))`).join(', ');
      await db.admin.query(`INSERT INTO big VALUES ${rows}`);
    }
  },
  rotor: { memoryLimit: '1MiB' },
});

test('under --memory-limit, many more keys than fit are read exactly, and the budget is visible', async () => {
  const id = await fx.rotor.register('SELECT payload FROM big WHERE id = ?');
  for (let k = 1; k <= KEYS; k++) {
    const [rows] = await fx.viaRotor.query({ sql: `SELECT payload FROM big WHERE id = ${k}`, rowsAsArray: true });
    assert.equal((rows as string[][])[0][0], String.fromCharCode(65 + ((k - 1) % 26)).repeat(600));
  }
  const status = (await fx.rotor.api<{ memory: { limitBytes: number; stateBytes: number; evictions: number; rssBytes: number; policy: string } }>('GET', '/api/status')).body.memory;
  assert.equal(status.limitBytes, 1024 * 1024);
  assert.equal(status.policy, 'admission');
  assert.ok(status.evictions > 0, 'keys were evicted');
  assert.ok(status.stateBytes <= 1.1 * 1024 * 1024, `state ${status.stateBytes} near or under the limit`);
  const cache = (await fx.rotor.api<{ stats: { keys: number; evictions: number; bytes: number } }>('GET', `/api/caches/${id}`)).body.stats;
  assert.ok(cache.keys < KEYS && cache.evictions > 0);
  const metrics = await (await fetch(`${fx.rotor.adminUrl}/metrics`)).text();
  assert.match(metrics, /^rotor_memory_limit_bytes 1048576$/m);
  assert.match(metrics, /^rotor_memory_evictions_total [1-9]\d*$/m);
  assert.match(metrics, new RegExp(`^rotor_cache_bytes\\{cache="${id}"\\} \\d+$`, 'm'));
});
