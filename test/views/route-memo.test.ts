/**
 * [note: route-memo] What the memo keeps: never more than a statement's routing costs to redo (a
 * statement whose IN lists bind thousands of keys is routed afresh), and never a cache that was
 * dropped (its state is freed when it leaves the registry, whatever still refers to it).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFixture, sessionFor } from './support.js';
import { MEMO_MAX_KEYS } from '../../src/views/route-memo.js';
import type { CacheRouter } from '../../src/views/router.js';
import { MAX_READ_KEYS } from '../../src/views/cache.js';

describe('route memo', () => {
  let f: EngineFixture;

  before(async () => {
    f = await EngineFixture.create('views_route_memo', `
      CREATE TABLE kv (a INT, b INT, v VARCHAR(20), PRIMARY KEY (a, b));
      INSERT INTO kv VALUES (1, 1, 'one'), (1, 2, 'two'), (2, 1, 'three');
    `);
  });
  after(async () => {
    await f.close();
  });

  it('does not remember a statement whose IN lists bind more keys than it keeps', async () => {
    await f.engine.register({ sql: 'SELECT v FROM kv WHERE a IN (?) AND b IN (?)', name: 'pairs' });
    await f.ask('SELECT v FROM kv WHERE a IN (1) AND b IN (1)');
    const size = (): number => (f.engine.router as CacheRouter).memoSize;
    const list = Array.from({ length: 40 }, () => '1').join(',');
    const before = size();
    // 40 x 40 = 1,600 keys (of one, 1 and 1) bound by one 180-character statement.
    const many = await f.ask(`SELECT v FROM kv WHERE a IN (${list}) AND b IN (${list})`);
    assert.equal(many.source, 'hit');
    assert.deepEqual(many.rows, [['one']]);
    assert.equal(size(), before, 'a statement of 1,600 keys is not kept');
    await f.ask('SELECT v FROM kv WHERE a IN (1, 2) AND b IN (1, 2)');
    assert.equal(size(), before, '[note: seen-once] a statement routed once is not kept');
    await f.ask('SELECT v FROM kv WHERE a IN (1, 2) AND b IN (1, 2)');
    assert.equal(size(), before + 1, `a statement of 4 keys (at most ${MEMO_MAX_KEYS}) is kept from its second routing`);
  });

  it('a read whose IN lists multiply past the limit goes upstream before any key is made', async () => {
    const list = Array.from({ length: 101 }, () => '1').join(',');
    const r = f.engine.router.routeQuery(`SELECT v FROM kv WHERE a IN (${list}) AND b IN (${list})`, f.session);
    assert.equal(r.kind, 'upstream');
    assert.equal(r.kind === 'upstream' ? r.reason : null, `the IN lists name more than ${MAX_READ_KEYS} keys`);
    const three = 'SELECT v FROM kv WHERE a IN (1) AND b IN (' + Array.from({ length: 10_001 }, (_, i) => i).join(',') + ')';
    assert.equal(f.engine.router.routeQuery(three, f.session).kind, 'upstream');
  });

  it('a remembered statement reads its key\'s rows as they change, and again once the key was evicted', async () => {
    await f.engine.register({ sql: 'SELECT v FROM kv WHERE b = ?', name: 'by_b' });
    const sql = 'SELECT v FROM kv WHERE b = 2';
    for (let i = 0; i < 3; i++) assert.deepEqual((await f.ask(sql)).rows, [['two']]);
    await f.db.admin.query("UPDATE kv SET v = 'deux' WHERE a = 1 AND b = 2");
    await f.drain();
    const changed = await f.ask(sql);
    assert.equal(changed.source, 'hit');
    assert.deepEqual(changed.rows, [['deux']]);
    assert.equal(f.engine.evict('by_b', [[2]]), 1);
    await f.db.admin.query("UPDATE kv SET v = 'zwei' WHERE a = 1 AND b = 2");
    await f.drain();
    const refilled = await f.ask(sql);
    assert.equal(refilled.source, 'fill', '[note: held-key] the evicted key is missed, not read from the entry the route held');
    assert.deepEqual(refilled.rows, [['zwei']]);
    assert.deepEqual((await f.ask(sql)).rows, [['zwei']]);
  });

  it('a remembered statement goes to a cache of its own spelling registered after it was remembered', async () => {
    // Answered by 'pairs' (IN lists, registered first) as its `=` form, until 'pair' comes.
    const sql = 'SELECT v FROM kv WHERE a = 2 AND b = 1';
    const pairs = f.engine.cache('pairs');
    assert.ok(pairs !== null);
    const reads = (c: { stats: { hits: number; misses: number } }): number => c.stats.hits + c.stats.misses;
    const before = reads(pairs);
    for (let i = 0; i < 3; i++) assert.deepEqual((await f.ask(sql)).rows, [['three']]);
    assert.equal(reads(pairs), before + 3, 'remembered, and answered by the IN-list cache');
    await f.engine.register({ sql: 'SELECT v FROM kv WHERE a = ? AND b = ?', name: 'pair' });
    const pair = f.engine.cache('pair');
    assert.ok(pair !== null);
    assert.deepEqual((await f.ask(sql)).rows, [['three']]);
    assert.equal(reads(pairs), before + 3, '[note: route-memo] the registration replaced the candidate list the route was found in');
    assert.equal(reads(pair), 1);
  });

  it('a dropped cache\'s reader is emptied, so no reference to it keeps its rows', async () => {
    await f.engine.register({ sql: 'SELECT v FROM kv WHERE a = ?', name: 'by_a' });
    const s = sessionFor(f.db.name);
    assert.equal((await f.ask('SELECT v FROM kv WHERE a = 1', s)).rows?.length, 2);
    assert.equal((await f.ask('SELECT v FROM kv WHERE a = 1', s)).source, 'hit');
    const cache = f.engine.cache('by_a');
    assert.ok(cache !== null);
    assert.ok(cache.built.reader.size > 0);
    const size = (): number => (f.engine.router as CacheRouter).memoSize;
    const held = size();
    assert.ok(f.engine.drop('by_a'));
    assert.equal(cache.built.reader.size, 0, 'the dropped cache holds no rows');
    assert.equal((await f.ask('SELECT v FROM kv WHERE a = 1', s)).source, 'upstream');
    assert.equal(size(), held - 1, 'the route to the dropped cache is forgotten');
  });
});
