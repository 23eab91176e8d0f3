/**
 * `/metrics` after known traffic: every counter moves by exactly what the traffic did (hits,
 * misses, upqueries, keys per cache; statements served and relayed, by reason; connections), and a
 * dropped cache's series leave with it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';

let db: TestDatabase;
let rotor: TestRotor;

before(async () => {
  db = await freshDatabase('e2e_metrics');
  await db.admin.query("CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(20) NOT NULL); INSERT INTO kv VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  rotor = await startTestRotor(db);
});

after(async () => {
  await rotor?.stop();
  await db?.drop();
});

type Samples = Map<string, number>;

async function scrape(): Promise<Samples> {
  const res = await fetch(`${rotor.adminUrl}/metrics`);
  assert.equal(res.status, 200);
  const out: Samples = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const delta = (a: Samples, b: Samples, series: string): number => (b.get(series) ?? 0) - (a.get(series) ?? 0);

test('counters move by exactly what the traffic did', async () => {
  const reg = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT v FROM kv WHERE k = ?', name: 'kv_by_k' });
  assert.equal(reg.status, 201);
  const before = await scrape();
  const conn = await rotor.connect();
  try {
    for (const k of [1, 1, 1, 2]) await conn.query(`SELECT v FROM kv WHERE k = ${k}`);
    await conn.query('BEGIN');
    await conn.query('SELECT v FROM kv WHERE k = 1');
    await conn.query('COMMIT');
    await conn.query('SELECT 1');
    await conn.query('DO 1');
  } finally {
    await conn.end();
  }
  const after = await scrape();
  const cache = '{cache="kv_by_k"}';
  assert.equal(delta(before, after, `rotor_cache_hits_total${cache}`), 2);
  assert.equal(delta(before, after, `rotor_cache_misses_total${cache}`), 2);
  assert.equal(after.get(`rotor_cache_memory_fills_total${cache}`), 0, 'exported, and no state above the reader holds a key');
  assert.equal(delta(before, after, `rotor_cache_upqueries_total${cache}`), 2);
  assert.equal(after.get(`rotor_cache_keys${cache}`), 2);
  assert.ok((after.get(`rotor_cache_bytes${cache}`) ?? -1) >= 0);
  assert.equal(delta(before, after, 'rotor_connections_total'), 1);
  assert.equal(delta(before, after, 'rotor_queries_served_total'), 4, 'two hits and two reads answered from their fills');
  assert.equal(delta(before, after, 'rotor_queries_relayed_total{reason="inside a transaction"}'), 1);
  assert.equal(delta(before, after, 'rotor_queries_relayed_total{reason="none"}'), 4, 'BEGIN, COMMIT, SELECT 1 and DO 1');
  // Histograms: every statement in one destination's count, cumulative buckets ending at the count.
  assert.equal(delta(before, after, 'rotor_query_duration_seconds_count{destination="cache"}'), 4);
  assert.equal(delta(before, after, 'rotor_query_duration_seconds_count{destination="upstream"}'), 5);
  assert.equal(after.get('rotor_query_duration_seconds_bucket{destination="cache",le="+Inf"}'), after.get('rotor_query_duration_seconds_count{destination="cache"}'));
  assert.ok((after.get('rotor_query_duration_seconds_sum{destination="upstream"}') ?? 0) > 0);
  assert.equal(delta(before, after, `rotor_cache_hit_duration_seconds_count${cache}`), 2);
  assert.equal(delta(before, after, `rotor_upquery_duration_seconds_count${cache}`), 2);
  const buckets = [...after].filter(([k]) => k.startsWith('rotor_cache_hit_duration_seconds_bucket{') && k.includes('cache="kv_by_k"')).map(([, v]) => v);
  assert.ok(buckets.length > 10 && buckets.every((v, i) => i === 0 || v >= buckets[i - 1]), 'cumulative');
  assert.equal(after.get('rotor_binlog_connected'), 1);
  assert.ok((after.get('rotor_binlog_lag_seconds') ?? -1) >= 0);
  assert.equal(after.get('rotor_binlog_reconnects_total'), 0);
  await db.admin.query("INSERT INTO kv VALUES (10, 'j'), (11, 'k')");
  await rotor.caughtUp();
  const written = await scrape();
  // At least: the test server's binlog also carries the other test files' writes, which Rotor counts too.
  assert.ok(delta(after, written, 'rotor_binlog_transactions_total') >= 1, 'the INSERT\'s transaction');
  assert.ok(delta(after, written, 'rotor_binlog_rows_total') >= 2, 'its two rows');
  assert.ok(after.has('rotor_process_resident_memory_bytes'), 'the process metrics are there too');

  assert.equal((await rotor.api('DELETE', '/api/caches/kv_by_k')).status, 204);
  const dropped = await scrape();
  assert.equal([...dropped.keys()].some((k) => k.includes(cache)), false, 'a dropped cache\'s series leave with it');
});
