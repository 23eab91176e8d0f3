import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/dataflow/graph.js';
import { RecentLog } from '../../src/dataflow/recent-log.js';
import { keyString } from '../../src/dataflow/state.js';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { buildCache, releaseCache } from '../../src/planner/build.js';
import type { TableSchema } from '../../src/planner/schema.js';
import type { Batch } from '../../src/dataflow/batch.js';
import type { Row } from '../../src/dataflow/delta.js';
import type { Aggregate } from '../../src/operators/grouped.js';
import '../support/collations.js';

const schema: TableSchema = {
  database: 'd', table: 't',
  columns: [{ name: 'id', dataType: 'int', scale: 0, collation: null }, { name: 'g', dataType: 'int', scale: 0, collation: null }],
};
const build = (g: Graph, sql: string, id: string) => buildCache(g, planSelect(parseStatement(sql), schema, true), id);
const batch = (position: number, deltas: Array<[1 | -1, Row]>): Batch => ({
  gtid: null, position: { file: 'bin.000001', position }, timestamp: 0,
  changes: [{ database: 'd', table: 't', columns: ['id', 'g'], deltas: deltas.map(([sign, row]) => ({ sign, row })) }],
});

describe('graph', () => {
  it('skips fenced keys for batches at or before the fence and lifts the fence after it', () => {
    const g = new Graph();
    const c = build(g, 'SELECT COUNT(*) FROM t WHERE g = ?', 'c');
    const agg = c.nodes[1] as Aggregate;
    agg.state!.fillFromInput([[1]], [[1, 1]]);
    g.fence(agg, [[1]], { file: 'bin.000001', position: 100 });
    g.applyBatch(batch(90, [[1, [2, 1]]]));
    assert.deepEqual(agg.state!.rows(keyString([1])), [[1, 1]], 'a batch inside the fill is not counted twice');
    g.applyBatch(batch(110, [[1, [3, 1]]]));
    assert.deepEqual(agg.state!.rows(keyString([1])), [[1, 2]]);
  });

  it('lifts an older fill\'s fence from keys filled again with the stream past the new position', () => {
    const g = new Graph();
    const c = build(g, 'SELECT COUNT(*) FROM t WHERE g = ?', 'c');
    const agg = c.nodes[1] as Aggregate;
    agg.state!.fillFromInput([[1]], [[1, 1]]);
    g.fence(agg, [[1]], { file: 'bin.000001', position: 200 });
    // The key goes (by a path that does not pass through the graph) and is filled again at 120,
    // with the stream already at 140: the fence at 200 must not skip the batches after 140.
    agg.state!.evict(keyString([1]));
    agg.state!.fillFromInput([[1]], [[1, 1]]);
    g.fence(agg, [[1]], null);
    g.applyBatch(batch(150, [[1, [2, 1]]]));
    assert.deepEqual(agg.state!.rows(keyString([1])), [[1, 2]]);
  });

  it('replays held batches into one node for the filled keys only', () => {
    const g = new Graph();
    const c = build(g, 'SELECT COUNT(*) FROM t WHERE g = ?', 'c');
    const agg = c.nodes[1] as Aggregate;
    agg.state!.fillFromInput([[1], [2]], []);
    g.replay(agg, [[2]], [batch(10, [[1, [1, 1]], [1, [2, 2]]])]);
    assert.deepEqual(agg.state!.rows(keyString([1])), [[1, 0]]);
    assert.deepEqual(agg.state!.rows(keyString([2])), [[2, 1]]);
  });

  it('carries an eviction from the aggregate down to every reader derived from it', () => {
    const g = new Graph();
    const a = build(g, 'SELECT COUNT(*) FROM t WHERE g = ?', 'a');
    const b = build(g, 'SELECT COUNT(*) AS n FROM t WHERE g = ?', 'b');
    const agg = a.nodes[1] as Aggregate;
    assert.equal(agg, b.nodes[1], 'the aggregate is shared');
    agg.state!.fillFromInput([[1], [2]], []);
    g.fillFromAncestor(a.reader, [[1], [2]]);
    g.fillFromAncestor(b.reader, [[1]]);
    g.evict(agg, [[1]]);
    assert.equal(a.reader.has(keyString([1])), false);
    assert.equal(b.reader.has(keyString([1])), false);
    assert.equal(a.reader.has(keyString([2])), true);
  });

  it('frees nodes only the dropped cache used and keeps shared ones', () => {
    const g = new Graph();
    const a = build(g, 'SELECT COUNT(*) FROM t WHERE g = ?', 'a');
    const b = build(g, 'SELECT id FROM t WHERE g = ?', 'b');
    releaseCache(g, a);
    const left = [...g.nodes()];
    assert.ok(left.includes(b.nodes[0]), 'the shared base table stays');
    assert.ok(!left.includes(a.nodes[1]), 'the aggregate only cache a used is gone');
    releaseCache(g, b);
    assert.equal([...g.nodes()].length, 0);
  });
});

describe('recent log of held batches', () => {
  const at = (position: number) => ({ file: 'bin.000001', position });
  const positions = (bs: ReadonlyArray<Batch> | null) => bs?.map((b) => b.position.position) ?? null;

  it('hands each upquery the batches after its position, those applied while it was out and those just before', () => {
    const log = new RecentLog(100, 4);
    log.keepTail = true;
    log.record(batch(1, []));
    log.record(batch(2, []));
    const t1 = log.begin();
    log.record(batch(3, []));
    const t2 = log.begin();
    log.record(batch(4, []));
    // [note: snapshot-behind-stream] A snapshot can end before a batch the stream applied before
    // the upquery began (2 here): that batch is handed over too.
    assert.deepEqual(positions(log.after(t1, at(1))), [2, 3, 4]);
    assert.deepEqual(positions(log.after(t1, at(3))), [4]);
    assert.deepEqual(positions(log.after(t2, at(2))), [3, 4]);
    assert.equal(log.earlier, 2, 'batches handed over that were applied before their upquery began: 2, then 3');
    log.end(t1);
    log.end(t2);
  });

  it('keeps a bounded tail when no upquery is out, and says when a batch past a position was let go', () => {
    const log = new RecentLog(100, 2);
    log.keepTail = true;
    for (let i = 1; i <= 10; i++) log.record(batch(i, []));
    assert.ok(log.length <= 4, `${log.length} batches held`);
    const t = log.begin();
    // Batches up to 8 at least were let go: a fill at 5 may lack 6–8, which the log cannot give.
    assert.equal(log.after(t, at(5)), null);
    assert.deepEqual(positions(log.after(t, at(10))), []);
    log.record(batch(11, []));
    assert.deepEqual(positions(log.after(t, at(10))), [11]);
    log.end(t);
  });

  it('bounds the tail by row changes too', () => {
    const log = new RecentLog(100, 1_000, 3);
    log.keepTail = true;
    for (let i = 1; i <= 10; i++) log.record(batch(i, [[1, [i, 1]], [1, [i + 100, 1]]]));
    assert.ok(log.length <= 3, `${log.length} batches held`);
  });

  it('bounds the tail by the bytes of its rows, not only by their number', () => {
    // 2,000 transactions that each rewrite one 1 MiB document are 2,000 row changes: far below
    // the row bound, yet 4 GiB of row images (before and after) if the tail kept them all.
    const log = new RecentLog();
    log.keepTail = true;
    const doc = (i: number): string => String(i % 10).repeat(1 << 20);
    for (let i = 1; i <= 40; i++) log.record(batch(i, [[-1, [i, doc(i)]], [1, [i, doc(i + 1)]]]));
    assert.ok(log.bytes <= 2 * log.tailBytes, `${(log.bytes / 1048576).toFixed(0)} MiB of rows held`);
    const t = log.begin();
    assert.equal(log.after(t, at(5)), null, 'a fill behind a batch let go is read again');
    log.end(t);
  });

  it('gives up an upquery whose batches outgrow the byte limit, and lets them go', () => {
    const log = new RecentLog(100_000, 1_000, 50_000, 4 << 20, 1 << 20);
    log.keepTail = true;
    const t = log.begin();
    for (let i = 1; i <= 10; i++) log.record(batch(i, [[1, [i, 'x'.repeat(1 << 20)]]]));
    assert.equal(log.after(t, at(0)), null);
    assert.ok(log.bytes <= 2 << 20, `${log.bytes} bytes held`);
    log.end(t);
  });

  it('forgets every batch when the binlog starts a new numbering', () => {
    const log = new RecentLog(100, 4);
    log.keepTail = true;
    log.record({ ...batch(900, []), position: { file: 'bin.000007', position: 900 } });
    const out = log.begin();
    log.reset();
    assert.equal(log.length, 0);
    assert.equal(log.after(out, at(4)), null, 'an upquery out across the reset is given up');
    const t = log.begin();
    assert.deepEqual(positions(log.after(t, at(4))), [], 'nothing of the old numbering is replayed');
    log.end(t);
  });

  it('keeps no tail before a snapshot fill was seen, and says so to a fill behind a batch it let go', () => {
    const log = new RecentLog(100, 4);
    for (let i = 1; i <= 3; i++) log.record(batch(i, []));
    assert.equal(log.length, 0, 'locking reads need no tail: nothing held, nothing sized');
    const t = log.begin();
    assert.equal(log.after(t, at(2)), null, 'a fill at 2 may lack 3: read it again with locks');
    assert.deepEqual(positions(log.after(t, at(3))), []);
    log.end(t);
  });

  it('gives up an upquery it can no longer cover so the fill is read again', () => {
    const log = new RecentLog(2, 1);
    log.keepTail = true;
    const t = log.begin();
    for (let i = 0; i < 3; i++) log.record(batch(i, []));
    assert.equal(log.after(t, at(0)), null);
    log.end(t);
  });
});
