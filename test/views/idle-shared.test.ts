/**
 * --cache-idle empties an idle cache's own keys: a busy cache that shares its nodes (join sides) keeps its own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFixture } from './support.js';

describe('--cache-idle and shared nodes', () => {
  let f: EngineFixture;
  before(async () => {
    f = await EngineFixture.create('views_idle', `
      CREATE TABLE post (id INT PRIMARY KEY, author INT, body VARCHAR(100), KEY (author));
      INSERT INTO post VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c');
      CREATE TABLE author (id INT PRIMARY KEY, name VARCHAR(40));
      INSERT INTO author VALUES (1, 'x'), (2, 'y');
    `, { engine: { cacheIdleMs: 1000 } });
  });
  after(async () => { await f?.close(); });

  it('emptying an idle cache leaves a busy cache that shares its nodes alone', async () => {
    const idle = await f.engine.register({ sql: 'SELECT p.id, a.name FROM post p JOIN author a ON a.id = p.author WHERE p.author = ?' });
    const busy = await f.engine.register({ sql: 'SELECT p.body, a.name FROM post p JOIN author a ON a.id = p.author WHERE p.author = ?' });
    await f.ask('SELECT p.id, a.name FROM post p JOIN author a ON a.id = p.author WHERE p.author = 1');
    await f.ask('SELECT p.body, a.name FROM post p JOIN author a ON a.id = p.author WHERE p.author = 1');
    const t0 = 1_000_000;
    f.engine.emptyIdle(t0);
    await f.ask('SELECT p.body, a.name FROM post p JOIN author a ON a.id = p.author WHERE p.author = 1');
    f.engine.emptyIdle(t0 + 5000);
    assert.equal(f.engine.get(idle.id)!.stats.keys, 0, 'the idle cache was emptied');
    assert.equal(f.engine.get(busy.id)!.stats.keys, 1, 'the busy cache, read just now, was emptied with it');
  });
});
