/**
 * A prepared statement keeps the cache it matched at prepare (PreparedMatch): once that cache is
 * dropped (DROP CACHE, a replan after DDL), its executions go upstream, never to the dropped
 * cache's reader, which no batch reaches any more.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldPacket } from 'mysql2';
import type { Value } from '../../src/values.js';
import type { PreparedMatch } from '../../src/proxy/read-router.js';
import { toColumnDefinition } from '../../src/upstream/upstream-client.js';
import { EngineFixture, settle, type Asked } from './support.js';

describe('a prepared statement of a dropped cache', () => {
  let f: EngineFixture;
  const sql = 'SELECT body FROM note WHERE id = ?';

  before(async () => {
    f = await EngineFixture.create('views_dropped_prepared', `
      CREATE TABLE note (id INT PRIMARY KEY, body VARCHAR(20));
      INSERT INTO note VALUES (1, 'old'), (2, 'two');
    `);
  });
  after(async () => {
    await f?.close();
  });

  /** An execution of `m` through the router, its new spelling's columns learned as a session would. */
  async function execute(m: PreparedMatch, params: ReadonlyArray<Value>): Promise<Asked> {
    const router = f.engine.router;
    let r = router.routeExecute(m, params, f.session);
    if (r.kind === 'upstream' && r.watch !== undefined) {
      const [, fields] = await f.direct.execute({ sql, rowsAsArray: true }, params as Value[]);
      r.watch.columns((fields as FieldPacket[]).map(toColumnDefinition));
      r = router.routeExecute(m, params, f.session);
    }
    return settle(r);
  }

  it('goes upstream once its cache is dropped, and never answers from the dropped reader', async () => {
    const info = await f.engine.register({ sql, name: 'by_note' });
    const m = f.engine.router.matchPrepared(sql, f.session);
    assert.ok(m);
    assert.deepEqual((await execute(m, [1])).rows, [['old']]);
    assert.equal((await execute(m, [1])).source, 'hit');
    assert.equal(await f.engine.drop(info.id), true);
    const after = await execute(m, [1]);
    assert.equal(after.source, 'upstream', 'an execution of a dropped cache goes upstream');
    // Were it filled into the dropped reader, it would keep that answer: no batch reaches it.
    await f.db.admin.query("UPDATE note SET body = 'new' WHERE id = 1");
    await f.drain();
    const later = await execute(m, [1]);
    assert.equal(later.source, 'upstream');
    assert.notDeepEqual(later.rows, [['old']], 'never the dropped reader\'s stale answer');
  });
});
