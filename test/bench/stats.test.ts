import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketOf, bucketRange, Histogram, histogramFrom, percentile, spread } from '../../bench/lib/stats.js';
import { split } from '../../bench/lib/workers.js';
import { table } from '../../bench/lib/markdown.js';
import { barChart, lineChart, svgDocument } from '../../bench/lib/svg.js';

test('every microsecond value falls inside the range of its own bucket', () => {
  for (const us of [0, 1, 127, 128, 129, 255, 256, 1000, 12_345, 999_999, 2 ** 30 + 7]) {
    const { low, width } = bucketRange(bucketOf(us));
    assert.ok(us >= low && us < low + width, `${us} not in [${low}, ${low + width})`);
  }
});

test('bucket widths stay under 1.6 % of the value above the exact range', () => {
  for (let us = 128; us < 2 ** 28; us = Math.floor(us * 1.37) + 1) {
    const { width } = bucketRange(bucketOf(us));
    assert.ok(width / us <= 1 / 64, `width ${width} at ${us}`);
  }
});

test('a histogram reports exact min, max and mean and percentiles within bucket precision', () => {
  const h = new Histogram();
  for (let i = 1; i <= 10_000; i++) h.record(i / 100); // 0.01 ms .. 100 ms
  const s = h.summary();
  assert.equal(s.count, 10_000);
  assert.equal(s.min, 0.01);
  assert.equal(s.max, 100);
  assert.ok(Math.abs(s.avg - 50.005) < 1e-9);
  assert.ok(Math.abs(s.p50 - 50) / 50 < 0.01, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p99 - 99) / 99 < 0.01, `p99 ${s.p99}`);
});

test('histograms merged from workers equal one histogram of all samples', () => {
  const a = new Histogram();
  const b = new Histogram();
  const all = new Histogram();
  for (let i = 0; i < 5000; i++) {
    const v = (i * 7919) % 3000 / 10;
    (i % 2 ? a : b).record(v);
    all.record(v);
  }
  const merged = histogramFrom(a.toData());
  merged.merge(JSON.parse(JSON.stringify(b.toData())));
  assert.deepEqual(merged.summary(), all.summary());
});

test('an empty histogram summarizes to zeros', () => {
  assert.deepEqual(new Histogram().summary(), { count: 0, min: 0, avg: 0, p50: 0, p95: 0, p99: 0, max: 0 });
});

test('exact percentiles interpolate between ranks and spread is null for no samples', () => {
  assert.equal(percentile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(percentile([5], 0.99), 5);
  assert.equal(spread([]), null);
  assert.deepEqual(spread([1, 2, 3]), { p50: 2, p99: 2.98, max: 3 });
});

test('split divides a total into near-equal contiguous shares', () => {
  assert.deepEqual(split(10, 3), [4, 3, 3]);
  assert.deepEqual(split(2, 4), [1, 1, 0, 0]);
  assert.equal(split(23_000_000, 8000).reduce((s, x) => s + x, 0), 23_000_000);
});

test('a markdown table right-aligns numeric columns', () => {
  const t = table(['name', 'qps'], [['direct', '1,234'], ['rotor', '56']]).split('\n');
  assert.equal(t[1], '|--------|------:|');
  assert.equal(t[3], '| rotor  |    56 |');
});

test('charts are well-formed SVG that escape their labels', () => {
  const svg = svgDocument([
    barChart('a < b', 'ms', ['q1', 'q2'], ['x & y'], [[1, null]]),
    lineChart('lag', 's', 'ms', [{ name: 'r', points: [[0, 1], [1, 3]] }]),
  ]);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.includes('a &lt; b') && svg.includes('x &amp; y'));
  assert.ok(!svg.includes('NaN'));
});
