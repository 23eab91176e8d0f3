/**
 * Shared nodes between caches, seen through the admin API: two caches over one table share their
 * base node (and equal aggregates share their state); the DOT graph marks what is shared; dropping
 * one cache leaves the other serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eFixture } from '../support/e2e-fixture.js';

const fx = e2eFixture('e2e_sharing', {
  schema: `
    CREATE TABLE vote (user_id BIGINT, article_id BIGINT, PRIMARY KEY (user_id, article_id), INDEX (article_id));
    INSERT INTO vote VALUES (1, 10), (2, 10), (3, 11);
  `,
});

async function register(sql: string, name: string): Promise<string> {
  const res = await fx.rotor.api<{ id: string }>('POST', '/api/caches', { sql, name, database: fx.db.name });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

async function graph(id: string): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`${fx.rotor.adminUrl}/api/caches/${id}/graph`);
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
    const [rows] = await fx.viaRotor.query({ sql: 'SELECT COUNT(*) FROM vote WHERE article_id = 10', rowsAsArray: true });
    return Number((rows as unknown[][])[0][0]);
  };
  assert.equal(await count(), 2);
  const del = await fx.rotor.api('DELETE', `/api/caches/${voters}`);
  assert.equal(del.status, 204);
  assert.doesNotMatch((await graph(counts)).text, /shared with/, 'nothing is shared once voters is gone');

  await fx.db.admin.query('INSERT INTO vote VALUES (4, 10)');
  await fx.rotor.caughtUp();
  assert.equal(await count(), 3);
  const info = await fx.rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${counts}`);
  assert.ok(info.body.stats.hits >= 1, 'the surviving cache still serves from its view');
  assert.equal((await graph('no-such-cache')).status, 404);
});
