/**
 * [note: statement-dml] Rows changed by statements logged as statements (a privileged session with
 * binlog_format=STATEMENT) reach Rotor with no row events: the caches over their tables forget
 * what they held and refill, so every answer still equals MariaDB's.
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
});
