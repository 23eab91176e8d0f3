/**
 * Background fills (--miss-policy relay) are bounded: a relayed read returns as soon as the
 * client's own upstream session answers, so without a cap one session could leave any number of
 * locking upqueries queued behind Rotor's pool.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/views/engine.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { HeldUpstream, route, sessionFor } from './support.js';

describe('background fills (review)', () => {
  let db: TestDatabase;
  let engine: Engine;
  let up: HeldUpstream;

  before(async () => {
    db = await freshDatabase('views_relay_backlog');
    await db.admin.query('CREATE TABLE kv (k INT PRIMARY KEY, v INT NOT NULL); INSERT INTO kv SELECT seq, seq FROM seq_1_to_1000');
    up = new HeldUpstream(db.url);
    engine = new Engine({ upstreamUrl: db.url, defaultDatabase: db.name, dataDir: null, missPolicy: 'relay' }, up);
    await engine.register({ sql: 'SELECT v FROM kv WHERE k = ?' });
  });
  after(async () => {
    await up.drainAll(engine);
    await engine.close();
    await db.drop();
  });

  it('bounds the upqueries one session can leave queued', async () => {
    const session = sessionFor(db.name);
    for (let k = 1; k <= 300; k++) {
      const sql = `SELECT v FROM kv WHERE k = ${k}`;
      await route(engine.router, sql, session);
      await route(engine.router, sql, session);
      // the relayed statement's own round trip
      await new Promise(setImmediate);
    }
    const peak = up.peak;
    for (const r of up.release.splice(0)) r();
    assert.ok(peak <= 32, `${peak} background upqueries outstanding at once from one session's 600 relayed reads`);
  });
});
