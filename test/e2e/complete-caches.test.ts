/**
 * Complete caches ([note: complete-state]) against the real server: a cache over a table of at
 * most `--complete-rows` rows is filled whole, so a key the table does not hold is answered empty
 * from memory (no relayed miss, no fill), keys written later are created by the binlog, and every
 * answer is MariaDB's — after writes, under writers racing the whole fill, for text and prepared
 * reads, under a case-insensitive key, with conditions of the cache's own. A join's sides and a
 * grouped aggregate are filled whole too: a first read is computed from them without MariaDB. Too
 * large a table, or an eviction, leaves the cache partial and still exact; a UNION is never filled
 * whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { e2eFixture } from '../support/e2e-fixture.js';
import type { CacheInfo } from '../../src/views/cache.js';

const fx = e2eFixture('e2e_complete', {
  rotor: { completeRows: '1000', missPolicy: 'relay' },
  schema: `
    CREATE TABLE fan_of (user_id BIGINT, item_id BIGINT, PRIMARY KEY (user_id, item_id), INDEX (item_id));
    INSERT INTO fan_of VALUES (1, 10), (2, 10), (3, 11);
    CREATE TABLE person (id INT PRIMARY KEY, name VARCHAR(20) COLLATE utf8mb4_general_ci, active TINYINT, KEY (name));
    INSERT INTO person VALUES (1, 'Bob', 1), (2, 'bob ', 1), (3, 'Ann', 0);
    CREATE TABLE big (id INT PRIMARY KEY, g INT);
    INSERT INTO big SELECT seq, seq % 7 FROM seq_1_to_1500;
    CREATE TABLE busy (id INT AUTO_INCREMENT PRIMARY KEY, g INT, KEY (g));
    CREATE TABLE article (id BIGINT PRIMARY KEY, title VARCHAR(255));
    CREATE TABLE vote (article_id BIGINT, user_id BIGINT, PRIMARY KEY (article_id, user_id));
    INSERT INTO article VALUES (1, 'one'), (2, 'two'), (3, 'three');
    INSERT INTO vote VALUES (1, 1), (1, 2), (2, 1);
    CREATE TABLE sale (id INT PRIMARY KEY, shop INT, kind VARCHAR(10), amount INT, KEY (shop));
    INSERT INTO sale VALUES (1, 1, 'a', 5), (2, 1, 'b', 7), (3, 1, 'a', 1), (4, 2, 'a', 2);
  `,
});

const info = (id: string): Promise<CacheInfo> => fx.rotor.cache(id);
const whole = (id: string): Promise<CacheInfo> => fx.rotor.wholeFillEnded(id);

/** `sql`'s rows through Rotor and from MariaDB, and whether Rotor answered from memory without a miss or fill. */
async function read(id: string, sql: string, params: ReadonlyArray<string | number> | null = null, via: mysql.Connection = fx.viaRotor) {
  const before = (await info(id)).stats;
  const run = async (c: mysql.Connection) => JSON.stringify((params === null ? await c.query(sql) : await c.execute(sql, [...params]))[0]);
  const got = await run(via);
  const after = (await info(id)).stats;
  const want = await run(fx.direct);
  return { got, want, served: after.hits === before.hits + 1 && after.misses === before.misses && after.upqueries === before.upqueries };
}

test('a key the table does not hold is answered empty from memory, text and prepared', async () => {
  const id = await fx.register('SELECT user_id FROM fan_of WHERE user_id = ? AND item_id = ?');
  const i = await whole(id);
  assert.equal(i.wholeFill, 'complete');
  assert.equal(i.complete, true);
  assert.deepEqual(await read(id, 'SELECT user_id FROM fan_of WHERE user_id = 1 AND item_id = 10'), { got: '[{"user_id":1}]', want: '[{"user_id":1}]', served: true });
  assert.deepEqual(await read(id, 'SELECT user_id FROM fan_of WHERE user_id = 99 AND item_id = 10'), { got: '[]', want: '[]', served: true });
  assert.deepEqual(await read(id, 'SELECT user_id FROM fan_of WHERE user_id = ? AND item_id = ?', [98, 11]), { got: '[]', want: '[]', served: true });
  assert.deepEqual(await read(id, 'SELECT user_id FROM fan_of WHERE user_id = ? AND item_id = ?', [3, 11]), { got: '[{"user_id":3}]', want: '[{"user_id":3}]', served: true });
  assert.equal((await info(id)).stats.relayedMisses, 0);
});

test('keys written after the whole fill are created by the binlog; deleted ones become empty', async () => {
  const id = await fx.register('SELECT user_id, item_id FROM fan_of WHERE item_id = ? ORDER BY user_id');
  await whole(id);
  await fx.direct.query('INSERT INTO fan_of VALUES (50, 12), (51, 12), (52, 10)');
  await fx.direct.query('DELETE FROM fan_of WHERE user_id = 3');
  await fx.rotor.caughtUp();
  for (const item of [10, 11, 12, 13]) {
    const r = await read(id, `SELECT user_id, item_id FROM fan_of WHERE item_id = ${item} ORDER BY user_id`);
    assert.equal(r.served, true, `item ${item} served`);
    assert.equal(r.got, r.want, `item ${item}`);
  }
  assert.equal((await info(id)).complete, true);
});

test('a cache\'s own conditions and a case-insensitive key: rows enter and leave keys not held', async () => {
  const id = await fx.register('SELECT id FROM person WHERE name = ? AND active = 1 ORDER BY id');
  await whole(id);
  for (const name of ['BOB', 'bob', 'ann', 'zed']) {
    const r = await read(id, `SELECT id FROM person WHERE name = '${name}' AND active = 1 ORDER BY id`);
    assert.equal(r.got, r.want, name);
    assert.equal(r.served, true, `${name} served`);
  }
  await fx.direct.query("UPDATE person SET active = 1 WHERE name = 'Ann'");
  await fx.direct.query("INSERT INTO person VALUES (4, 'ZED', 1), (5, 'zed', 0)");
  await fx.rotor.caughtUp();
  for (const name of ['ann', 'Zed', 'BOB']) {
    const r = await read(id, `SELECT id FROM person WHERE name = '${name}' AND active = 1 ORDER BY id`);
    assert.equal(r.got, r.want, `${name} after writes`);
    assert.equal(r.served, true);
  }
});

test('a table with more rows than --complete-rows stays partial, and exact', async () => {
  const id = await fx.register('SELECT id FROM big WHERE g = ?');
  const i = await whole(id);
  assert.equal(i.wholeFill, 'too large');
  assert.equal(i.complete, false);
  const r = await read(id, 'SELECT id FROM big WHERE g = 99');
  assert.equal(r.got, r.want);
  assert.equal(r.served, false, 'a key not held is a miss');
});

test('an eviction makes a complete cache partial: keys not held go upstream again, until it is read and filled whole again', async () => {
  const id = await fx.register('SELECT user_id FROM fan_of WHERE user_id = ?');
  await whole(id);
  assert.equal((await info(id)).complete, true);
  const ev = await fx.rotor.api('POST', `/api/caches/${id}/evict`, { keys: [[1]] });
  assert.ok(ev.status === 200 || ev.status === 204, `evict: ${ev.status}`);
  assert.equal((await info(id)).complete, false);
  const r = await read(id, 'SELECT user_id FROM fan_of WHERE user_id = 77');
  assert.equal(r.got, r.want);
  assert.equal(r.served, false);
  // Read since the last look, and the memory budget evicting nothing: filled whole again.
  const engine = fx.rotor.rotor.engine;
  engine.revisitWhole();
  await read(id, 'SELECT user_id FROM fan_of WHERE user_id = 1');
  engine.revisitWhole();
  await engine.completeFillsSettled();
  assert.equal((await info(id)).complete, true);
  assert.deepEqual(await read(id, 'SELECT user_id FROM fan_of WHERE user_id = 78'), { got: '[]', want: '[]', served: true });
  // Not read since the last look: left partial.
  engine.revisitWhole();
  await fx.rotor.api('POST', `/api/caches/${id}/evict`, { keys: [[2]] });
  engine.revisitWhole();
  await engine.completeFillsSettled();
  assert.equal((await info(id)).complete, false);
});

test('writers racing the whole fill: every key answers what MariaDB holds once the stream caught up', async () => {
  await fx.direct.query('INSERT INTO busy (g) SELECT seq % 13 FROM seq_1_to_200');
  let stop = false;
  const writers = await Promise.all([0, 1, 2, 3].map(() => fx.connectDirect()));
  const writing = writers.map(async (c, w) => {
    for (let n = 0; !stop; n++) {
      await c.query('INSERT INTO busy (g) VALUES (?), (?)', [(w * 7 + n) % 17, (n * 3) % 19]);
      if (n % 5 === 4) await c.query('DELETE FROM busy WHERE g = ? ORDER BY id LIMIT 1', [n % 17]);
      if (n % 7 === 6) await c.query('UPDATE busy SET g = g + 1 WHERE g = ? ORDER BY id LIMIT 1', [(w + n) % 19]);
    }
  });
  const id = await fx.register('SELECT id FROM busy WHERE g = ? ORDER BY id');
  const i = await whole(id);
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await Promise.all(writing);
  for (const c of writers) await c.end();
  assert.equal(i.wholeFill, 'complete');
  await fx.rotor.caughtUp();
  assert.equal((await info(id)).complete, true);
  for (let g = 0; g <= 21; g++) {
    const r = await read(id, `SELECT id FROM busy WHERE g = ${g} ORDER BY id`);
    assert.equal(r.got, r.want, `g = ${g}`);
    assert.equal(r.served, true, `g = ${g} served`);
  }
});

test('a join\'s sides filled whole: a first read of any article is computed in memory, and follows writes', async () => {
  const sql = 'SELECT a.id, a.title, vc.votes FROM article a LEFT JOIN (SELECT article_id, COUNT(user_id) AS votes FROM vote GROUP BY article_id) vc ON a.id = vc.article_id WHERE a.id = ?';
  const id = await fx.register(sql);
  const i = await whole(id);
  assert.equal(i.wholeFill, 'complete');
  const upqueries = i.stats.upqueries;
  const check = async (when: string): Promise<void> => {
    for (const a of [1, 2, 3, 4, 5]) {
      const q = sql.replace('?', String(a));
      const [got] = await fx.viaRotor.query(q);
      const [want] = await fx.direct.query(q);
      assert.deepEqual(got, want, `article ${a} ${when}`);
    }
  };
  await check('at first');
  assert.equal((await info(id)).stats.upqueries, upqueries, 'no first read asked MariaDB');
  await fx.db.admin.query("INSERT INTO vote VALUES (3, 1), (3, 2), (4, 9); INSERT INTO article VALUES (4, 'four'), (5, 'five'); DELETE FROM vote WHERE article_id = 2");
  await fx.rotor.caughtUp();
  await check('after writes');
  assert.equal((await info(id)).stats.upqueries, upqueries);
});

test('a grouped aggregate filled whole answers every key from memory', async () => {
  const sql = 'SELECT kind, COUNT(*), SUM(amount) FROM sale WHERE shop = ? GROUP BY kind ORDER BY kind';
  const id = await fx.register(sql);
  const i = await whole(id);
  assert.equal(i.wholeFill, 'complete');
  await fx.direct.query("INSERT INTO sale VALUES (5, 3, 'c', 4), (6, 2, 'b', 1)");
  await fx.rotor.caughtUp();
  for (const shop of [1, 2, 3, 4]) {
    const r = await read(id, sql.replace('?', String(shop)));
    assert.equal(r.got, r.want, `shop ${shop}`);
  }
  assert.equal((await info(id)).stats.upqueries, i.stats.upqueries, 'no read asked MariaDB');
});

test('a UNION is not filled whole', async () => {
  const id = await fx.register('SELECT id FROM sale WHERE shop = ? UNION SELECT id FROM sale WHERE amount = ?');
  assert.equal((await info(id)).wholeFill, 'off');
});
