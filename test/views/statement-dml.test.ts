/**
 * [note: statement-dml] Rows changed by statements logged as statements (a privileged session with
 * binlog_format=STATEMENT), or logged without full row images (binlog_row_image=MINIMAL), reach
 * Rotor with no rows it can apply: the caches over their tables forget what they held and refill,
 * so every answer still equals MariaDB's.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFixture } from './support.js';

describe('statements logged as statements', () => {
  let f: EngineFixture;

  before(async () => {
    f = await EngineFixture.create('views_stmt_dml', `
      CREATE TABLE fan_of (user_id BIGINT, item_id BIGINT, PRIMARY KEY (user_id, item_id), INDEX (item_id));
      INSERT INTO fan_of VALUES (1, 10), (2, 10);
    `);
  });

  after(async () => {
    await f.close();
  });

  it('empty the caches over the tables they change, which then refill to MariaDB\'s answer', async () => {
    const info = await f.engine.register({ sql: 'SELECT COUNT(*) FROM fan_of WHERE item_id = ?' });
    const sql = 'SELECT COUNT(*) FROM fan_of WHERE item_id = 10';
    assert.deepEqual((await f.ask(sql)).rows, [[2]]);
    assert.equal((await f.ask(sql)).source, 'hit');
    const statement = async (dml: string): Promise<void> => {
      await f.db.admin.query(`SET SESSION binlog_format = 'STATEMENT'; ${dml}; SET SESSION binlog_format = 'ROW'`);
      await f.drain();
      const answer = await f.ask(sql);
      assert.deepEqual(answer.rows, (await f.upstream(sql)).rows, dml);
    };
    await statement('INSERT INTO fan_of VALUES (3, 10)');
    await statement('UPDATE fan_of SET item_id = 11 WHERE user_id = 1');
    await statement(`DELETE FROM ${f.db.name}.fan_of WHERE user_id = 2`);
    await statement('BEGIN; INSERT INTO fan_of VALUES (4, 10), (5, 10); COMMIT');
    assert.ok(f.engine.status().emptiedByStatements >= 4);
    assert.equal(f.engine.get(info.id)?.status, 'ready', 'the cache keeps serving');
  });

  it('empty the caches over a table whose rows arrive without full images (binlog_row_image=MINIMAL)', async () => {
    await f.db.admin.query("CREATE TABLE note (id INT PRIMARY KEY, owner INT, body VARCHAR(20), INDEX (owner)); INSERT INTO note VALUES (1, 7, 'a'), (2, 7, 'b')");
    await f.engine.register({ sql: 'SELECT body FROM note WHERE owner = ?' });
    const sql = 'SELECT body FROM note WHERE owner = 7';
    await f.ask(sql);
    const before = f.engine.status().emptiedByStatements;
    for (const dml of ["UPDATE note SET body = 'changed' WHERE id = 1", 'DELETE FROM note WHERE id = 2', "INSERT INTO note (id, owner) VALUES (3, 7)"]) {
      await f.db.admin.query(`SET SESSION binlog_row_image = 'MINIMAL'; ${dml}; SET SESSION binlog_row_image = 'FULL'`);
      await f.drain();
      const ours = (await f.ask(sql)).rows?.map((r) => r[0]).sort();
      const theirs = (await f.upstream(sql)).rows.map((r) => r[0]).sort();
      assert.deepEqual(ours, theirs, `${dml} with MINIMAL row images`);
    }
    assert.ok(f.engine.status().emptiedByStatements > before);
  });
});
