import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchFreshness } from '../../src/binlog/freshness.js';

test('caches stop answering when the binlog lags past the bound or stays down, and answer again after', () => {
  let status = { connected: true, lagMs: null as number | null };
  const changes: Array<string | null> = [];
  const w = watchFreshness(() => status, 1000, (r) => changes.push(r), 60_000);
  try {
    assert.equal(w.check(0), null, 'fresh at start, before any event');
    status = { connected: true, lagMs: 999 };
    assert.equal(w.check(10), null);
    status = { connected: true, lagMs: 1500 };
    assert.match(w.check(20) ?? '', /lags the upstream by more than 1000 ms/);
    status = { connected: true, lagMs: 3 };
    assert.equal(w.check(30), null);
    status = { connected: false, lagMs: null };
    assert.equal(w.check(100), null, 'a short disconnection is within the bound');
    assert.equal(w.check(1100), null);
    assert.match(w.check(1101) ?? '', /down for more than 1000 ms/);
    status = { connected: true, lagMs: 5 };
    assert.equal(w.check(1200), null, 'back once reconnected and caught up');
    status = { connected: false, lagMs: null };
    assert.equal(w.check(1300), null, 'the down time counts from the new disconnection');
    assert.deepEqual(changes.map((c) => c === null ? null : c.split(' ').slice(0, 3).join(' ')), [
      'the binlog lags', null, 'the binlog connection', null,
    ]);
  } finally {
    w.stop();
  }
});
