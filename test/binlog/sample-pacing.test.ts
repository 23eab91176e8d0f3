/** [note: demand-sampling] pinned on a mocked clock: no test here depends on the machine's speed. */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { SamplePacing } from '../../src/binlog/sample-pacing.js';

async function withPacing(busy: () => boolean, body: (p: SamplePacing, advance: (ms: number) => Promise<void>, runs: number[]) => Promise<void>): Promise<void> {
  mock.timers.enable({ apis: ['setTimeout'], now: 0 });
  let now = 0;
  const runs: number[] = [];
  const pacing = new SamplePacing({
    fastMs: 25, slowMs: 1000, holdMs: 1000, busy, clock: () => now,
    run: () => { runs.push(now); return Promise.resolve(); },
  });
  const advance = async (ms: number): Promise<void> => {
    for (let i = 0; i < ms; i++) {
      now++;
      mock.timers.tick(1);
      // Let a finished sample schedule the next one.
      for (let j = 0; j < 3; j++) await Promise.resolve();
    }
  };
  try {
    pacing.start();
    await body(pacing, advance, runs);
  } finally {
    pacing.stop();
    mock.timers.reset();
  }
}

test('samples once per slow period while nobody reads', async () => {
  await withPacing(() => false, async (pacing, advance, runs) => {
    await advance(3500);
    assert.deepEqual(runs, [1, 1001, 2001, 3001]);
    assert.equal(pacing.fast, false);
  });
});

test('a read during the slow period brings the next sample forward and samples fast again', async () => {
  await withPacing(() => false, async (pacing, advance, runs) => {
    await advance(2500);
    const before = runs.length;
    const last = runs[runs.length - 1];
    pacing.demand(2500);
    assert.equal(pacing.fast, true);
    await advance(Math.max(1, last + 25 - 2500) + 1);
    assert.equal(runs.length, before + 1, 'the next sample is taken one fast period after the last, not a slow one');
    await advance(500);
    assert.ok(runs.length - before > 15, 'and fast while reads go on');
  });
});

test('stays fast while a sample waits to be applied, even with no reads', async () => {
  await withPacing(() => true, async (pacing, advance, runs) => {
    await advance(3000);
    assert.ok(runs.filter((t) => t > 2000).length > 30);
    assert.equal(pacing.fast, true);
  });
});
