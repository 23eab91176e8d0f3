import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LagMeter } from '../../src/binlog/lag.js';

const at = (position: number, file = 'mariadb-bin.000001') => ({ file, position });

describe('LagMeter', () => {
  it('is 0 with nothing waiting, and the age of the oldest unapplied sample otherwise', () => {
    const m = new LagMeter();
    assert.equal(m.lagMs(1000), 0);
    m.sample(at(100), 1000);
    m.sample(at(200), 1010);
    assert.equal(m.lagMs(1050), 50);
    m.reached(at(150));
    assert.equal(m.lagMs(1050), 40, 'the sample at 100 is met; 200 (taken at 1010) is not');
    m.reached(at(200));
    assert.equal(m.lagMs(1050), 0);
    assert.equal(m.waiting, false);
  });

  it('dates an unchanged binlog end by its first sighting, and ignores ends already applied', () => {
    const m = new LagMeter();
    m.reached(at(500));
    m.sample(at(400), 0);
    assert.equal(m.waiting, false);
    m.sample(at(600), 100);
    m.sample(at(600), 200);
    assert.equal(m.lagMs(300), 200);
  });

  it('orders positions across binlog files, and forgets samples on reset', () => {
    const m = new LagMeter();
    m.sample(at(4, 'mariadb-bin.000002'), 0);
    m.reached(at(9_999_999, 'mariadb-bin.000001'));
    assert.equal(m.lagMs(10), 10);
    m.reset();
    assert.equal(m.lagMs(10), 0);
  });
});

describe('LagMeter staleness (the upper bound)', () => {
  it('is the age of the newest applied sample, dated when it was asked, and Infinity before any', () => {
    const m = new LagMeter();
    assert.equal(m.stalenessMs(100), Infinity);
    m.sample(at(100), 20, 10);
    assert.equal(m.stalenessMs(100), Infinity, 'not applied yet');
    m.reached(at(100));
    assert.equal(m.stalenessMs(100), 90, 'from the asking, not the answer');
    m.sample(at(100), 60, 50);
    assert.equal(m.stalenessMs(100), 50, 'an end already applied proves at once');
    assert.equal(m.stalenessMs(1100), 1050, 'it grows while nothing is sampled');
  });

  it('dates a pending end seen again by its newest asking once it is applied, and keeps its proof on reset', () => {
    const m = new LagMeter();
    m.reached(at(100));
    m.sample(at(200), 10, 5);
    m.sample(at(200), 40, 30);
    assert.equal(m.lagMs(50), 40, 'the lag still counts from the first sighting');
    m.reached(at(200));
    assert.equal(m.stalenessMs(50), 20);
    m.reset();
    assert.equal(m.stalenessMs(70), 40);
  });

  it('forgets the position it reached when the binlog is renumbered', () => {
    const m = new LagMeter();
    m.reached(at(9_000));
    m.renumbered();
    m.sample(at(400), 10, 10);
    assert.equal(m.waiting, true, 'a smaller position of the new numbering is not taken as applied');
    assert.equal(m.stalenessMs(20), Infinity);
  });
});
