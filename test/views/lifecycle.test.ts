/**
 * A cache's life beside its tables: DROP TABLE and DROP DATABASE retire the caches over them
 * (state freed, listed as `dropped` with the reason until deleted), TRUNCATE empties them, and a
 * cache nobody reads is emptied after `cacheIdleMs`, against the real server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFixture, sessionFor } from './support.js';

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('cache lifecycle', () => {
  let f: EngineFixture;

  before(async () => {
    f = await EngineFixture.create('views_lifecycle', `
      CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(20), kind INT);
      INSERT INTO item VALUES (1, 'a', 1), (2, 'b', 1), (3, 'c', 2);
      CREATE TABLE gone (id INT PRIMARY KEY, v INT);
      INSERT INTO gone VALUES (1, 10), (2, 20);
    `, { engine: { cacheIdleMs: 60_000 } });
  });
  after(async () => {
    await f?.close();
  });

  it('retires the caches over a dropped table: state freed, listed as dropped with the reason, never checked again', async () => {
    const one = await f.engine.register({ sql: 'SELECT v FROM gone WHERE id = ?' });
    const agg = await f.engine.register({ sql: 'SELECT COUNT(*) FROM gone WHERE v = ?' });
    const other = await f.engine.register({ sql: 'SELECT name FROM item WHERE id = ?' });
    assert.equal((await f.ask('SELECT v FROM gone WHERE id = 1')).source, 'fill');
    assert.equal((await f.ask('SELECT COUNT(*) FROM gone WHERE v = 10')).source, 'fill');
    assert.equal((await f.ask('SELECT name FROM item WHERE id = 1')).source, 'fill');
    await f.db.admin.query('DROP TABLE gone');
    await f.drain();
    await until('the caches to be retired', () => f.engine.get(one.id)?.status === 'dropped' && f.engine.get(agg.id)?.status === 'dropped');
    for (const id of [one.id, agg.id]) {
      const info = f.engine.get(id)!;
      assert.match(String(info.reason), /gone no longer exists/);
      assert.equal(info.stats.keys, 0);
    }
    // Their nodes left the graph (and their state with them); the other cache is untouched.
    const described = [...f.engine.graph.nodes()].map((n) => n.describe()).join('\n');
    assert.doesNotMatch(described, /\bgone\b/);
    assert.equal(f.engine.get(other.id)?.status, 'ready');
    assert.equal((await f.ask('SELECT name FROM item WHERE id = 1')).source, 'hit');
    // A read of a dropped cache goes upstream, where MariaDB says the table is gone.
    const asked = await f.ask('SELECT v FROM gone WHERE id = 1');
    assert.equal(asked.source, 'upstream');
    assert.match(String(asked.reason), /dropped/);
    // The periodic refresh leaves it alone, even once a table of that name exists again.
    await f.db.admin.query('CREATE TABLE gone (id INT PRIMARY KEY, v INT); INSERT INTO gone VALUES (1, 11)');
    await f.drain();
    await f.engine.refresh();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(f.engine.get(one.id)?.status, 'dropped');
    // Registering it again registers it over the new table.
    const again = await f.engine.register({ sql: 'SELECT v FROM gone WHERE id = ?' });
    assert.equal(again.id, one.id);
    assert.equal(again.status, 'ready');
    assert.deepEqual((await f.ask('SELECT v FROM gone WHERE id = 1')).rows, [[11]]);
    // Deleting a dropped cache removes it from the list.
    assert.equal(await f.engine.drop(agg.id), true);
    assert.equal(f.engine.get(agg.id), null);
  });

  it('retires the caches over every table of a dropped database', async () => {
    const other = `${f.db.name}_x`;
    await f.db.admin.query(`CREATE DATABASE ${other}`);
    try {
      await f.db.admin.query(`CREATE TABLE ${other}.t (id INT PRIMARY KEY, v INT); INSERT INTO ${other}.t VALUES (1, 1)`);
      const c = await f.engine.register({ sql: `SELECT v FROM ${other}.t WHERE id = ?` });
      assert.equal((await f.ask(`SELECT v FROM ${other}.t WHERE id = 1`)).source, 'fill');
      await f.db.admin.query(`DROP DATABASE ${other}`);
      await f.drain();
      await until('the cache to be retired', () => f.engine.get(c.id)?.status === 'dropped');
      assert.match(String(f.engine.get(c.id)?.reason), new RegExp(`${other}\\.t no longer exists`));
      f.engine.drop(c.id);
    } finally {
      await f.db.admin.query(`DROP DATABASE IF EXISTS ${other}`);
    }
  });

  it('empties the caches over a truncated table, and answers exactly after', async () => {
    const c = await f.engine.register({ sql: 'SELECT name FROM item WHERE kind = ?' });
    assert.deepEqual((await f.ask('SELECT name FROM item WHERE kind = 1')).rows?.length, 2);
    assert.equal((await f.ask('SELECT name FROM item WHERE kind = 1')).source, 'hit');
    await f.db.admin.query('TRUNCATE TABLE item');
    await f.drain();
    await until('the cache to be ready again', () => f.engine.get(c.id)?.status === 'ready');
    assert.equal(f.engine.get(c.id)?.stats.keys, 0);
    const after = await f.ask('SELECT name FROM item WHERE kind = 1');
    assert.deepEqual(after.rows, []);
    await f.db.admin.query("INSERT INTO item VALUES (9, 'z', 1)");
    await f.drain();
    assert.deepEqual((await f.ask('SELECT name FROM item WHERE kind = 1')).rows, [['z']]);
  });

  it('sends a read upstream when its cache stopped serving while the grants check ran', async () => {
    await f.db.admin.query("INSERT INTO item VALUES (30, 'g', 7)");
    await f.drain();
    const c = await f.engine.register({ sql: 'SELECT name FROM item WHERE kind = ? AND id >= 30' });
    let open!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    // A session the engine has not checked yet: its first read prepares the query upstream first.
    const session = sessionFor(f.db.name, { connectionId: 4242, probe: async () => { await gate; return null; } });
    const asked = f.ask('SELECT name FROM item WHERE kind = 7 AND id >= 30', session);
    await new Promise((r) => setTimeout(r, 50));
    f.engine.cache(c.id)!.status = 'invalidated';
    open();
    const a = await asked;
    assert.equal(a.source, 'upstream');
    assert.match(String(a.reason), /is invalidated/);
    f.engine.cache(c.id)!.status = 'ready';
  });

  it('empties a cache nobody read for cacheIdleMs, keeping its definition; a read cache stays', async () => {
    await f.db.admin.query("INSERT INTO item VALUES (20, 'p', 5), (21, 'q', 6)");
    await f.drain();
    const idle = await f.engine.register({ sql: 'SELECT name FROM item WHERE kind = ? AND id > 10' });
    const busy = await f.engine.register({ sql: 'SELECT id FROM item WHERE name = ?' });
    await f.ask('SELECT name FROM item WHERE kind = 5 AND id > 10');
    await f.ask("SELECT id FROM item WHERE name = 'p'");
    const t0 = 1_000_000;
    f.engine.emptyIdle(t0);
    f.engine.emptyIdle(t0 + 30_000);
    await f.ask("SELECT id FROM item WHERE name = 'p'");
    const before = f.engine.idleEmptied;
    f.engine.emptyIdle(t0 + 61_000);
    assert.equal(f.engine.get(idle.id)?.stats.keys, 0, 'the idle cache was emptied');
    assert.equal(f.engine.get(idle.id)?.status, 'ready');
    assert.equal(f.engine.get(busy.id)?.stats.keys, 1, 'the cache read since stays');
    // (with the caches of the tests before, which nobody read either)
    assert.ok(f.engine.idleEmptied > before);
    assert.equal((await f.ask('SELECT name FROM item WHERE kind = 5 AND id > 10')).source, 'fill');
  });
});
