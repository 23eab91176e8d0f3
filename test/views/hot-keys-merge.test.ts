/**
 * Several instances' hot keys merged into one list (redis-hot-keys.ts, [note: warm-fill]): a key
 * hot on several instances ranks above one hot on a single instance, bounded to the limit, and
 * keys that differ only in type (1 and '1', a bigint and its number) stay apart.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeHotKeys } from '../../src/views/hot-keys.js';

describe('merging hot keys of several instances', () => {
  it('gives one list back as it was, up to the limit', () => {
    assert.deepEqual(mergeHotKeys([[[3], [1], [2]]], 2), [[3], [1]]);
  });

  it('ranks a key hot on several instances above one hot on a single instance', () => {
    const a = [[1], [2], [3]];
    const b = [[4], [2], [3]];
    // 2: 2 + 2 = 4, 3: 1 + 1 = 2, 1 and 4: 3 each (1 first: the earlier list).
    assert.deepEqual(mergeHotKeys([a, b], 3), [[2], [1], [4]]);
  });

  it('does not let a short list weigh more per key than a long one', () => {
    const long = [[1], [2], [3], [4]];
    const short = [[9]];
    // 9 is first on one instance: as heavy as 1, not heavier; 1 wins the tie by the earlier list.
    assert.deepEqual(mergeHotKeys([long, short], 4), [[1], [9], [2], [3]]);
  });

  it('keeps keys of different types apart and bounds the merged list', () => {
    const merged = mergeHotKeys([[[1], ['1'], [1n << 60n]], [[1n << 60n], [Buffer.from([0])], [null]]], 4);
    assert.equal(merged.length, 4);
    assert.deepEqual(merged[0], [1n << 60n]);
    assert.ok(merged.some((k) => k[0] === 1) && merged.some((k) => k[0] === '1'));
  });
});
