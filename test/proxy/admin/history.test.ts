import { test } from 'node:test';
import assert from 'node:assert/strict';
import { History, type HistorySources } from '../../../src/proxy/admin/history.js';

function source(): HistorySources & { set(t: Partial<ReturnType<HistorySources['totals']>>): void; lag: number | null } {
  let totals = { served: 0, relayed: 0, fills: 0, binlogTransactions: 0, binlogRows: 0 };
  const src = {
    lag: 5 as number | null,
    lagMs: () => src.lag,
    totals: () => totals,
    memory: () => ({ rssBytes: 100, stateBytes: 10 }),
    set(t: Partial<typeof totals>) {
      totals = { ...totals, ...t };
    },
  };
  return src;
}

test('a sample holds the rates since the previous sample and the gauges as they are', () => {
  const src = source();
  let now = 1_000_000;
  const h = new History(src, { intervalMs: 2000, now: () => now });
  now += 2000;
  src.set({ served: 100, relayed: 10, fills: 4, binlogTransactions: 20, binlogRows: 60 });
  assert.deepEqual(h.sample(), {
    t: 1_002_000, lagMs: 5, servedPerSec: 50, relayedPerSec: 5, fillsPerSec: 2,
    binlogTransactionsPerSec: 10, binlogRowsPerSec: 30, rssBytes: 100, stateBytes: 10,
  });
  now += 4000;
  src.lag = null;
  src.set({ served: 110 });
  const s = h.sample();
  assert.deepEqual([s.servedPerSec, s.relayedPerSec, s.lagMs], [2.5, 0, null]);
});

test('a total that went down (a dropped cache took its fills) is no activity, not a negative rate', () => {
  const src = source();
  let now = 0;
  const h = new History(src, { now: () => now });
  src.set({ fills: 50 });
  now += 1000;
  h.sample();
  src.set({ fills: 20 });
  now += 1000;
  assert.equal(h.sample().fillsPerSec, 0);
});

test('the ring keeps the newest samples, oldest first', () => {
  const src = source();
  let now = 0;
  const h = new History(src, { samples: 3, now: () => now });
  for (let i = 1; i <= 7; i++) {
    now = i * 1000;
    h.sample();
  }
  assert.deepEqual(h.samples().map((s) => s.t), [5000, 6000, 7000]);
});

test('the timer samples every interval until stopped, and does not hold the process open', async () => {
  const h = new History(source(), { intervalMs: 10 });
  h.start();
  // However late a loaded machine runs the timer, it samples again and again.
  while (h.samples().length < 2) await new Promise((r) => setTimeout(r, 10));
  h.stop();
  const n = h.samples().length;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(h.samples().length, n);
});
