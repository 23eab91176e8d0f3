/**
 * `--miss-policy relay` against the real server: a read of a key the cache does not hold is relayed
 * to the session's upstream session (no upquery, nothing filled); a key missed again is filled in the
 * background, so its next read hits; a key read once never costs a locking read. A failed
 * background fill is counted, never answered to anyone. Reads of a session that must see its own
 * writes stay exact: a miss there is relayed with its reason too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, type EngineUpstream } from '../../src/views/engine.js';
import { UpstreamClient } from '../../src/upstream/upstream-client.js';
import type { SnapshotResult } from '../../src/dataflow/upquery.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { EngineFixture, canonical, route, sessionFor, type Asked } from './support.js';

const FIRST = 'miss (first read of the key)';
const FILLED = 'miss (filled in the background)';

describe('the relay miss policy', () => {
  let f: EngineFixture;
  let byKey: string;

  before(async () => {
    f = await EngineFixture.create('views_relay', `
      CREATE TABLE kv (k INT PRIMARY KEY, v INT NOT NULL);
      INSERT INTO kv SELECT seq, seq * 10 FROM seq_1_to_500;
    `, { engine: { missPolicy: 'relay', consistency: 'session' } });
    byKey = (await f.engine.register({ sql: 'SELECT v FROM kv WHERE k = ?' })).id;
  });
  after(async () => { await f.close(); });

  const stats = () => {
    const s = f.engine.get(byKey)?.stats;
    assert.ok(s);
    return s;
  };
  const read = (k: number): Promise<Asked> => f.ask(`SELECT v FROM kv WHERE k = ${k}`);

  it('relays a first read: nothing is filled and no upquery runs', async () => {
    const before = { ...stats() };
    const upqueries = f.engine.upqueryStats.upqueries;
    const a = await read(1);
    assert.equal(a.source, 'upstream');
    assert.equal(a.reason, FIRST);
    await f.engine.settled();
    const s = stats();
    assert.equal(s.misses, before.misses + 1);
    assert.equal(s.relayedMisses, before.relayedMisses + 1);
    assert.equal(s.upqueries, before.upqueries);
    assert.equal(s.keys, 0);
    assert.equal(f.engine.upqueryStats.upqueries, upqueries);
  });

  it('fills a key missed again in the background, and its next read hits', async () => {
    const again = await read(1);
    assert.equal(again.source, 'upstream');
    assert.equal(again.reason, FILLED);
    await f.engine.settled();
    assert.equal(stats().upqueries, 1);
    assert.equal(stats().keys, 1);
    const third = await read(1);
    assert.equal(third.source, 'hit');
    assert.deepEqual(third.rows, (await f.upstream('SELECT v FROM kv WHERE k = 1')).rows);
  });

  it('never runs an upquery for keys read once', async () => {
    const before = stats().upqueries;
    const upqueries = f.engine.upqueryStats.upqueries;
    for (let k = 100; k < 400; k++) {
      const a = await read(k);
      assert.equal(a.reason, FIRST, `key ${k}`);
    }
    await f.engine.settled();
    assert.equal(stats().upqueries, before);
    assert.equal(f.engine.upqueryStats.upqueries, upqueries);
    assert.equal(stats().keys, 1);
  });

  it('shares one fill between concurrent misses of one key', async () => {
    await read(2);
    const upqueries = f.engine.upqueryStats.upqueries;
    // Misses in one turn of the event loop, each past the sketch's first sighting.
    const routed = Array.from({ length: 8 }, () => f.engine.router.routeQuery('SELECT v FROM kv WHERE k = 2', f.session));
    for (const r of routed) assert.deepEqual(r, { kind: 'upstream', reason: FILLED, statement: 'SELECT v FROM kv WHERE k = ?' });
    await f.engine.settled();
    assert.equal(f.engine.upqueryStats.upqueries, upqueries + 1);
    assert.equal((await read(2)).source, 'hit');
  });

  it('fills the keys of an IN list missed again, and relays the list until then', async () => {
    await f.engine.register({ sql: 'SELECT k, v FROM kv WHERE k IN (?, ?)' });
    const sql = 'SELECT k, v FROM kv WHERE k IN (3, 4)';
    assert.equal((await f.ask(sql)).reason, FIRST);
    assert.equal((await f.ask(sql)).reason, FILLED);
    await f.engine.settled();
    const hit = await f.ask(sql);
    assert.equal(hit.source, 'hit');
    assert.equal(canonical(hit.rows ?? [], false), canonical((await f.upstream(sql)).rows, false));
  });

  it('answers as MariaDB does while rows change under the fills', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => 20 + i);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 150; i++) {
        const k = keys[i % keys.length];
        await f.db.admin.query(`UPDATE kv SET v = v + 1 WHERE k = ${k}`);
      }
      writing = false;
    })();
    // Each key's value only grows: a hit must never go back to an older one.
    const seen = new Map<number, number>();
    for (let pass = 0; pass < 2 || writing; pass++) {
      // Hits resolve without I/O: let the writer and the stream run between passes.
      await new Promise(setImmediate);
      for (const k of keys) {
        const a = await read(k);
        if (a.source !== 'hit') continue;
        const v = Number(a.rows?.[0][0]);
        assert.ok(v >= (seen.get(k) ?? 0), `key ${k} went back from ${seen.get(k)} to ${v}`);
        seen.set(k, v);
      }
    }
    await writer;
    await f.engine.settled();
    await f.drain();
    let hits = 0;
    for (const k of keys) {
      const sql = `SELECT v FROM kv WHERE k = ${k}`;
      const a = await f.ask(sql);
      if (a.source === 'hit') {
        hits++;
        assert.deepEqual(a.rows, (await f.upstream(sql)).rows, sql);
      }
    }
    assert.equal(hits, keys.length, 'every key read again was filled');
  });

  it('relays a miss of a session that must first see its own writes, with the miss as its reason', async () => {
    const writer = sessionFor(f.db.name, { connectionId: 2, writes: 1 });
    await f.db.admin.query('UPDATE kv SET v = 7 WHERE k = 450');
    const first = await f.ask('SELECT v FROM kv WHERE k = 450', writer);
    assert.equal(first.source, 'upstream');
    assert.equal(first.reason, FIRST);
    const again = await f.ask('SELECT v FROM kv WHERE k = 450', { ...writer, writes: 2 });
    assert.equal(again.reason, FILLED);
    await f.engine.settled();
    const hit = await f.ask('SELECT v FROM kv WHERE k = 450', { ...writer, writes: 3 });
    assert.equal(hit.source, 'fill', 'answered after the binlog brought the writes');
    assert.deepEqual(hit.rows, [[7]]);
  });
});

/** The real upstream, whose upqueries fail while `failing` is set. */
class FailingUpstream extends UpstreamClient implements EngineUpstream {
  failing = false;
  override snapshotQuery(sql: string, locking?: boolean): Promise<SnapshotResult> {
    return this.failing ? Promise.reject(new Error('upquery refused by the test')) : super.snapshotQuery(sql, locking);
  }
}

describe('a failed background fill', () => {
  let db: TestDatabase;
  let engine: Engine;
  let up: FailingUpstream;

  before(async () => {
    db = await freshDatabase('views_relay_fail');
    await db.admin.query('CREATE TABLE kv (k INT PRIMARY KEY, v INT NOT NULL); INSERT INTO kv VALUES (1, 10)');
    up = new FailingUpstream(db.url);
    engine = new Engine({ upstreamUrl: db.url, defaultDatabase: db.name, dataDir: null, missPolicy: 'relay' }, up);
    await engine.register({ sql: 'SELECT v FROM kv WHERE k = ?' });
  });
  after(async () => {
    await engine.close();
    await db.drop();
  });

  it('is counted and never reaches a client; the next miss asks again', async () => {
    const session = sessionFor(db.name);
    const read = () => route(engine.router, 'SELECT v FROM kv WHERE k = 1', session);
    up.failing = true;
    assert.equal((await read()).reason, FIRST);
    assert.equal((await read()).reason, FILLED);
    await engine.settled();
    const id = engine.list()[0].id;
    assert.equal(engine.get(id)?.stats.fillErrors, 1);
    assert.equal(engine.get(id)?.stats.keys, 0);
    up.failing = false;
    assert.equal((await read()).reason, FILLED);
    await engine.settled();
    const hit = await read();
    assert.equal(hit.source, 'hit');
    assert.deepEqual(hit.rows, [[10]]);
  });
});

describe('[note: miss-relay] caches whose statement MariaDB cannot key', () => {
  let f: EngineFixture;
  before(async () => {
    f = await EngineFixture.create('views_relay_vote', `
      CREATE TABLE article (id INT PRIMARY KEY, title VARCHAR(20) NOT NULL);
      CREATE TABLE vote (article_id INT NOT NULL, user_id INT NOT NULL, PRIMARY KEY (article_id, user_id));
      INSERT INTO article SELECT seq, CONCAT('a', seq) FROM seq_1_to_20;
      INSERT INTO vote SELECT a.seq, u.seq FROM seq_1_to_20 a, seq_1_to_5 u;
    `, { engine: { missPolicy: 'relay' } });
  });
  after(async () => { await f.close(); });

  it('fills a miss of a join with an aggregating derived table: MariaDB would scan every group for one key', async () => {
    const vote = 'SELECT a.id, a.title, vc.votes FROM article a LEFT JOIN (SELECT article_id, COUNT(user_id) AS votes FROM vote GROUP BY article_id) AS vc ON a.id = vc.article_id WHERE a.id = ';
    const id = (await f.engine.register({ sql: `${vote}?` })).id;
    assert.equal(f.engine.cache(id)?.relaysMisses, false);
    const first = await f.ask(`${vote}3`);
    assert.equal(first.source, 'fill');
    assert.deepEqual(first.rows, (await f.upstream(`${vote}3`)).rows);
    assert.equal((await f.ask(`${vote}3`)).source, 'hit');
  });

  it('relays a miss of a semi-join and of a plain join, as MariaDB reaches their keys', async () => {
    const semi = (await f.engine.register({ sql: 'SELECT id, title FROM article WHERE id = ? AND id IN (SELECT article_id FROM vote WHERE user_id = 2)' })).id;
    assert.equal(f.engine.cache(semi)?.relaysMisses, true);
    assert.equal((await f.ask('SELECT id, title FROM article WHERE id = 4 AND id IN (SELECT article_id FROM vote WHERE user_id = 2)')).source, 'upstream');
    const join = (await f.engine.register({ sql: 'SELECT a.title, v.user_id FROM article a JOIN vote v ON v.article_id = a.id WHERE a.id = ?' })).id;
    assert.equal(f.engine.cache(join)?.relaysMisses, true);
    assert.equal((await f.ask('SELECT a.title, v.user_id FROM article a JOIN vote v ON v.article_id = a.id WHERE a.id = 5')).source, 'upstream');
  });
});
