/**
 * [note: limit-param] A `LIMIT ?` cache's top-k grows its K with the bounds read: keys holding all
 * their rows stay, the others are given up, and a fill planned for the smaller K is not installed
 * where it cannot show K rows.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, ins, source } from './harness.js';
import { TopK } from '../../src/operators/top-k.js';
import { binaryOrder } from '../../src/operators/extremum.js';
import { keyString } from '../../src/dataflow/state.js';
import { grownLimit } from '../../src/planner/limit.js';

// Rows [id, k, v]: per k by v DESC, ties by id.
function growable(need = 1, keep = 2): TopK {
  return new TopK(source(['id', 'k', 'v']), {
    key: [1], fold: ['exact'], need, keep, growable: 'c',
    orderBy: [{ column: 2, desc: true, order: binaryOrder }, { column: 0, desc: false, order: binaryOrder }],
  });
}

describe('top-k: LIMIT ? [note: limit-param]', () => {
  it('grows K by doubling up to the maximum, with slack', () => {
    assert.deepEqual(grownLimit(1, 10, 1000), { need: 16, keep: 32 });
    assert.deepEqual(grownLimit(16, 17, 1000), { need: 32, keep: 64 });
    assert.deepEqual(grownLimit(512, 900, 1000), { need: 1000, keep: 1256 });
  });

  it('gives up a key holding all its rows when it showed fewer of them than the new K', () => {
    const op = growable(1, 3);
    new Harness(op).seed([[1]], [[1, 1, 5], [2, 1, 9]]);
    assert.deepEqual(op.grow(2, 4), [[1]], 'complete, but the reader below holds one of its two rows');
  });

  it('keeps the keys that hold all their rows and gives up the others when K grows', () => {
    const op = growable();
    new Harness(op).seed([[1], [2]], [[1, 1, 5], [2, 1, 9], [3, 1, 7], [4, 2, 3]]);
    assert.deepEqual(op.rows(keyString([1])), [[2, 1, 9]]);
    const gone = op.grow(3, 4);
    assert.deepEqual(gone, [[1]], 'key 1 held 2 of its 3 rows; key 2 all of its one');
    assert.equal(op.need, 3);
    assert.deepEqual(op.rows(keyString([2])), [[4, 2, 3]]);
    assert.deepEqual(op.grow(2, 4), [], 'a smaller K changes nothing');
    assert.equal(op.need, 3);
  });

  it('emits the first K rows once grown, and keeps K + slack of a fill', () => {
    const op = growable();
    op.grow(2, 3);
    const h = new Harness(op).seed([[1]], [[1, 1, 5], [2, 1, 9], [3, 1, 7], [4, 1, 1]]);
    assert.deepEqual(op.rows(keyString([1])), [[2, 1, 9], [3, 1, 7]]);
    h.expect([ins(5, 1, 8)], [ins(5, 1, 8), { row: [3, 1, 7], sign: -1 }]);
  });

  it('does not install a fill planned for a smaller K that cannot show the new K rows', () => {
    const op = growable(1, 2);
    const q = op.fillQuery([[1], [2]]);
    assert.match(q.sql, /LIMIT 2/);
    op.grow(4, 12);
    // MySQL answered the old query: key 1 had at least 2 rows (maybe more), key 2 just one.
    q.install([[2, 1, 9], [3, 1, 7], [4, 2, 3]]);
    assert.equal(op.has(keyString([1])), false, 'two rows of an incomplete key cannot show four');
    assert.equal(op.has(keyString([2])), true, 'a key with all its rows can');
    assert.match(op.fillQuery([[1]]).sql, /LIMIT 12/, 'asked again, for the new K');
  });
});
