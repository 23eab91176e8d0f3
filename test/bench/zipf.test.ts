import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSkew, seededRandom, Zipf } from '../../bench/lib/zipf.js';

test('the same seed draws the same keys', () => {
  const a = new Zipf(1000, 1.08, seededRandom(7));
  const b = new Zipf(1000, 1.08, seededRandom(7));
  assert.deepEqual(Array.from({ length: 100 }, () => a.next()), Array.from({ length: 100 }, () => b.next()));
});

test('draws stay within 1..n', () => {
  const z = new Zipf(50, 1.15, seededRandom(1));
  for (let i = 0; i < 10_000; i++) {
    const k = z.next();
    assert.ok(Number.isInteger(k) && k >= 1 && k <= 50);
  }
});

test('probabilities follow 1/k^s and sum to one', () => {
  const z = new Zipf(100, 1.08);
  let total = 0;
  for (let k = 1; k <= 100; k++) total += z.probability(k);
  assert.ok(Math.abs(total - 1) < 1e-9);
  assert.ok(Math.abs(z.probability(1) / z.probability(2) - 2 ** 1.08) < 1e-9);
});

test('the observed frequency of the top key matches its probability', () => {
  const z = new Zipf(10_000, 1.08, seededRandom(42));
  let top = 0;
  const draws = 200_000;
  for (let i = 0; i < draws; i++) if (z.next() === 1) top++;
  const expected = z.probability(1);
  assert.ok(Math.abs(top / draws - expected) < 0.01, `top ${top / draws} vs ${expected}`);
});

test('skew 0 is uniform and "uniform" parses to it', () => {
  const z = new Zipf(4, parseSkew('uniform'));
  for (let k = 1; k <= 4; k++) assert.equal(z.probability(k), 0.25);
  assert.equal(parseSkew('1.15'), 1.15);
  assert.throws(() => parseSkew('steep'));
});
