/**
 * [note: evict-downstream] through a union: a branch key evicted takes exactly the union keys it
 * belongs to (Union.keysFrom), not every union key, and whatever is evicted, with writes between,
 * every union key answers as MariaDB does.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFixture, canonical } from './support.js';
import { seededRandom } from '../support/seeded-random.js';
import type { Operator } from '../../src/dataflow/operator.js';

const SQL = 'SELECT id, body FROM post WHERE author = ? AND id < 40 UNION SELECT id, body FROM post WHERE id = ?';
const ask = (a: number, i: number): string => SQL.replace('?', String(a)).replace('?', String(i));

describe('union eviction', () => {
  let f: EngineFixture;
  before(async () => {
    const rows = Array.from({ length: 60 }, (_, i) => `(${i + 1}, ${(i % 6) + 1}, 'b${i + 1}')`).join(', ');
    f = await EngineFixture.create('views_union_evict', `
      CREATE TABLE post (id INT PRIMARY KEY, author INT, body VARCHAR(40), KEY (author));
      INSERT INTO post VALUES ${rows};
    `);
  });
  after(async () => {
    await f?.close();
  });

  it('evicts the union keys a branch key belongs to, and only those', async () => {
    const c = await f.engine.register({ sql: SQL });
    const keys: Array<[number, number]> = [[1, 1], [1, 2], [2, 3], [3, 4]];
    for (const [a, i] of keys) assert.equal((await f.ask(ask(a, i))).source, 'fill');
    const union = f.engine.cache(c.id)!.built.nodes.find((n) => n.kind === 'union') as Operator;
    const [byAuthor] = union.parents;
    assert.equal(f.engine.graph.evict(byAuthor, [[1]]), 1);
    assert.equal(f.engine.get(c.id)!.stats.keys, 2, 'the two keys with author 1 left, the others stayed');
    assert.equal((await f.ask(ask(2, 3))).source, 'hit');
    assert.equal((await f.ask(ask(3, 4))).source, 'hit');
    assert.equal((await f.ask(ask(1, 1))).source, 'fill');
  });

  it('answers as MariaDB does whatever branch keys are evicted, with writes between', async () => {
    const c = await f.engine.register({ sql: SQL });
    const union = f.engine.cache(c.id)!.built.nodes.find((n) => n.kind === 'union') as Operator;
    const rnd = seededRandom(20261202);
    const pick = (n: number): number => 1 + Math.floor(rnd() * n);
    const keys: Array<[number, number]> = Array.from({ length: 12 }, () => [pick(6), pick(60)]);
    let nextId = 1000;
    for (let round = 0; round < 25; round++) {
      for (const [a, i] of keys) {
        const got = await f.ask(ask(a, i));
        assert.notEqual(got.source, 'upstream', got.reason ?? '');
        const truth = await f.upstream(ask(a, i));
        assert.equal(canonical(got.rows ?? [], false), canonical(truth.rows, false), `round ${round}: ${ask(a, i)}`);
      }
      // Evict a few branch keys of either branch.
      for (let e = 0; e < 3; e++) {
        const side = Math.floor(rnd() * 2);
        f.engine.graph.evict(union.parents[side], [[side === 0 ? pick(6) : pick(60)]]);
      }
      const w = Math.floor(rnd() * 3);
      if (w === 0) await f.db.admin.query(`INSERT INTO post VALUES (${nextId++}, ${pick(6)}, 'new'), (${pick(39) + 100 * round + 2000}, ${pick(6)}, 'low')`);
      else if (w === 1) await f.db.admin.query(`UPDATE post SET author = ${pick(6)}, body = 'moved${round}' WHERE id = ${pick(60)}`);
      else await f.db.admin.query(`DELETE FROM post WHERE id = ${pick(60)}`);
      await f.drain();
    }
  });
});
