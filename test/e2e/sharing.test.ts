/**
 * Shared nodes between caches, seen through the admin API: two caches over one table share their
 * base node (and equal aggregates share their state); the DOT graph marks what is shared; dropping
 * one cache leaves the other serving.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';

let db: TestDatabase;
let rotor: TestRotor;
let client: mysql.Connection;

before(async () => {
  db = await freshDatabase('e2e_sharing');
  await db.admin.query(`
    CREATE TABLE vote (user_id BIGINT, article_id BIGINT, PRIMARY KEY (user_id, article_id), INDEX (article_id));
    INSERT INTO vote VALUES (1, 10), (2, 10), (3, 11);
  `);
  rotor = await startTestRotor(db);
  client = await rotor.connect();
});

after(async () => {
  await client?.end();
  await rotor?.stop();
  await db?.drop();
});

async function register(sql: string, name: string): Promise<string> {
  const res = await rotor.api<{ id: string }>('POST', '/api/caches', { sql, name, database: db.name });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

async function graph(id: string): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`${rotor.adminUrl}/api/caches/${id}/graph`);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

test('two caches over one table share nodes, the graph marks them, and dropping one keeps the other', async () => {
  const counts = await register('SELECT COUNT(*) FROM vote WHERE article_id = ?', 'votes');
  const voters = await register('SELECT user_id FROM vote WHERE article_id = ?', 'voters');

  const g = await graph(counts);
  assert.equal(g.status, 200);
  assert.match(g.type ?? '', /graphviz/);
  assert.match(g.text, /^digraph "votes" \{/);
  assert.match(g.text, /shared with voters/, 'the base node is shared');
  assert.match(g.text, /->/);

  const count = async (): Promise<number> => {
    const [rows] = await client.query({ sql: 'SELECT COUNT(*) FROM vote WHERE article_id = 10', rowsAsArray: true });
    return Number((rows as unknown[][])[0][0]);
  };
  assert.equal(await count(), 2);
  const del = await rotor.api('DELETE', `/api/caches/${voters}`);
  assert.equal(del.status, 204);
  assert.doesNotMatch((await graph(counts)).text, /shared with/, 'nothing is shared once voters is gone');

  await db.admin.query('INSERT INTO vote VALUES (4, 10)');
  await rotor.caughtUp();
  assert.equal(await count(), 3);
  const info = await rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${counts}`);
  assert.ok(info.body.stats.hits >= 1, 'the surviving cache still serves from its view');
  assert.equal((await graph('no-such-cache')).status, 404);
});
