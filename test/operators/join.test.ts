import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, del, ins, source } from './harness.js';
import { Join, type JoinKind } from '../../src/operators/join.js';
import { KeyedRows } from '../../src/operators/keyed-rows.js';
import { Aggregate } from '../../src/operators/grouped.js';
import { countColumn } from '../../src/operators/aggregate.js';
import type { AggregateRule } from '../../src/operators/grouped.js';
import type { Row } from '../../src/dataflow/delta.js';
import type { BatchContext } from '../../src/dataflow/operator.js';
import { rowKey } from '../../src/dataflow/delta.js';

// story(id, title, author_id) keyed by id with an index by author_id; user(id, name) keyed by id.
function storyUser(kind: JoinKind = 'inner'): { join: Join; story: KeyedRows; user: KeyedRows } {
  const story = new KeyedRows(source(['id', 'title', 'author_id']), { key: [0], fold: ['exact'], index: [2], indexFold: ['exact'] });
  const user = new KeyedRows(source(['id', 'name']), { key: [0], fold: ['exact'], index: null, indexFold: [] });
  const join = new Join(story, user, { kind, on: [[2, 0]], fold: ['exact'], picks: [[0, 1, 2], [0, 1]] });
  return { join, story, user };
}

// article(id, title) keyed by id; γ[article_id] COUNT(user_id) over vote(article_id, user_id).
function articleVotes(): { join: Join; article: KeyedRows; votes: Aggregate } {
  const article = new KeyedRows(source(['id', 'title']), { key: [0], fold: ['exact'], index: null, indexFold: [] });
  const votes = new Aggregate(source(['article_id', 'user_id']), {
    groupBy: [0], keyCount: 1, scalar: false, rules: [countColumn(1, 'user_id') as AggregateRule], fold: ['exact'],
  });
  const join = new Join(article, votes, { kind: 'left', on: [[0, 0]], fold: ['exact'], picks: [[0, 1], [0, 1]] });
  return { join, article, votes };
}

const batch = (): BatchContext => ({ position: null });
const keys = (rows: ReadonlyArray<Row>) => rows.map((r) => rowKey(r)).sort();

describe('join', () => {
  it('joins a left delta with the right rows of its join value', () => {
    const { join, story, user } = storyUser();
    story.fillFromInput([[1]], [[1, 's1', 10]]);
    user.fillFromInput([[10], [11]], [[10, 'ann'], [11, 'bob']]);
    const h = new Harness(join);
    h.expect([del(1, 's1', 10), ins(1, 's1', 11)], [del(1, 's1', 10, 10, 'ann'), ins(1, 's1', 11, 11, 'bob')]);
  });

  it('joins a right delta with the present left rows found through the index', () => {
    const { join, story, user } = storyUser();
    story.fillFromInput([[1], [2]], [[1, 's1', 10], [2, 's2', 10]]);
    user.fillFromInput([[10]], [[10, 'ann']]);
    user.onBatch(0, [del(10, 'ann'), ins(10, 'ann2')]);
    const h = new Harness(join);
    h.expect([del(10, 'ann'), ins(10, 'ann2')], [
      del(1, 's1', 10, 10, 'ann'), del(2, 's2', 10, 10, 'ann'), ins(1, 's1', 10, 10, 'ann2'), ins(2, 's2', 10, 10, 'ann2'),
    ], { from: 1 });
  });

  it('extends with NULLs while the right side is empty, and swaps them as it fills and empties', () => {
    const { join, article, votes } = articleVotes();
    article.fillFromInput([[1]], [[1, 'one']]);
    votes.fillFromInput([[1]], []);
    const h = new Harness(join);
    h.expect([ins(1, 'one')], [ins(1, 'one', null, null)]);
    const out1 = votes.onBatch(0, [ins(1, 7)]).output;
    h.expect([...out1], [del(1, 'one', null, null), ins(1, 'one', 1, 1)], { from: 1 });
    const out2 = votes.onBatch(0, [ins(1, 8)]).output;
    h.expect([...out2], [del(1, 'one', 1, 1), ins(1, 'one', 1, 2)], { from: 1 });
    const out3 = votes.onBatch(0, [del(1, 7), del(1, 8)]).output;
    h.expect([...out3], [del(1, 'one', 1, 2), ins(1, 'one', null, null)], { from: 1 });
  });

  it('counts a batch that changes both sides of one join value once', () => {
    const { join, story, user } = storyUser('left');
    story.fillFromInput([[1]], []);
    user.fillFromInput([[10]], []);
    // Both parents apply the batch before the join sees it (topological order).
    story.onBatch(0, [ins(1, 's1', 10)]);
    user.onBatch(0, [ins(10, 'ann')]);
    const h = new Harness(join);
    const ctx = batch();
    const a = join.onBatch(0, [ins(1, 's1', 10)], ctx);
    const b = join.onBatch(1, [ins(10, 'ann')], ctx);
    const net = new Map<string, number>();
    for (const d of [...a.output, ...b.output]) net.set(rowKey(d.row), (net.get(rowKey(d.row)) ?? 0) + d.sign);
    assert.deepEqual([...net].filter(([, n]) => n !== 0), [[rowKey([1, 's1', 10, 10, 'ann']), 1]]);
    // The other arrival order gives the same net change.
    const { join: j2, story: s2, user: u2 } = storyUser('left');
    s2.fillFromInput([[1]], [[1, 's1', 10]]);
    u2.fillFromInput([[10]], [[10, 'ann']]);
    const ctx2 = batch();
    const c = j2.onBatch(1, [ins(10, 'ann')], ctx2);
    const d = j2.onBatch(0, [ins(1, 's1', 10)], ctx2);
    const net2 = new Map<string, number>();
    for (const x of [...c.output, ...d.output]) net2.set(rowKey(x.row), (net2.get(rowKey(x.row)) ?? 0) + x.sign);
    assert.deepEqual([...net2].filter(([, n]) => n !== 0), [[rowKey([1, 's1', 10, 10, 'ann']), 1]]);
    assert.ok(h);
  });

  it('ignores a row inserted and deleted within the batch when joining the other side', () => {
    const { join, story, user } = storyUser();
    story.fillFromInput([[1]], []);
    user.fillFromInput([[10]], []);
    story.onBatch(0, [ins(1, 's1', 10), del(1, 's1', 10)]);
    user.onBatch(0, [ins(10, 'ann')]);
    const ctx = batch();
    const h = new Harness(join);
    h.expect([ins(1, 's1', 10), del(1, 's1', 10)], [], { ctx });
    h.expect([ins(10, 'ann')], [], { from: 1, ctx });
  });

  it('evicts below instead of guessing when the other side is missing the join value', () => {
    const { join, story, user } = storyUser();
    story.fillFromInput([[1]], [[1, 's1', 10]]);
    user.fillFromInput([[10]], [[10, 'ann']]);
    const r = new Harness(join).expect([del(1, 's1', 10), ins(1, 's1', 12)], [del(1, 's1', 10, 10, 'ann')]);
    assert.deepEqual(r.evictBelow?.map((e) => e.columns), [[0, 1, 2]]);
    assert.deepEqual(keys(r.evictBelow?.[0].keys ?? []), keys([[1, 's1', 12]]));
    const { join: j2, votes } = articleVotes();
    votes.fillFromInput([[5]], []);
    const r2 = new Harness(j2).expect([ins(5, 1)], [], { from: 1 });
    assert.deepEqual(r2.evictBelow, [{ columns: [0], keys: [[5]] }]);
  });

  it('traces an evicted right key to the left rows joined with it', () => {
    const { join, story, user } = storyUser();
    story.fillFromInput([[1], [2], [3]], [[1, 's1', 10], [2, 's2', 11], [3, 's3', 10]]);
    user.fillFromInput([[10], [11]], [[10, 'ann'], [11, 'bob']]);
    const t = join.traceEviction(1, [0], [[10]]);
    assert.deepEqual(t?.columns, [0, 1, 2]);
    assert.deepEqual(keys(t?.keys ?? []), keys([[1, 's1', 10], [3, 's3', 10]]));
    assert.equal(join.traceEviction(0, [0], [[1]]), null);
    assert.equal(join.describe(), '⋈[author_id = id]');
  });

  it('never matches NULL join values, and keeps NULL-extended left rows for them', () => {
    const { join, story, user } = storyUser('left');
    story.fillFromInput([[1]], []);
    user.fillFromInput([[10]], [[10, 'ann']]);
    new Harness(join).expect([ins(1, 's1', null)], [ins(1, 's1', null, null, null)]);
  });
});

describe('keyed rows', () => {
  it('keeps rows of present keys, drops the rest, and indexes present rows by its second columns', () => {
    const k = new KeyedRows(source(['id', 'title', 'author_id']), { key: [0], fold: ['exact'], index: [2], indexFold: ['exact'] });
    k.fillFromInput([[1], [2]], [[1, 'a', 10], [2, 'b', 10], [3, 'c', 10]]);
    const h = new Harness(k);
    h.expect([ins(3, 'c', 10), del(2, 'b', 10), ins(2, 'b', 11)], [del(2, 'b', 10), ins(2, 'b', 11)]);
    assert.deepEqual(keys(k.lookup([10])), keys([[1, 'a', 10]]));
    assert.deepEqual(keys(k.lookup([11])), keys([[2, 'b', 11]]));
    k.evict('n2');
    assert.deepEqual(k.lookup([11]), []);
    h.expect([del(1, 'x', 10)], [], { evicted: [[1]] });
    assert.deepEqual(k.lookup([10]), []);
    assert.match(k.fillQuery([[1], [2]]).sql, /WHERE \(`id` IN \(1, 2\)\)/);
  });
});
