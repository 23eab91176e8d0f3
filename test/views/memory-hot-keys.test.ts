/**
 * [note: memory-budget] which keys stay: admission (a key read once goes first, so hot keys survive
 * a scan of cold ones), and hot keys behind a join or a union survive pressure from another cache
 * (a union's branch keys leave with the last union key they serve, not by their own ticks, which
 * reads of the union never refresh).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { budgetFixture, type EngineFixture } from './support.js';
import type { EvictionCandidate } from '../../src/dataflow/state.js';

describe('memory budget', () => {
  let f: EngineFixture;

  before(async () => {
    f = await budgetFixture('views_budget', true);
  });
  after(async () => {
    await f?.close();
  });

  it('admission: a reader key read once (its miss) keeps tick 0', async () => {
    const c = await f.engine.register({ sql: 'SELECT body FROM post WHERE id = ? AND author < 1000' });
    const a = await f.ask('SELECT body FROM post WHERE id = 1777 AND author < 1000');
    assert.equal(a.source, 'fill');
    const out: EvictionCandidate[] = [];
    f.engine.cache(c.id)!.built.reader.state.sample(10, out);
    assert.equal(out.length, 1);
    assert.equal(out[0].used, 0, `the key read once was given a real tick (${out[0].used}): the fill path's answer() counts as a second read`);
  });

  it('admission: hot keys (read 3 times) survive a scan of keys read once, without being re-read during the scan', async () => {
    const q = (k: number): string => `SELECT id, body FROM post WHERE id = ${k} AND author > 1`;
    await f.engine.register({ sql: 'SELECT id, body FROM post WHERE id = ? AND author > 1' });
    const hot = Array.from({ length: 10 }, (_, i) => 1500 + i * 7);
    for (let round = 0; round < 3; round++) for (const k of hot) await f.ask(q(k));
    for (let k = 1; k <= 1000; k++) {
      await f.ask(q(k));
      if (k % 50 === 0) f.engine.checkMemory();
    }
    f.engine.checkMemory();
    let hits = 0;
    for (const h of hot) if ((await f.ask(q(h))).source === 'hit') hits++;
    assert.ok(hits >= 8, `hot keys lost to a one-pass scan (${hits} of 10 hit)`);
  });

  it('a hot key through a join survives a scan of another cache when it is read throughout', async () => {
    const jq = 'SELECT p.id, a.name FROM post p JOIN author a ON a.id = p.author WHERE p.author = 7';
    await f.engine.register({ sql: 'SELECT p.id, a.name FROM post p JOIN author a ON a.id = p.author WHERE p.author = ?' });
    await f.engine.register({ sql: 'SELECT body FROM post WHERE id = ? AND author <> 0' });
    await f.ask(jq); await f.ask(jq); await f.ask(jq);
    let lost = 0;
    for (let k = 1; k <= 1200; k++) {
      await f.ask(`SELECT body FROM post WHERE id = ${k} AND author <> 0`);
      if (k % 50 === 0) {
        f.engine.checkMemory();
        // the hot join key is read after every check, as a hot key is
        if ((await f.ask(jq)).source !== 'hit') lost++;
      }
    }
    assert.equal(lost, 0, `the hot join key was evicted ${lost} times of 24 although read after every check (side keys age: hits never touch them)`);
  });
});

describe('union under budget', () => {
  let f: EngineFixture;
  before(async () => {
    f = await budgetFixture('views_union');
  });
  after(async () => { await f?.close(); });

  it('hot union keys survive pressure from another cache when read throughout', async () => {
    const c = await f.engine.register({ sql: 'SELECT id FROM post WHERE author = ? AND id < 3 UNION SELECT id FROM post WHERE id = ?' });
    const uq = (a: number): string => `SELECT id FROM post WHERE author = ${a} AND id < 3 UNION SELECT id FROM post WHERE id = ${a}`;
    await f.engine.register({ sql: 'SELECT body FROM post WHERE id = ? AND author <> 0' });
    const hot = [1, 2, 3, 4, 5];
    for (let r = 0; r < 3; r++) for (const h of hot) await f.ask(uq(h));
    let emptied = 0;
    for (let k = 1; k <= 1200; k++) {
      await f.ask(`SELECT body FROM post WHERE id = ${k} AND author <> 0`);
      if (k % 50 === 0) {
        f.engine.checkMemory();
        if (f.engine.get(c.id)!.stats.keys === 0) emptied++;
        for (const h of hot) await f.ask(uq(h));
      }
    }
    assert.equal(emptied, 0, `the union cache was emptied whole by ${emptied} of 24 checks (one branch key evicted evicts every union key)`);
  });

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
