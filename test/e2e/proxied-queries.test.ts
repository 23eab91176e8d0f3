/**
 * What the application sends, through Rotor: SHOW PROXIED [SUPPORTED] QUERIES and GET /api/queries
 * count each statement (literals as `?`, never their values) with its upstream time, say whether it
 * can be cached and suggest the reads worth caching; CREATE CACHE FROM <query id> caches one, and
 * its reads are then counted as served from the cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eFixture } from '../support/e2e-fixture.js';

interface Report {
  id: string; query: string; database: string | null; count: number; servedFromCache: number;
  upstream: { count: number; totalMs: number; p50Ms: number | null; p99Ms: number | null };
  cacheable: boolean; reason: string | null; cachedAs: string | null; suggested: boolean; savingMs: number;
}

const BY_K = 'SELECT v FROM kv WHERE k = ?';

const fx = e2eFixture('e2e_proxied', {
  schema: "CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(20) NOT NULL); INSERT INTO kv SELECT seq, CONCAT('secret', seq) FROM seq_1_to_100",
});

async function queries(qs = ''): Promise<Report[]> {
  const r = await fx.rotor.api<Report[]>('GET', `/api/queries${qs}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

async function show(sql: string): Promise<unknown[][]> {
  return (await fx.viaRotor.query({ sql, rowsAsArray: true }))[0] as unknown[][];
}

test('statements are counted by shape, with upstream time, cacheability and a suggestion', async () => {
  for (let k = 1; k <= 6; k++) await fx.viaRotor.query(`SELECT v FROM kv WHERE k = ${k}`);
  for (let k = 1; k <= 3; k++) await fx.viaRotor.query(`SELECT v FROM kv ORDER BY k LIMIT ${k}`);
  await fx.viaRotor.query("INSERT INTO kv VALUES (1000, 'x')");
  // Prepared statements no cache matches count by their text too.
  for (const v of ['secret1', 'secret2']) await fx.viaRotor.execute('SELECT k FROM kv WHERE v = ?', [v]);
  const list = await queries();
  const byK = list.find((q) => q.query === BY_K);
  assert.ok(byK !== undefined, JSON.stringify(list));
  assert.equal(byK.database, fx.db.name);
  assert.equal(byK.count, 6);
  assert.equal(byK.upstream.count, 6);
  assert.ok(byK.upstream.totalMs > 0 && byK.upstream.p50Ms !== null && byK.upstream.p99Ms !== null);
  assert.deepEqual([byK.cacheable, byK.reason, byK.cachedAs, byK.suggested], [true, null, null, true]);
  assert.equal(byK.savingMs, byK.upstream.totalMs);
  const insert = list.find((q) => q.query.startsWith('INSERT'));
  assert.deepEqual([insert?.count, insert?.cacheable, insert?.reason, insert?.suggested], [1, false, 'not a SELECT', false]);
  const prepared = list.find((q) => q.query === 'SELECT k FROM kv WHERE v = ?');
  assert.deepEqual([prepared?.count, prepared?.upstream.count, prepared?.cacheable], [2, 2, true]);
  const limited = list.find((q) => q.query.includes('LIMIT'));
  assert.equal(limited?.count, 3);
  assert.equal(JSON.stringify(list).includes('secret'), false, 'no values of anyone\'s statements');
  assert.equal(JSON.stringify(list).includes("'x'"), false);

  const rows = await show(`SHOW PROXIED QUERIES LIKE '%FROM kv WHERE k%' LIMIT 5`);
  assert.equal(rows.length, 1);
  const [id, query, database, count, cached, upstreamCount, , , , , , cacheable, reason, cachedAs, suggested] = rows[0];
  assert.deepEqual([id, query, database, count, cached, upstreamCount, cacheable, reason, cachedAs, suggested], [byK.id, BY_K, fx.db.name, 6, 0, 6, 'yes', null, null, 'yes']);
  const supported = await show('SHOW PROXIED SUPPORTED QUERIES');
  assert.ok(supported.every((r) => r[11] === 'yes'));
  assert.ok(supported.some((r) => r[0] === byK.id));
  assert.equal((await show('SHOW PROXIED QUERIES LIMIT 1')).length, 1);
  assert.equal((await queries('?sort=count&limit=1'))[0].query, BY_K);
  assert.equal((await fx.rotor.api('GET', '/api/queries?limit=0')).status, 400);
  assert.equal((await fx.rotor.api('GET', '/api/queries?sort=name')).status, 400);
});

test('CREATE CACHE FROM <query id> caches the statement; its reads are then served from it', async () => {
  const id = (await queries()).find((q) => q.query === BY_K)?.id;
  assert.ok(id !== undefined);
  await fx.viaRotor.query(`CREATE CACHE kv_from_proxied FROM ${id}`);
  const cache = await fx.rotor.api<{ name: string; sql: string }>('GET', '/api/caches/kv_from_proxied');
  assert.equal(cache.status, 200);
  assert.equal(cache.body.sql, BY_K);
  for (let i = 0; i < 3; i++) assert.deepEqual((await fx.viaRotor.query({ sql: 'SELECT v FROM kv WHERE k = 7', rowsAsArray: true }))[0], [['secret7']]);
  const byK = (await queries()).find((q) => q.query === BY_K);
  assert.deepEqual([byK?.count, byK?.servedFromCache, byK?.cachedAs, byK?.suggested, byK?.savingMs], [9, 3, 'kv_from_proxied', false, 0]);
  await assert.rejects(fx.viaRotor.query('CREATE CACHE FROM pq_000000000000'), (e: { errno?: number; message?: string }) => e.errno === 1146 && /No proxied query/.test(e.message ?? ''));
  assert.equal((await fx.rotor.api('POST', '/api/caches', { sql: 'pq_000000000000' })).status, 404);
});
