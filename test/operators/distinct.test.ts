import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, del, ins, source } from './harness.js';
import { Distinct } from '../../src/operators/distinct.js';
import { keyString } from '../../src/dataflow/state.js';
import { lookAlikeCi } from '../support/collations.js';

// Rows [s, k]: distinct s per key k; s compares case-insensitively in the second operator.
const distinct = (ci = false) => new Distinct(source(['s', 'k']), { key: [1], fold: ['exact'], rowFold: [ci ? lookAlikeCi() : 'exact', 'exact'], multiset: false });

describe('distinct', () => {
  it('emits a row on its first occurrence and retracts it on its last', () => {
    const h = new Harness(distinct()).seed([[1]], [['a', 1]]);
    h.expect([ins('a', 1), ins('b', 1), ins('b', 1)], [ins('b', 1)]);
    h.expect([del('b', 1)], []);
    h.expect([del('a', 1)], []);
    h.expect([del('a', 1), del('b', 1)], [del('a', 1), del('b', 1)]);
  });

  it('evicts a key asked to retract a row it never counted', () => {
    const h = new Harness(distinct()).seed([[1]], [['a', 1]]);
    h.expect([del('z', 1)], [], { evicted: [[1]] });
  });

  it('shows one spelling of rows equal under a _ci collation, always one that still exists', () => {
    const op = distinct(true);
    const h = new Harness(op).seed([[1]], [['A', 1]]);
    h.expect([ins('a', 1)], []);
    assert.deepEqual(op.rows(keyString([1])), [['A', 1]]);
    h.expect([del('A', 1)], [del('A', 1), ins('a', 1)]);
    h.expect([del('a', 1)], [del('a', 1)]);
  });

  it('fills with the counts of each distinct row, grouping _ci text by its bytes', () => {
    const op = distinct(true);
    const q = op.fillQuery([[1], [2]]);
    assert.equal(q.sql, 'SELECT MIN(`s`), `k`, COUNT(*) FROM `t` WHERE (`k` IN (1, 2)) GROUP BY CAST(`s` AS BINARY), `k`');
    q.install([['a', 1, 2], ['b', 1, 1]]);
    assert.deepEqual(op.rows(keyString([2])), []);
    const h = new Harness(op);
    h.expect([del('a', 1)], []);
    h.expect([del('a', 1)], [del('a', 1)]);
  });
});

describe('counted rows (a UNION ALL branch)', () => {
  it('passes every occurrence on and fills from the counts of each row', () => {
    const op = new Distinct(source(['s', 'k']), { key: [1], fold: ['exact'], rowFold: ['exact', 'exact'], multiset: true });
    const q = op.fillQuery([[1]]);
    assert.equal(q.sql, 'SELECT `s`, `k`, COUNT(*) FROM `t` WHERE (`k` IN (1)) GROUP BY `s`, `k`');
    q.install([['a', 1, 2]]);
    assert.deepEqual(op.rows(keyString([1])), [['a', 1], ['a', 1]]);
    const h = new Harness(op);
    h.expect([ins('a', 1), del('a', 1), del('a', 1)], [del('a', 1)]);
    h.expect([del('a', 1), del('a', 1)], [], { evicted: [[1]] });
  });
});
