/**
 * EXPLAIN LAST STATEMENT through Rotor: the session's previous statement went to a cache (named)
 * or upstream (with the reason), text or prepared; Rotor's own commands do not count as
 * statements served, and executions of prepared statements no cache matches count as relayed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eFixture } from '../support/e2e-fixture.js';

const fx = e2eFixture('e2e_explain_last', {
  schema: "CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(20) NOT NULL); INSERT INTO kv VALUES (1, 'a'), (2, 'b')",
  async arrange() {
    assert.equal((await fx.rotor.api('POST', '/api/caches', { sql: 'SELECT v FROM kv WHERE k = ?', name: 'kv_by_k' })).status, 201);
  },
});

async function last(): Promise<unknown[][]> {
  return (await fx.viaRotor.query({ sql: 'EXPLAIN LAST STATEMENT', rowsAsArray: true }))[0] as unknown[][];
}

test('names the cache that answered, or upstream and why', async () => {
  assert.deepEqual(await last(), [], 'nothing before the first statement');
  await fx.viaRotor.query('SELECT v FROM kv WHERE k = 1');
  assert.deepEqual(await last(), [['cache', 'kv_by_k', null]]);
  assert.deepEqual(await last(), [['cache', 'kv_by_k', null]], 'EXPLAIN LAST STATEMENT is not itself a statement it explains');
  await fx.viaRotor.query('SELECT 1');
  assert.deepEqual(await last(), [['upstream', null, 'no cache matches the statement']]);
  await fx.viaRotor.query('BEGIN');
  await fx.viaRotor.query('SELECT v FROM kv WHERE k = 2');
  assert.deepEqual(await last(), [['upstream', null, 'inside a transaction']]);
  await fx.viaRotor.query('COMMIT');
  await fx.viaRotor.execute('SELECT v FROM kv WHERE k = ?', [2]);
  assert.deepEqual(await last(), [['cache', 'kv_by_k', null]], 'a prepared execution');
  await fx.viaRotor.execute('SELECT k FROM kv WHERE v = ?', ['a']);
  assert.deepEqual(await last(), [['upstream', null, 'no cache matches the statement']]);
});

test('status counters: commands are not reads served, unmatched prepared executions are relayed', async () => {
  const status = async (): Promise<{ servedFromCache: number; relayed: number }> =>
    (await fx.rotor.api<{ queries: { servedFromCache: number; relayed: number } }>('GET', '/api/status')).body.queries;
  const s0 = await status();
  await fx.viaRotor.query('SHOW CACHES');
  await fx.viaRotor.query('EXPLAIN LAST STATEMENT');
  await fx.viaRotor.execute('SELECT k FROM kv WHERE v = ?', ['b']);
  await fx.viaRotor.execute('SELECT v FROM kv WHERE k = ?', [1]);
  const s1 = await status();
  assert.equal(s1.servedFromCache - s0.servedFromCache, 1, 'only the cached read');
  assert.equal(s1.relayed - s0.relayed, 1, 'the unmatched prepared execution');
});
