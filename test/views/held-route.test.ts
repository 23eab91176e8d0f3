/**
 * [note: held-key] A remembered route holds its key's reader entry: every way the entry leaves
 * or changes (a row change, a retraction, TRUNCATE, an eviction, DDL that replans the cache, a
 * drop and a registration again) is seen by the next read of the same text, which answers what
 * MariaDB answers, against the real server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFixture, type Asked } from './support.js';

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a remembered route holding its key', () => {
  let f: EngineFixture;
  const sql = 'SELECT body FROM memo_note WHERE owner = 1';
  const cached = 'SELECT body FROM memo_note WHERE owner = ?';

  before(async () => {
    f = await EngineFixture.create('views_held_route', `
      CREATE TABLE memo_note (id INT PRIMARY KEY, owner INT, body VARCHAR(20), KEY (owner));
      INSERT INTO memo_note VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c');
    `);
  });
  after(async () => {
    await f?.close();
  });

  /** Reads the text three times (the route is remembered from the second), each answer MariaDB's. */
  async function readsAsUpstream(step: string): Promise<Asked> {
    const want = (await f.upstream(`${sql} ORDER BY body`)).rows;
    let last: Asked | undefined;
    for (let i = 0; i < 3; i++) {
      last = await f.ask(sql);
      if (last.source !== 'upstream') assert.deepEqual([...(last.rows ?? [])].map((r) => [...r]).sort(), want, `${step}, read ${i + 1}`);
    }
    return last as Asked;
  }

  it('answers what MariaDB answers after every change of the key it holds', async () => {
    let info = await f.engine.register({ sql: cached, name: 'memo_by_owner' });
    assert.equal((await readsAsUpstream('first reads')).source, 'hit');
    await f.db.admin.query("UPDATE memo_note SET body = 'a2' WHERE id = 1");
    await f.drain();
    assert.equal((await readsAsUpstream('after an update')).source, 'hit');
    await f.db.admin.query('DELETE FROM memo_note WHERE id = 2');
    await f.drain();
    await readsAsUpstream('after a delete');
    await f.db.admin.query("INSERT INTO memo_note VALUES (4, 1, 'd')");
    await f.drain();
    await readsAsUpstream('after an insert');
    f.engine.evict(info.id, [[1]]);
    await readsAsUpstream('after its key was evicted');
    f.engine.evict(info.id, 'all');
    await readsAsUpstream('after every key was evicted');
    await f.db.admin.query('TRUNCATE TABLE memo_note');
    await f.db.admin.query("INSERT INTO memo_note VALUES (5, 1, 'e')");
    await f.drain();
    await readsAsUpstream('after TRUNCATE');
    await f.db.admin.query('ALTER TABLE memo_note MODIFY body VARCHAR(30)');
    await f.db.admin.query("INSERT INTO memo_note VALUES (6, 1, 'f')");
    await f.drain();
    await until('the cache to be ready again', () => f.engine.get('memo_by_owner')?.status === 'ready');
    await readsAsUpstream('after DDL planned it again');
    assert.equal(await f.engine.drop('memo_by_owner'), true);
    assert.equal((await f.ask(sql)).source, 'upstream', 'a dropped cache answers nothing');
    await f.db.admin.query("INSERT INTO memo_note VALUES (7, 1, 'g')");
    await f.drain();
    info = await f.engine.register({ sql: cached, name: 'memo_by_owner' });
    assert.equal((await readsAsUpstream('registered again')).source, 'hit');
    assert.ok(info.id);
  });
});
