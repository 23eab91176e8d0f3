/**
 * [note: memory-fill] against the real server: a first read of a key its reader does not hold is
 * answered at once from the states above when they hold or know the key — an aggregate with or
 * without GROUP BY, or a join's sides, filled whole ([note: complete-state]) — with no relayed miss
 * and no upquery, and every answer is MariaDB's, before and after writes, text and prepared. A key
 * with no rows answers as MariaDB does: one row of COUNT 0 and NULLs without GROUP BY, none with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eFixture } from '../support/e2e-fixture.js';
import type { CacheInfo } from '../../src/views/cache.js';

const fx = e2eFixture('e2e_memfill', {
  rotor: { completeRows: '1000', missPolicy: 'relay' },
  schema: `
    CREATE TABLE fan_of (user_id BIGINT, item_id BIGINT, PRIMARY KEY (user_id, item_id), INDEX (item_id));
    INSERT INTO fan_of VALUES (1, 10), (2, 10), (3, 11);
    CREATE TABLE sale (id INT PRIMARY KEY, shop INT, amount DECIMAL(8,2), note VARCHAR(10), KEY (shop));
    INSERT INTO sale VALUES (1, 1, 5.50, 'a'), (2, 1, 7.25, NULL), (3, 2, 1.00, 'c');
    CREATE TABLE article (id BIGINT PRIMARY KEY, title VARCHAR(255));
    CREATE TABLE vote (article_id BIGINT, user_id BIGINT, PRIMARY KEY (article_id, user_id));
    INSERT INTO article VALUES (1, 'one'), (2, 'two'), (3, 'three');
    INSERT INTO vote VALUES (1, 1), (1, 2), (2, 1);
  `,
});

const info = (id: string): Promise<CacheInfo> => fx.rotor.cache(id);
const whole = async (id: string): Promise<CacheInfo> => {
  const i = await fx.rotor.wholeFillEnded(id);
  assert.equal(i.wholeFill, 'complete');
  return i;
};

/** `sql` through Rotor and from MariaDB, and how Rotor answered it: a hit, from memory, or neither. */
async function read(id: string, sql: string, params: ReadonlyArray<number> | null = null) {
  const before = (await info(id)).stats;
  const run = async (c: typeof fx.direct) => JSON.stringify((params === null ? await c.query(sql) : await c.execute(sql, [...params]))[0]);
  const got = await run(fx.viaRotor);
  const s = (await info(id)).stats;
  const want = await run(fx.direct);
  const how = s.upqueries !== before.upqueries || s.relayedMisses !== before.relayedMisses ? 'mysql'
    : s.memoryFills === before.memoryFills + 1 ? 'memory' : s.hits === before.hits + 1 ? 'hit' : 'other';
  return { got, want, how };
}

test('COUNT(*) without GROUP BY: a first read of any key, held or not, is answered from memory, then a hit', async () => {
  const sql = (item: number | string) => `SELECT COUNT(*) FROM fan_of WHERE item_id = ${item}`;
  const id = await fx.register(sql('?'));
  await whole(id);
  for (const item of [10, 11, 12]) {
    const r = await read(id, sql(item));
    assert.equal(r.got, r.want, `item ${item}`);
    assert.equal(r.how, 'memory', `item ${item}`);
    assert.equal((await read(id, sql(item))).how, 'hit');
  }
  const p = await read(id, sql('?'), [13]);
  assert.equal(p.got, p.want);
  assert.equal(p.how, 'memory', 'prepared');
  await fx.direct.query('INSERT INTO fan_of VALUES (5, 12), (6, 12), (7, 13), (8, 14)');
  await fx.direct.query('DELETE FROM fan_of WHERE item_id = 11');
  await fx.rotor.caughtUp();
  for (const item of [10, 11, 12, 13, 14, 15]) {
    const r = await read(id, sql(item));
    assert.equal(r.got, r.want, `item ${item} after writes`);
    assert.ok(r.how === 'hit' || r.how === 'memory', `item ${item} after writes: ${r.how}`);
  }
  assert.equal((await info(id)).stats.relayedMisses, 0);
});

test('SUM, MIN, AVG and COUNT(column) without GROUP BY: a shop with no sales answers NULLs and 0, as MariaDB does', async () => {
  const sql = (shop: number | string) => `SELECT SUM(amount), MIN(note), AVG(amount), COUNT(note), COUNT(*) FROM sale WHERE shop = ${shop}`;
  const id = await fx.register(sql('?'));
  await whole(id);
  for (const shop of [1, 2, 3]) {
    const r = await read(id, sql(shop));
    assert.equal(r.got, r.want, `shop ${shop}`);
    assert.equal(r.how, 'memory', `shop ${shop}`);
  }
  const p = await read(id, sql('?'), [4]);
  assert.equal(p.got, p.want);
  await fx.direct.query("INSERT INTO sale VALUES (4, 3, 2.00, 'x'), (5, 4, NULL, NULL)");
  await fx.direct.query('UPDATE sale SET shop = 3 WHERE id = 3');
  await fx.rotor.caughtUp();
  for (const shop of [1, 2, 3, 4]) {
    const r = await read(id, sql(shop));
    assert.equal(r.got, r.want, `shop ${shop} after writes`);
  }
  assert.equal((await info(id)).stats.relayedMisses, 0);
});

test('GROUP BY: a key with no rows answers no rows, from memory', async () => {
  const sql = (shop: number) => `SELECT shop, COUNT(*), SUM(amount) FROM sale WHERE shop = ${shop} GROUP BY shop`;
  const id = await fx.register('SELECT shop, COUNT(*), SUM(amount) FROM sale WHERE shop = ? GROUP BY shop');
  await whole(id);
  for (const shop of [1, 9]) {
    const r = await read(id, sql(shop));
    assert.equal(r.got, r.want, `shop ${shop}`);
    assert.equal(r.how, 'memory');
  }
  await fx.direct.query('INSERT INTO sale VALUES (9, 9, 3.00, NULL)');
  await fx.rotor.caughtUp();
  const r = await read(id, sql(9));
  assert.equal(r.got, r.want);
  assert.equal(r.how, 'hit');
});

test('a join\'s sides filled whole: the first read of an article is computed from them, not relayed', async () => {
  const sql = (a: number | string) => `SELECT a.id, a.title, vc.votes FROM article a LEFT JOIN (SELECT article_id, COUNT(user_id) AS votes FROM vote GROUP BY article_id) vc ON a.id = vc.article_id WHERE a.id = ${a}`;
  const id = await fx.register(sql('?'));
  await whole(id);
  for (const a of [1, 3, 4]) {
    const r = await read(id, sql(a));
    assert.equal(r.got, r.want, `article ${a}`);
    assert.equal(r.how, 'memory', `article ${a}`);
  }
  await fx.db.admin.query("INSERT INTO vote VALUES (3, 1), (5, 2); INSERT INTO article VALUES (5, 'five')");
  await fx.rotor.caughtUp();
  for (const a of [3, 5, 6]) {
    const r = await read(id, sql(a));
    assert.equal(r.got, r.want, `article ${a} after writes`);
    assert.ok(r.how === 'hit' || r.how === 'memory', `article ${a}: ${r.how}`);
  }
});

test('an aggregate of more groups than --complete-rows relays a first read, as before', async () => {
  await fx.db.admin.query('CREATE TABLE big (id INT PRIMARY KEY, g INT); INSERT INTO big SELECT seq, seq % 7 FROM seq_1_to_1500');
  const id = await fx.register('SELECT COUNT(*) FROM big WHERE id = ?');
  assert.equal((await fx.rotor.wholeFillEnded(id)).wholeFill, 'too large');
  const r = await read(id, 'SELECT COUNT(*) FROM big WHERE id = 3');
  assert.equal(r.got, r.want);
  assert.equal(r.how, 'mysql');
});
