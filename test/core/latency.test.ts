/** The latency histogram: buckets √2 apart from 1 µs, percentiles as bucket bounds, a sum for the mean. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUCKET_MS, LatencyHistogram } from '../../src/latency.js';

test('each value lands in the first bucket whose bound holds it', () => {
  const h = new LatencyHistogram();
  for (const ms of [0.0005, 0.001, 0.0015, 1, 1000]) h.observe(ms);
  assert.equal(h.counts[0], 2, 'at or under 1 µs');
  assert.equal(h.counts[2], 1, '1.5 µs: under 2 µs, over 1.41');
  assert.equal(h.counts[20], 1, '1 ms: over 0.724 ms, under 1.024 ms (√2^20 µs)');
  assert.ok(Math.abs(BUCKET_MS[20] - 1.024) < 1e-12);
  assert.equal(h.count, 5);
  assert.ok(Math.abs(h.sumMs - 1001.003) < 1e-9);
  h.observe(1e9);
  assert.equal(h.counts[BUCKET_MS.length], 1, 'beyond the last bound');
});

test('percentiles: a bound at or above the value, within √2; 0 before any value', () => {
  const h = new LatencyHistogram();
  assert.deepEqual(h.percentiles(), { p50: 0, p99: 0 });
  for (let i = 0; i < 990; i++) h.observe(0.02);
  for (let i = 0; i < 10; i++) h.observe(7);
  const { p50, p99 } = h.percentiles();
  assert.ok(p50 >= 0.02 && p50 < 0.02 * Math.SQRT2);
  assert.ok(p99 >= 0.02 && p99 < 0.02 * Math.SQRT2, 'the 990th of 1,000');
  const p100 = h.percentile(1);
  assert.ok(p100 !== null && p100 >= 7 && p100 < 7 * Math.SQRT2);
});
