import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrequencySketch, hashKey } from '../../src/dataflow/frequency-sketch.js';

describe('frequency sketch', () => {
  it('tells keys read often from keys read once, among many', () => {
    const s = new FrequencySketch(1 << 12, 1 << 30);
    for (let i = 0; i < 2000; i++) s.add(hashKey(`cold${i}`));
    for (let round = 0; round < 8; round++) for (let i = 0; i < 50; i++) s.add(hashKey(`hot${i}`));
    let hotMin = 15, coldMax = 0, coldOver2 = 0;
    for (let i = 0; i < 50; i++) hotMin = Math.min(hotMin, s.estimate(hashKey(`hot${i}`)));
    for (let i = 0; i < 2000; i++) {
      const e = s.estimate(hashKey(`cold${i}`));
      coldMax = Math.max(coldMax, e);
      if (e > 2) coldOver2++;
    }
    assert.ok(hotMin >= 8, `every hot key counts at least its 8 reads (min ${hotMin})`);
    assert.ok(coldOver2 < 20, `few cold keys are overestimated past 2 (${coldOver2}, max ${coldMax})`);
    assert.equal(s.estimate(hashKey('never')) <= 2, true);
  });

  it('saturates at 15 and ages by halving every sample period', () => {
    const s = new FrequencySketch(64, 40);
    const h = hashKey('k');
    for (let i = 0; i < 39; i++) s.add(h);
    assert.equal(s.estimate(h), 15);
    s.add(hashKey('other'));
    assert.equal(s.estimate(h), 7);
  });
});
