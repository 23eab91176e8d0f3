/**
 * [note: complete-state] A reader filled whole: a key not held is empty, deltas create keys, every
 * batch counts once whether applied before, during or after the whole read, and any eviction makes
 * the state partial again. The upstream is a stand-in returning rows at a chosen position (the
 * real server: test/e2e/complete-caches.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/dataflow/graph.js';
import { Upqueries, type SnapshotReader, type SnapshotResult } from '../../src/dataflow/upquery.js';
import { keyString } from '../../src/dataflow/state.js';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { buildCache } from '../../src/planner/build.js';
import type { InputNode } from '../../src/dataflow/operator.js';
import type { Batch } from '../../src/dataflow/batch.js';
import '../support/collations.js';
import { at, batch, LIMIT, schema } from '../support/table-t.js';


/** A graph with one cache `SELECT id FROM t WHERE g = ?`, and an upstream whose whole read the test answers. */
function setup(opts: { whole?: boolean } = {}) {
  const g = new Graph();
  const c = buildCache(g, planSelect(parseStatement('SELECT id FROM t WHERE g = ?'), schema, true), 'c');
  g.retain(c.reader);
  const asked: string[] = [];
  let answer: ((r: SnapshotResult | null) => void) | null = null;
  const upstream: SnapshotReader = {
    snapshotQuery: async (sql) => { asked.push(sql); return { rows: [], position: at(1) }; },
    ...(opts.whole === false ? {} : {
      wholeSnapshot: (sql: string) => { asked.push(sql); return new Promise<SnapshotResult | null>((r) => { answer = r; }); },
    }),
  };
  const upq = new Upqueries(g, upstream);
  const apply = (b: Batch): void => { g.applyBatch(b); upq.observe(b); };
  const reply = async (r: SnapshotResult | null): Promise<void> => {
    while (answer === null) await new Promise((res) => setImmediate(res));
    const a = answer as (r: SnapshotResult | null) => void;
    answer = null;
    a(r);
  };
  const ids = (k: number): number[] | undefined => c.reader.rows(keyString([k]))?.map((r) => r[0] as number).sort((x, y) => x - y);
  return { g, reader: c.reader, upq, apply, reply, asked, ids };
}

describe('complete state', () => {
  it('answers a key it does not hold as empty, with no upquery, and creates keys from deltas', async () => {
    const { reader, upq, apply, reply, asked, ids } = setup();
    apply(batch(10, []));
    const filling = upq.fillWhole(reader, LIMIT, () => true);
    await reply({ rows: [[1, 7], [2, 7], [3, 8]], position: at(10) });
    assert.equal(await filling, 'complete');
    assert.equal(reader.complete, true);
    assert.match(asked[0], /^SELECT .* FROM .*t.* LIMIT 1001$/);
    assert.deepEqual(ids(7), [1, 2]);
    assert.deepEqual(ids(9), [], 'a key the table does not hold is empty');
    assert.equal(reader.has(keyString([9])), false, 'and not made present by reading it');
    assert.deepEqual(reader.answer(keyString([9])), []);
    await upq.request(reader, [[9]]);
    assert.equal(asked.length, 1, 'no upquery for a key of a complete state');
    apply(batch(20, [[1, [4, 9]], [1, [5, 7]]]));
    assert.deepEqual(ids(9), [4], 'a delta for a key not held creates it');
    assert.deepEqual(ids(7), [1, 2, 5]);
    apply(batch(30, [[-1, [4, 9]]]));
    assert.deepEqual(ids(9), []);
    assert.equal(reader.complete, true);
  });

  it('counts every batch once: applied before, during and after the whole read', async () => {
    const { reader, upq, apply, reply, ids } = setup();
    apply(batch(10, [[1, [1, 7]]]));
    const filling = upq.fillWhole(reader, LIMIT, () => true);
    // Applied while the read is out: one inside the snapshot (at 20 <= 25), one past it.
    apply(batch(20, [[1, [2, 7]]]));
    apply(batch(30, [[1, [3, 7]], [1, [4, 8]]]));
    await reply({ rows: [[1, 7], [2, 7]], position: at(25) });
    assert.equal(await filling, 'complete');
    assert.deepEqual(ids(7), [1, 2, 3]);
    assert.deepEqual(ids(8), [4], 'a key created by a replayed batch');
    apply(batch(40, [[1, [5, 7]]]));
    assert.deepEqual(ids(7), [1, 2, 3, 5]);
  });

  it('waits for the stream to reach the snapshot before installing, so no batch inside it counts twice', async () => {
    const { reader, upq, apply, reply, ids } = setup();
    apply(batch(10, []));
    const filling = upq.fillWhole(reader, LIMIT, () => true);
    await reply({ rows: [[1, 7], [2, 7]], position: at(25) });
    await new Promise((r) => setImmediate(r));
    assert.equal(reader.complete, false, 'not installed while the stream is behind the snapshot');
    apply(batch(20, [[1, [2, 7]]]));
    apply(batch(30, [[1, [3, 7]]]));
    assert.equal(await filling, 'complete');
    assert.deepEqual(ids(7), [1, 2, 3]);
  });

  it('gives up when the stream does not reach the snapshot in time', async () => {
    const { reader, upq, apply, reply } = setup();
    apply(batch(10, []));
    const filling = upq.fillWhole(reader, LIMIT, () => true, 20);
    await reply({ rows: [[1, 7]], position: at(25) });
    assert.equal(await filling, 'later');
    assert.equal(reader.complete, false);
    assert.equal(reader.size, 0);
  });

  it('is partial again after any eviction: a key not held is a hole', async () => {
    const { g, reader, upq, apply, reply, ids } = setup();
    apply(batch(10, []));
    const filling = upq.fillWhole(reader, LIMIT, () => true);
    await reply({ rows: [[1, 7], [2, 8]], position: at(10) });
    assert.equal(await filling, 'complete');
    g.evict(reader, [[8]]);
    assert.equal(reader.complete, false);
    assert.equal(ids(9), undefined);
    assert.deepEqual(ids(7), [1], 'what is held stays');
    apply(batch(20, [[1, [3, 9]], [1, [4, 7]]]));
    assert.equal(ids(9), undefined, 'a delta for a missing key is dropped again');
    assert.deepEqual(ids(7), [1, 4]);
  });

  it('takes everything below it along as it turns partial: keys there came from keys it did not hold', async () => {
    const g = new Graph();
    const c = buildCache(g, planSelect(parseStatement('SELECT g, MIN(id) FROM t WHERE g = ? GROUP BY g'), schema, true), 'c');
    g.retain(c.reader);
    const agg = c.nodes.find((n) => n.kind === 'aggregate') as InputNode;
    // The aggregate upquery's rows: g, COUNT(*), then MIN's state (MIN(id), COUNT(id)).
    const upq = new Upqueries(g, {
      snapshotQuery: async () => ({ rows: [], position: at(10) }),
      wholeSnapshot: async () => ({ rows: [[7, 2, 1, 2], [8, 1, 3, 1]], position: at(10) }),
    });
    const apply = (b: Batch): void => { g.applyBatch(b); upq.observe(b); };
    apply(batch(10, []));
    assert.equal(await upq.fillWhole(agg, LIMIT, () => true), 'complete');
    await upq.request(c.reader, [[9]]);
    assert.deepEqual(c.reader.rows(keyString([9])), [], 'a reader key filled from a key the aggregate does not hold');
    g.evict(agg, [[5]]);
    assert.equal(agg.state.complete, true, 'evicting a key it does not hold changes nothing');
    assert.equal(c.reader.has(keyString([9])), true);
    // Deleting group 7's minimum: the aggregate evicts the group, and is partial again.
    apply(batch(20, [[-1, [1, 7]]]));
    assert.equal(agg.state.complete, false);
    assert.equal(c.reader.has(keyString([9])), false, 'the reader key it did not hold went with it');
    apply(batch(30, [[1, [4, 9]]]));
    await upq.request(c.reader, [[9]]);
    assert.deepEqual(c.reader.rows(keyString([9]))?.map((r) => r.slice(0, 2)), [[9, 4]], 'filled again, with the row written since');
  });

  it('drops completeness when a delta retracts a row it never held', async () => {
    const { reader, upq, apply, reply, ids } = setup();
    apply(batch(10, []));
    const filling = upq.fillWhole(reader, LIMIT, () => true);
    await reply({ rows: [[1, 7]], position: at(10) });
    assert.equal(await filling, 'complete');
    apply(batch(20, [[-1, [5, 9]]]));
    assert.equal(reader.complete, false);
    assert.equal(ids(9), undefined);
    assert.deepEqual(ids(7), [1]);
  });

  it('stays partial when the input has more rows than allowed, or the upstream has no snapshot positions', async () => {
    const a = setup();
    a.apply(batch(10, []));
    const filling = a.upq.fillWhole(a.reader, { rows: 1, bytes: 1 << 30 }, () => true);
    await a.reply({ rows: [[1, 7], [2, 7]], position: at(10) });
    assert.equal(await filling, 'too-large');
    assert.equal(a.reader.complete, false);
    const bytes = a.upq.fillWhole(a.reader, { rows: 10, bytes: 10 }, () => true);
    await a.reply({ rows: [[1, 7]], position: at(10) });
    assert.equal(await bytes, 'too-large');
    const none = a.upq.fillWhole(a.reader, LIMIT, () => true);
    await a.reply(null);
    assert.equal(await none, 'unsupported');
    const b = setup({ whole: false });
    assert.equal(await b.upq.fillWhole(b.reader, LIMIT, () => true), 'unsupported');
  });

  it('installs nothing when the cache went away or was invalidated meanwhile', async () => {
    const { reader, upq, apply, reply } = setup();
    apply(batch(10, []));
    let wanted = true;
    const filling = upq.fillWhole(reader, LIMIT, () => wanted);
    wanted = false;
    await reply({ rows: [[1, 7]], position: at(10) });
    assert.equal(await filling, 'later');
    assert.equal(reader.size, 0);
    const again = upq.fillWhole(reader, LIMIT, () => true);
    upq.invalidate();
    await reply({ rows: [[1, 7]], position: at(10) });
    assert.equal(await again, 'later');
    assert.equal(reader.complete, false);
  });
});
