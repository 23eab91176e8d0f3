import { after, before, describe, it } from 'node:test';
import { valueRows } from '../../src/proxy/protocol/result-set.js';
import assert from 'node:assert/strict';
import { EngineFixture, canonical } from './support.js';

describe('Engine serving single-table caches', () => {
  let f: EngineFixture;

  before(async () => {
    f = await EngineFixture.create('views_engine', `
      CREATE TABLE fan_of (user_id BIGINT, item_id BIGINT, PRIMARY KEY (user_id, item_id), INDEX (item_id));
      CREATE TABLE fan_count (item_id BIGINT PRIMARY KEY, fans BIGINT);
      INSERT INTO fan_of VALUES (1, 10), (2, 10), (3, 10), (1, 11);
      INSERT INTO fan_count VALUES (10, 3), (11, 1);
    `);
  });
  after(async () => { await f.close(); });

  it('fills a COUNT(*) on a miss, then answers hits from the view and follows writes', async () => {
    const info = await f.engine.register({ sql: 'SELECT COUNT(*) FROM fan_of WHERE item_id = ?' });
    assert.deepEqual(info.parameters, [{ table: 'fan_of', column: 'item_id' }]);
    const first = await f.ask('SELECT COUNT(*) FROM fan_of WHERE item_id = 10');
    assert.equal(first.source, 'fill');
    assert.deepEqual(first.rows, [[3]]);
    assert.equal(first.columns?.[0].name, 'COUNT(*)');
    assert.equal(first.columns?.[0].type, 8);
    const learning = f.engine.router.routeQuery('select count(*) from fan_of where item_id=10', f.session);
    assert.ok(learning.kind === 'upstream' && learning.watch?.columns, 'a new spelling of the select list is learned from its relay first');
    const hit2 = await f.ask('select count(*) from fan_of where item_id=10');
    assert.equal(hit2.source, 'hit');
    assert.equal(hit2.columns?.[0].name, 'count(*)');
    await f.db.admin.query('INSERT INTO fan_of VALUES (4, 10)');
    await f.drain();
    const after1 = await f.ask('SELECT COUNT(*) FROM fan_of WHERE item_id = 10');
    assert.equal(after1.source, 'hit');
    assert.deepEqual(after1.rows, [[4]]);
    const empty = await f.ask('SELECT COUNT(*) FROM fan_of WHERE item_id = 99');
    assert.deepEqual(empty.rows, [[0]]);
    assert.ok((f.engine.get(info.id)?.stats.hits ?? 0) >= 2);
  });

  it('serves plain rows and IN lists, equal to MariaDB', async () => {
    await f.engine.register({ sql: 'SELECT user_id FROM fan_of WHERE user_id = ? AND item_id = ?' });
    await f.engine.register({ sql: 'SELECT * FROM fan_count WHERE item_id IN (?, ?, ?)' });
    for (const sql of ['SELECT user_id FROM fan_of WHERE user_id = 1 AND item_id = 10', 'SELECT * FROM fan_count WHERE item_id IN (10, 11, 12)']) {
      const a = await f.ask(sql);
      assert.notEqual(a.source, 'upstream', String(a.reason));
      const u = await f.upstream(sql);
      assert.equal(canonical(a.rows ?? [], false), canonical(u.rows, false), sql);
    }
    await f.db.admin.query('UPDATE fan_count SET fans = fans + 1 WHERE item_id = 11');
    await f.drain();
    const sql = 'SELECT * FROM fan_count WHERE item_id IN (10, 11, 12)';
    const a = await f.ask(sql);
    assert.equal(a.source, 'hit');
    assert.equal(canonical(a.rows ?? [], false), canonical((await f.upstream(sql)).rows, false));
  });

  it('shows a transaction that writes several keys all at once or not at all', async () => {
    await f.engine.register({ sql: 'SELECT fans FROM fan_count WHERE item_id = ?' });
    const count = 'SELECT COUNT(*) FROM fan_of WHERE item_id = 20';
    const fans = 'SELECT fans FROM fan_count WHERE item_id = 20';
    await f.db.admin.query('INSERT INTO fan_count VALUES (20, 0)');
    await f.drain();
    await f.ask(count);
    await f.ask(fans);
    let writing = true;
    const writer = (async () => {
      for (let u = 100; u < 160; u++) {
        await f.db.admin.query(`START TRANSACTION; INSERT INTO fan_of VALUES (${u}, 20); UPDATE fan_count SET fans = fans + 1 WHERE item_id = 20; COMMIT;`);
      }
      writing = false;
    })();
    let checks = 0;
    while (writing) {
      // Both reads in one turn of the event loop: a batch is applied entirely between turns.
      const a = f.engine.router.routeQuery(count, f.session);
      const b = f.engine.router.routeQuery(fans, f.session);
      assert.equal(a.kind, 'answer');
      assert.equal(b.kind, 'answer');
      if (a.kind === 'answer' && b.kind === 'answer' && a.answer.kind === 'rows' && b.answer.kind === 'rows') {
        assert.equal(Number(valueRows(a.answer.rows)[0][0]), Number(valueRows(b.answer.rows)[0][0]));
        checks++;
      }
      await new Promise((r) => setImmediate(r));
    }
    await writer;
    await f.drain();
    assert.deepEqual((await f.ask(count)).rows, [[60]]);
    assert.ok(checks > 0);
  });

  it('evicts a key at the aggregate and the eviction reaches the reader; the next read refills', async () => {
    const info = await f.engine.register({ sql: 'SELECT COUNT(*) FROM fan_of WHERE item_id = ?' });
    await f.ask('SELECT COUNT(*) FROM fan_of WHERE item_id = 11');
    assert.equal((await f.ask('SELECT COUNT(*) FROM fan_of WHERE item_id = 11')).source, 'hit');
    assert.equal(f.engine.evict(info.id, [[11]]), 1);
    const again = await f.ask('SELECT COUNT(*) FROM fan_of WHERE item_id = 11');
    assert.equal(again.source, 'fill');
    assert.deepEqual(again.rows, (await f.upstream('SELECT COUNT(*) FROM fan_of WHERE item_id = 11')).rows);
  });

  it('refills in the background a key evicted because its MIN was deleted [note: evict-not-guess]', async () => {
    await f.engine.register({ sql: 'SELECT MIN(user_id), COUNT(*) FROM fan_of WHERE item_id = ?' });
    await f.db.admin.query('INSERT INTO fan_of VALUES (500, 30), (501, 30), (502, 30)');
    await f.drain();
    const sql = 'SELECT MIN(user_id), COUNT(*) FROM fan_of WHERE item_id = 30';
    assert.deepEqual((await f.ask(sql)).rows, [[500, 3]]);
    const before = f.engine.upqueryStats.upqueries;
    await f.db.admin.query('DELETE FROM fan_of WHERE user_id = 500 AND item_id = 30');
    await f.drain();
    // No read in between: the refill is the engine's own.
    for (let i = 0; i < 200 && f.engine.upqueryStats.upqueries === before; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(f.engine.upqueryStats.upqueries, before + 1);
    await new Promise((res) => setTimeout(res, 50));
    const a = await f.ask(sql);
    assert.equal(a.source, 'hit');
    assert.deepEqual(a.rows, [[501, 2]]);
  });
});
