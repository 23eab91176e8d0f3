/**
 * [note: memory-budget] through a union: branch keys leave with the last union key they serve, not
 * by their own ticks (which reads of the union never refresh), so a hot union key read after every
 * check keeps its branch keys against colder keys of another cache.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFixture } from './support.js';
import { usage } from '../../src/dataflow/usage.js';

const LIMIT = 96 * 1024;

describe('union under budget (review)', () => {
  let f: EngineFixture;
  before(async () => {
    usage.policy = 'admission';
    const rows = Array.from({ length: 2000 }, (_, i) => `(${i + 1}, ${(i % 50) + 1}, '${'p'.repeat(60)}${i}')`).join(', ');
    f = await EngineFixture.create('views_union_review', `
      CREATE TABLE post (id INT PRIMARY KEY, author INT, body VARCHAR(100), KEY (author));
      INSERT INTO post VALUES ${rows};
    `, { engine: { memoryLimitBytes: LIMIT } });
  });
  after(async () => { await f?.close(); });

  it('hot union keys read after every check stay hits', async () => {
    await f.engine.register({ sql: 'SELECT id FROM post WHERE author = ? AND id < 3 UNION SELECT id FROM post WHERE id = ?' });
    const uq = (a: number): string => `SELECT id FROM post WHERE author = ${a} AND id < 3 UNION SELECT id FROM post WHERE id = ${a}`;
    await f.engine.register({ sql: 'SELECT body FROM post WHERE id = ? AND author <> 0' });
    const hot = [1, 2, 3, 4, 5];
    for (let r = 0; r < 3; r++) for (const h of hot) await f.ask(uq(h));
    let missed = 0;
    let reads = 0;
    for (let k = 1; k <= 1200; k++) {
      await f.ask(`SELECT body FROM post WHERE id = ${k} AND author <> 0`);
      await f.ask(`SELECT body FROM post WHERE id = ${k} AND author <> 0`);
      if (k % 50 === 0) {
        f.engine.checkMemory();
        for (const h of hot) { reads++; if ((await f.ask(uq(h))).source !== 'hit') missed++; }
      }
    }
    assert.equal(missed, 0, `hot union keys, read after every check, missed ${missed} of ${reads} reads`);
  });
});
