import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Freshness } from '../../src/binlog/freshness.js';

function source(stalenessMs: number, connected = true) {
  const s = { connected, staleness: stalenessMs, demands: [] as number[], stalenessMs: () => s.staleness, demandSamples: (now: number) => { s.demands.push(now); } };
  return s;
}

test('caches stop answering while the staleness may exceed the bound, and answer again after', () => {
  const src = source(0);
  const changes: Array<string | null> = [];
  const f = new Freshness(src, 1000, (r) => changes.push(r));
  assert.equal(f.check(0), null, 'fresh');
  src.staleness = 1000;
  assert.equal(f.check(10), null, 'at the bound is within it');
  src.staleness = 1001;
  assert.match(f.check(20) ?? '', /lags the upstream by more than 1000 ms/);
  src.staleness = 3;
  assert.equal(f.check(30), null);
  src.connected = false;
  src.staleness = 900;
  assert.equal(f.check(100), null, 'a short disconnection is within the bound');
  src.staleness = 1500;
  assert.match(f.check(1101) ?? '', /connection is down and the caches may be more than 1000 ms behind/);
  src.connected = true;
  src.staleness = 5;
  assert.equal(f.check(1200), null, 'back once a fresh proof arrives');
  assert.deepEqual(changes.map((c) => c === null ? null : c.split(' ').slice(0, 3).join(' ')), [
    'the binlog lags', null, 'the binlog connection', null,
  ]);
});

test('a read asks for fast sampling and a status check does not', () => {
  const src = source(0);
  const f = new Freshness(src, 1000);
  f.check(5);
  assert.deepEqual(src.demands, []);
  assert.equal(f.forRead(7), null);
  assert.deepEqual(src.demands, [7]);
});
