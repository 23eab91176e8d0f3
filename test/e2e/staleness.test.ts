/**
 * [note: staleness-bound] end to end: with the binlog stream gone for longer than
 * --max-staleness, a cached query is answered by the upstream (so it sees a write the views never
 * received), and the reason is visible in /api/status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eFixture } from '../support/e2e-fixture.js';

const fx = e2eFixture('e2e_stale', {
  schema: 'CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO counter VALUES (1, 0)',
  rotor: { maxStaleness: '300' },
});

const read = async (): Promise<number> => {
  const [rows] = await fx.viaRotor.query({ sql: 'SELECT n FROM counter WHERE id = 1', rowsAsArray: true });
  return Number((rows as unknown[][])[0][0]);
};

test('after an idle spell the first cached read is served from the cache, within the bound', async () => {
  // [note: demand-sampling] Nobody has read for a while: the binlog end is sampled slowly, yet
  // often enough (a quarter of the bound) that the first read finds a proof of freshness.
  const reg = await fx.rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT n FROM counter WHERE id = ? AND n >= 0', database: fx.db.name });
  assert.equal(reg.status, 201);
  const hits = async () => (await fx.rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${reg.body.id}`)).body.stats.hits;
  const [rows] = await fx.viaRotor.query({ sql: 'SELECT n FROM counter WHERE id = 1 AND n >= 0', rowsAsArray: true });
  assert.deepEqual(rows, [[0]]);
  await new Promise((r) => setTimeout(r, 1_500));
  const [again] = await fx.viaRotor.query({ sql: 'SELECT n FROM counter WHERE id = 1 AND n >= 0', rowsAsArray: true });
  assert.deepEqual(again, [[0]]);
  assert.equal(await hits(), 1);
});

test('with the binlog down past the bound, cached reads go upstream and say why', async () => {
  const reg = await fx.rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT n FROM counter WHERE id = ?', database: fx.db.name });
  assert.equal(reg.status, 201);
  assert.equal(await read(), 0);
  assert.equal(await read(), 0);
  const hits = async () => (await fx.rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${reg.body.id}`)).body.stats.hits;
  assert.equal(await hits(), 1);

  await fx.rotor.rotor.binlog.stop();
  await fx.db.admin.query('UPDATE counter SET n = 41 WHERE id = 1');
  await new Promise((r) => setTimeout(r, 600));

  assert.equal(await read(), 41, 'the upstream answered, not the stale view');
  assert.equal(await hits(), 1);
  const status = await fx.rotor.api<{ caches: { servingFromCaches: boolean }; queries: { notCachedReasons: Record<string, number> } }>('GET', '/api/status');
  assert.equal(status.body.caches.servingFromCaches, false);
  assert.ok(Object.keys(status.body.queries.notCachedReasons).some((r) => /binlog connection is down/.test(r)));
});
