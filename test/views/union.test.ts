/**
 * UNION caches on a live stream: the column definitions MariaDB sends for the union, rows that
 * move between branches under writes, and the refusal of what cannot be cached.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFixture, canonical } from './support.js';
import { RotorError } from '../../src/errors.js';

const SQL = (a: number | string, e: number | string) => `SELECT id, title FROM story WHERE author_id = ${a} UNION SELECT id, title FROM story WHERE editor_id = ${e} ORDER BY title DESC, id`;

describe('UNION cache', () => {
  let f: EngineFixture;
  before(async () => {
    f = await EngineFixture.create('views_union', `
      CREATE TABLE story (id INT PRIMARY KEY, author_id INT, editor_id INT, title VARCHAR(40), INDEX (author_id), INDEX (editor_id));
      INSERT INTO story VALUES (1, 1, 2, 'a'), (2, 1, 1, 'b'), (3, 2, 1, 'c'), (4, 2, 3, 'd');
    `);
  });
  after(async () => { await f.close(); });

  it('answers with MariaDB\'s column definitions and rows, and follows rows moving between branches', async () => {
    await f.engine.register({ sql: SQL('?', '?') });
    const first = await f.ask(SQL(1, 1));
    const truth = await f.upstream(SQL(1, 1));
    assert.equal(first.source, 'fill');
    assert.deepEqual(first.columns?.map((c) => [c.name, c.type, c.orgTable, c.flags]), truth.fields.map((x) => [x.name, x.columnType, x.orgTable, x.flags]));
    assert.equal(canonical(first.rows ?? [], true), canonical(truth.rows, true));
    await f.db.admin.query("UPDATE story SET author_id = 3 WHERE id = 2; UPDATE story SET editor_id = 1 WHERE id = 4; INSERT INTO story VALUES (5, 1, 1, 'e')");
    await f.drain();
    for (const [a, e] of [[1, 1], [2, 1], [3, 3]]) {
      const got = await f.ask(SQL(a, e));
      assert.notEqual(got.source, 'upstream');
      assert.equal(canonical(got.rows ?? [], true), canonical((await f.upstream(SQL(a, e))).rows, true), `author ${a}, editor ${e}`);
    }
    assert.equal((await f.ask(SQL(1, 1))).source, 'hit');
  });

  it('evicts a key given one value per parameter, refills it, and rejects a key of another length', async () => {
    const id = f.engine.list()[0].id;
    assert.equal(f.engine.evict(id, [[1, 1]]), 1);
    // The branches keep their keys: the union's is computed again from them at once ([note: memory-fill]).
    const before = f.engine.get(id)?.stats.memoryFills;
    const again = await f.ask(SQL(1, 1));
    assert.equal(again.source, 'hit');
    assert.equal(f.engine.get(id)?.stats.memoryFills, (before ?? 0) + 1);
    assert.equal(canonical(again.rows ?? [], true), canonical((await f.upstream(SQL(1, 1))).rows, true));
    assert.throws(() => f.engine.evict(id, [[1]]), (e: unknown) => e instanceof RotorError && e.code === 'ERR_ADMIN_BAD_REQUEST');
  });

  it('caches a UNION across tables with MariaDB\'s columns, and refuses columns of different types [note: union-branches]', async () => {
    await f.db.admin.query("CREATE TABLE other (id INT PRIMARY KEY, story_id INT, title VARCHAR(60)); INSERT INTO other VALUES (1, 1, 'o1'), (2, 2, 'o2')");
    const sql = (a: number | string, s: number | string) => `SELECT id, title FROM story WHERE author_id = ${a} UNION ALL SELECT id, title FROM other WHERE story_id = ${s}`;
    await f.engine.register({ sql: sql('?', '?') });
    const truth = await f.upstream(sql(1, 1));
    const first = await f.ask(sql(1, 1));
    assert.deepEqual(first.columns?.map((c) => [c.name, c.type, c.columnLength]), truth.fields.map((x) => [x.name, x.columnType, x.columnLength]));
    assert.equal(canonical(first.rows ?? [], false), canonical(truth.rows, false));
    await f.db.admin.query("INSERT INTO other VALUES (3, 1, 'o3'); UPDATE story SET author_id = 1 WHERE id = 4");
    await f.drain();
    const got = await f.ask(sql(1, 1));
    assert.equal(got.source, 'hit');
    assert.equal(canonical(got.rows ?? [], false), canonical((await f.upstream(sql(1, 1))).rows, false));
    await assert.rejects(f.engine.register({ sql: 'SELECT id FROM story WHERE author_id = ? UNION SELECT title FROM other' }), (e: unknown) => e instanceof RotorError && e.http === 422 && /different types/.test(e.message));
  });
});
