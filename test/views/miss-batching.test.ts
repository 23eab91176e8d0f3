/**
 * [note: miss-batching] Misses that arrive while every upquery connection is busy wait together:
 * the next free connection fills all of them with one statement, each answer as exact as a fill of
 * its own (the writes made meanwhile included).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/views/engine.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { HeldUpstream, route, sessionFor, type Asked } from './support.js';

describe('[note: miss-batching] misses while the upquery connections are busy', () => {
  let db: TestDatabase;
  let engine: Engine;
  let up: HeldUpstream;

  before(async () => {
    db = await freshDatabase('views_miss_batching');
    await db.admin.query('CREATE TABLE kv (k INT PRIMARY KEY, v INT NOT NULL); INSERT INTO kv SELECT seq, seq FROM seq_1_to_100');
    up = new HeldUpstream(db.url, 2);
    engine = new Engine({ upstreamUrl: db.url, defaultDatabase: db.name, dataDir: null, missPolicy: 'fill' }, up);
    await engine.register({ sql: 'SELECT v FROM kv WHERE k = ?' });
  });
  after(async () => {
    await up.drainAll(engine);
    await engine.close();
    await db.drop();
  });

  it('go out together in one statement once a connection frees, each answer exact', async () => {
    const session = sessionFor(db.name);
    const before = up.statements.length;
    const reads: Array<Promise<Asked>> = [];
    // Twelve misses, each in a turn of its own (no two would share a statement by arriving together).
    for (let k = 1; k <= 12; k++) {
      reads.push(route(engine.router, `SELECT v FROM kv WHERE k = ${k}`, session));
      await new Promise(setImmediate);
    }
    assert.equal(up.outstanding, 2, 'two reads at once, the reader\'s width');
    assert.equal(up.statements.length - before, 2, 'the other ten misses wait for a connection');
    // A write while they wait: the fill that carries it is exact at its own position.
    await db.admin.query('UPDATE kv SET v = 700 WHERE k = 7');
    while (up.release.length > 0 || up.outstanding > 0) {
      for (const r of up.release.splice(0)) r();
      await new Promise((r) => setTimeout(r, 10));
    }
    const answers = await Promise.all(reads);
    assert.deepEqual(answers.map((a) => a.rows), Array.from({ length: 12 }, (_, i) => [[i === 6 ? 700 : i + 1]]));
    assert.equal(up.peak, 2);
    const sent = up.statements.slice(before);
    assert.equal(sent.length, 3, `the ten waiting misses filled by one statement: ${sent.join(' | ')}`);
    assert.equal((sent[2].match(/\d+/g) ?? []).length >= 10, true, 'the third statement names the ten keys');
  });
});
