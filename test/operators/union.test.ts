import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { del, ins, source } from './harness.js';
import { consolidate, rowKey, type Delta, type Row } from '../../src/dataflow/delta.js';
import { Distinct } from '../../src/operators/distinct.js';
import { Union } from '../../src/operators/union.js';
import { keyString } from '../../src/dataflow/state.js';

// Branch rows [title, param]: branch 0 keyed by author (union key column 0), branch 1 by editor
// (union key column 1). Union rows [title, author, editor].
function union(all: boolean): { u: Union; a: Distinct; e: Distinct } {
  const branch = (name: string) => new Distinct(source(['title', name]), { key: [1], fold: ['exact'], rowFold: ['exact', 'exact'], multiset: all });
  const a = branch('author_id');
  const e = branch('editor_id');
  const u = new Union([a, e], {
    all, visible: 1, fold: ['exact', 'exact'], paramNames: ['author_id', 'editor_id'], rowFold: ['exact'],
    branches: [{ key: [1], params: [0] }, { key: [1], params: [1] }],
  });
  return { u, a, e };
}

const canon = (ds: ReadonlyArray<Delta>) => consolidate(ds).map((d) => `${d.sign > 0 ? '+' : '-'}${rowKey(d.row)}`).sort();
const rows = (u: Union, k: Row) => (u.rows(keyString(k)) ?? []).map((r) => rowKey(r)).sort();

describe('union', () => {
  it('fills a key from its branches\' states: the parameters of each branch pick its rows', () => {
    const { u, a, e } = union(true);
    a.fillFromInput([[1]], [['x', 1], ['y', 1]]);
    e.fillFromInput([[2]], [['x', 2]]);
    assert.deepEqual(u.parentKeys([[1, 2]]), [[[1]], [[2]]]);
    u.fillFromParents([[1, 2]]);
    assert.deepEqual(rows(u, [1, 2]), [rowKey(['x', 1, 2]), rowKey(['x', 1, 2]), rowKey(['y', 1, 2])].sort());
  });

  it('UNION ALL passes every occurrence to every key the branch row belongs to', () => {
    const { u, a, e } = union(true);
    a.fillFromInput([[1]], [['x', 1]]);
    e.fillFromInput([[2], [3]], []);
    u.fillFromParents([[1, 2], [1, 3]]);
    assert.deepEqual(canon(u.onBatch(0, [ins('y', 1), ins('z', 5)]).output), canon([ins('y', 1, 2), ins('y', 1, 3)]));
    assert.deepEqual(canon(u.onBatch(1, [ins('x', 2)]).output), canon([ins('x', 1, 2)]));
  });

  it('UNION emits a row on its first occurrence in any branch and retracts it with its last', () => {
    const { u, a, e } = union(false);
    a.fillFromInput([[1]], [['x', 1]]);
    e.fillFromInput([[2]], []);
    u.fillFromParents([[1, 2]]);
    assert.deepEqual(u.onBatch(1, [ins('x', 2)]).output, []);
    assert.deepEqual(u.onBatch(0, [del('x', 1)]).output, []);
    assert.deepEqual(canon(u.onBatch(1, [del('x', 2)]).output), canon([del('x', 1, 2)]));
  });

  it('evicts a key asked to retract a row it never counted [note: evict-not-guess]', () => {
    const { u, a, e } = union(true);
    a.fillFromInput([[1]], []);
    e.fillFromInput([[2]], []);
    u.fillFromParents([[1, 2]]);
    const r = u.onBatch(0, [del('q', 1)]);
    assert.deepEqual(r.evicted, [[1, 2]]);
    assert.equal(u.has(keyString([1, 2])), false);
    assert.deepEqual(u.onBatch(0, [ins('q', 1)]).output, [], 'the evicted key is no longer indexed');
  });

  it('describes itself', () => {
    assert.equal(union(false).u.describe(), '∪[author_id, editor_id] title');
    assert.equal(union(true).a.describe(), 'counted[author_id] title, author_id');
  });
});
