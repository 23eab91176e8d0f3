/**
 * A hot key the stream keeps current is served from the view while other keys are being filled:
 * a fill holds back only the keys it installed (until the stream reaches its snapshot), never a
 * key that was already there. Rotating blades in miniature: many readers of one count, writers
 * incrementing it, and a second cache that misses on every read.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';

let db: TestDatabase;
let rotor: TestRotor;
const conns: mysql.Connection[] = [];

before(async () => {
  db = await freshDatabase('e2e_hot');
  await db.admin.query(`
    CREATE TABLE fan_count (item_id INT PRIMARY KEY, fans INT NOT NULL);
    CREATE TABLE fan_of (user_id INT, item_id INT, PRIMARY KEY (user_id, item_id));
    INSERT INTO fan_count VALUES (1, 0);
  `);
  rotor = await startTestRotor(db);
});

after(async () => {
  for (const c of conns) await c.end().catch(() => undefined);
  await rotor?.stop();
  await db?.drop();
});

async function register(sql: string): Promise<string> {
  const res = await rotor.api<{ id: string }>('POST', '/api/caches', { sql, database: db.name });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

const stats = async (id: string) => (await rotor.api<{ stats: { hits: number; misses: number } }>('GET', `/api/caches/${id}`)).body.stats;

test('other caches filling new keys under writes do not turn reads of a present hot key into misses', async () => {
  const hot = await register('SELECT fans FROM fan_count WHERE item_id = ?');
  await register('SELECT user_id FROM fan_of WHERE user_id = ? AND item_id = ?');
  for (let i = 0; i < 12; i++) conns.push(await rotor.connect());
  const writer = await rotor.connect();
  conns.push(writer);
  const before = await stats(hot);

  let running = true;
  let nextUser = 1;
  const readers = conns.slice(0, 8).map(async (c) => {
    let n = 0;
    while (running) { await c.query('SELECT fans FROM fan_count WHERE item_id = 1'); n++; }
    return n;
  });
  const missers = conns.slice(8, 12).map(async (c) => {
    while (running) await c.query(`SELECT user_id FROM fan_of WHERE user_id = ${nextUser++} AND item_id = 1`);
  });
  const writes = (async () => {
    for (let i = 0; i < 150; i++) {
      await writer.query(`INSERT INTO fan_of VALUES (${100_000 + i}, 1)`);
      await writer.query('UPDATE fan_count SET fans = fans + 1 WHERE item_id = 1');
    }
  })();
  await writes;
  running = false;
  const reads = (await Promise.all(readers)).reduce((a, b) => a + b, 0);
  await Promise.all(missers);

  // The readers start together on a cold key: each one's first read may miss (and share one
  // upquery); after that the key is present and kept by the stream, so every read is a hit.
  const after = await stats(hot);
  const misses = after.misses - before.misses;
  assert.ok(misses <= 8, `${misses} of ${reads} reads of the hot key missed`);
  assert.equal(after.hits - before.hits + misses, reads);
  await rotor.caughtUp();
  const [rows] = await conns[0].query({ sql: 'SELECT fans FROM fan_count WHERE item_id = 1', rowsAsArray: true });
  assert.deepEqual(rows, [[150]]);
});
