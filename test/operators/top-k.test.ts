import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, del, ins, source } from './harness.js';
import { TopK } from '../../src/operators/top-k.js';
import { binaryOrder } from '../../src/operators/extremum.js';
import { keyString } from '../../src/dataflow/state.js';

// Rows [id, k, v]: top 2 per k by v DESC, ties by id; one slack row.
function topk(need = 2, keep = 3): TopK {
  return new TopK(source(['id', 'k', 'v']), {
    key: [1], fold: ['exact'], need, keep,
    orderBy: [{ column: 2, desc: true, order: binaryOrder }, { column: 0, desc: false, order: binaryOrder }],
  });
}

describe('top-k', () => {
  it('keeps the first rows of the order per key and shows only the first `need`', () => {
    const op = topk();
    new Harness(op).seed([[1], [2]], [[1, 1, 5], [2, 1, 9], [3, 1, 7], [4, 1, 1], [5, 2, 3]]);
    assert.deepEqual(op.rows(keyString([1])), [[2, 1, 9], [3, 1, 7]]);
    assert.deepEqual(op.rows(keyString([2])), [[5, 2, 3]]);
    assert.deepEqual(op.usage().rows, 4, 'the fill keeps `keep` rows of key 1 and all of key 2');
  });

  it('emits a row entering the top and retracts the one it pushes out', () => {
    const h = new Harness(topk()).seed([[1]], [[1, 1, 5], [2, 1, 9], [3, 1, 7]]);
    h.expect([ins(6, 1, 8)], [ins(6, 1, 8), del(3, 1, 7)]);
    h.expect([ins(7, 1, 2)], [], {});
  });

  it('replaces a deleted top row from the slack without a refill', () => {
    const h = new Harness(topk()).seed([[1]], [[1, 1, 5], [2, 1, 9], [3, 1, 7], [4, 1, 1]]);
    h.expect([del(2, 1, 9)], [del(2, 1, 9), ins(1, 1, 5)]);
  });

  it('evicts a key whose held rows fall below the top it must show [note: evict-not-guess]', () => {
    const h = new Harness(topk()).seed([[1]], [[1, 1, 5], [2, 1, 9], [3, 1, 7], [4, 1, 1]]);
    h.expect([del(2, 1, 9), del(3, 1, 7)], [], { evicted: [[1]] });
    assert.equal(h.op.state?.has(keyString([1])), false);
  });

  it('keeps serving a complete key (all its rows known) however few rows remain', () => {
    const h = new Harness(topk()).seed([[1]], [[1, 1, 5], [2, 1, 9]]);
    h.expect([del(2, 1, 9)], [del(2, 1, 9)]);
    h.expect([del(1, 1, 5)], [del(1, 1, 5)]);
    h.expect([ins(3, 1, 0)], [ins(3, 1, 0)]);
  });

  it('does not keep a row sorting after the last held row of an incomplete key', () => {
    const op = topk();
    const h = new Harness(op).seed([[1]], [[1, 1, 5], [2, 1, 9], [3, 1, 7], [4, 1, 1]]);
    h.expect([ins(9, 1, 0)], []);
    assert.equal(op.usage().rows, 3);
    // Deleting the row never held changes nothing; deleting held rows then needs a refill.
    h.expect([del(9, 1, 0), del(1, 1, 5)], []);
    h.expect([del(2, 1, 9)], [], { evicted: [[1]] });
  });

  it('moves an updated row within the top and out of it', () => {
    const h = new Harness(topk()).seed([[1]], [[1, 1, 5], [2, 1, 9], [3, 1, 7], [4, 1, 1]]);
    h.expect([del(3, 1, 7), ins(3, 1, 10)], [del(3, 1, 7), ins(3, 1, 10), del(2, 1, 9), ins(2, 1, 9)]);
    h.expect([del(3, 1, 10), ins(3, 1, 6)], [del(3, 1, 10), ins(3, 1, 6)]);
    h.expect([del(3, 1, 6), ins(3, 1, 4)], [del(3, 1, 6), ins(1, 1, 5)]);
  });

  it('evicts a key asked to retract a row it should hold and does not', () => {
    const h = new Harness(topk()).seed([[1]], [[1, 1, 5], [2, 1, 9], [3, 1, 7]]);
    h.expect([del(8, 1, 8)], [], { evicted: [[1]] });
  });

  it('drops deltas for missing keys', () => {
    const h = new Harness(topk()).seed([[1]], []);
    h.expect([ins(1, 2, 5)], []);
  });

  it('fills one key with a LIMITed SELECT and several with a UNION ALL of them', () => {
    const op = topk();
    assert.equal(op.fillQuery([[1]]).sql, 'SELECT `id`, `k`, `v` FROM `t` WHERE (`k` IN (1)) ORDER BY `v` DESC, `id` LIMIT 3');
    const q = op.fillQuery([[1], [2]]);
    assert.equal(q.sql, '(SELECT `id`, `k`, `v` FROM `t` WHERE (`k` IN (1)) ORDER BY `v` DESC, `id` LIMIT 3) UNION ALL (SELECT `id`, `k`, `v` FROM `t` WHERE (`k` IN (2)) ORDER BY `v` DESC, `id` LIMIT 3)');
    // Key 1 came back with `keep` rows (maybe more upstream), key 2 with fewer (all of them).
    q.install([[1, 1, 5], [2, 1, 9], [3, 1, 7], [5, 2, 3]]);
    const h = new Harness(op);
    h.expect([del(2, 1, 9), del(3, 1, 7)], [], { evicted: [[1]] });
    h.expect([del(5, 2, 3)], [del(5, 2, 3)]);
  });

  it('describes itself with its limit and slack', () => {
    assert.equal(topk().describe(), 'top-k[k] order by v DESC, id limit 2 (+1)');
  });
});
