/** Failed logins per client address: refused past the limit until the window ends; bounded. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FailureLimit, MAX_SOURCES } from '../../../src/proxy/http-read/failure-limit.js';

describe('failed logins per address', () => {
  it('blocks an address past the limit until its window ends, and no other address', () => {
    let now = 1_000;
    const f = new FailureLimit(() => now, 3, 60_000);
    for (let i = 0; i < 3; i++) {
      assert.equal(f.blockedFor('a'), 0);
      f.fail('a');
    }
    assert.equal(f.blockedFor('a'), 60);
    assert.equal(f.blockedFor('b'), 0);
    now += 59_500;
    assert.equal(f.blockedFor('a'), 1);
    now += 1_000;
    assert.equal(f.blockedFor('a'), 0, 'the window is over');
    f.fail('a');
    assert.equal(f.blockedFor('a'), 0, 'a new window counts from one');
  });

  it('tracks a bounded number of addresses', () => {
    let now = 0;
    const f = new FailureLimit(() => now, 3, 60_000);
    for (let i = 0; i < MAX_SOURCES + 50; i++) f.fail(`10.0.${i >> 8}.${i & 255}`);
    assert.ok(f.size <= MAX_SOURCES);
    now += 61_000;
    f.fail('fresh');
    assert.equal(f.size, 1, 'expired windows go first');
  });
});
