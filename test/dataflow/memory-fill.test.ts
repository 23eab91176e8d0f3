/**
 * [note: memory-fill] A reader's missing key is filled at once, with no upquery, when the states
 * above hold or know it — here an aggregate filled whole ([note: complete-state]), with and
 * without GROUP BY (without, a key with no rows answers one row: COUNT 0, SUM NULL) — and is then
 * kept exact by the stream like any key. Never while a fill is ahead of the stream. The upstream is
 * a stand-in (the real server: test/e2e/memory-fill.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/dataflow/graph.js';
import { Upqueries, type SnapshotReader, type SnapshotResult } from '../../src/dataflow/upquery.js';
import { keyString } from '../../src/dataflow/state.js';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { buildCache } from '../../src/planner/build.js';
import type { Row } from '../../src/dataflow/delta.js';
import type { InputNode } from '../../src/dataflow/operator.js';
import type { Batch } from '../../src/dataflow/batch.js';
import '../support/collations.js';
import { at, batch, LIMIT, schema } from '../support/table-t.js';


/** A graph with one cache of `sql`, and an upstream whose reads the test answers. */
function setup(sql: string) {
  const g = new Graph();
  const c = buildCache(g, planSelect(parseStatement(sql), schema, true), 'c');
  g.retain(c.reader);
  const asked: string[] = [];
  let keyFill: SnapshotResult = { rows: [], position: at(1) };
  const upstream: SnapshotReader = {
    snapshotQuery: async (q) => { asked.push(q); return keyFill; },
    wholeSnapshot: async (q) => { asked.push(q); return { rows: wholeRows, position: at(10) }; },
  };
  let wholeRows: ReadonlyArray<Row> = [];
  const upq = new Upqueries(g, upstream);
  const apply = (b: Batch): void => { g.applyBatch(b); upq.observe(b); };
  const aggregate = c.nodes.find((n) => n.kind === 'aggregate') as InputNode;
  const fillWhole = async (rows: ReadonlyArray<Row>): Promise<void> => {
    wholeRows = rows;
    assert.equal(await upq.fillWhole(aggregate, LIMIT, () => true), 'complete');
  };
  const answer = (k: number): ReadonlyArray<Row> | undefined => c.reader.rows(keyString([k]));
  const answerKeyFill = (r: SnapshotResult): void => { keyFill = r; };
  return { reader: c.reader, aggregate, upq, apply, asked, fillWhole, answer, answerKeyFill };
}

describe('memory fill', () => {
  it('answers a COUNT(*) without GROUP BY for a key with no rows as 0, then keeps it exact', async () => {
    const { reader, aggregate, upq, apply, asked, fillWhole, answer } = setup('SELECT COUNT(*) FROM t WHERE g = ?');
    apply(batch(10, []));
    await fillWhole([[7, 2, 2], [8, 1, 1]]);
    assert.equal(aggregate.state.complete, true);
    assert.match(asked[0], /GROUP BY/);
    assert.equal(upq.fillFromMemory(reader, [[7], [9]]), true);
    assert.equal(asked.length, 1, 'no upquery');
    assert.deepEqual(answer(7)?.map((r) => r[0]), [2]);
    assert.deepEqual(answer(9)?.map((r) => r[0]), [0], 'a key with no rows counts 0');
    apply(batch(20, [[1, [1, 9]]]));
    assert.deepEqual(answer(9)?.map((r) => r[0]), [1], 'its first row retracts the row of none');
    apply(batch(30, [[1, [2, 9]], [-1, [1, 9]]]));
    assert.deepEqual(answer(9)?.map((r) => r[0]), [1]);
    apply(batch(40, [[-1, [2, 9]]]));
    assert.deepEqual(answer(9)?.map((r) => r[0]), [0]);
    // A key created by the stream before any read of it.
    apply(batch(50, [[1, [3, 5]]]));
    assert.equal(upq.fillFromMemory(reader, [[5]]), true);
    assert.deepEqual(answer(5)?.map((r) => r[0]), [1]);
    assert.equal(asked.length, 1);
  });

  it('answers SUM and MIN without GROUP BY for a key with no rows as NULL', async () => {
    const { reader, upq, apply, fillWhole, answer } = setup('SELECT SUM(id), MIN(id), COUNT(id) FROM t WHERE g = ?');
    apply(batch(10, []));
    await fillWhole([]);
    assert.equal(upq.fillFromMemory(reader, [[9]]), true);
    const row = answer(9)?.[0];
    assert.ok(row !== undefined);
    assert.deepEqual(row.slice(0, 3), [null, null, 0]);
    apply(batch(20, [[1, [4, 9]]]));
    assert.deepEqual(answer(9)?.[0]?.slice(0, 3).map((v) => (v === null ? null : Number(v))), [4, 4, 1]);
  });

  it('answers a grouped key with no rows as empty', async () => {
    const { reader, upq, apply, fillWhole, answer } = setup('SELECT g, COUNT(*) FROM t WHERE g = ? GROUP BY g');
    apply(batch(10, []));
    await fillWhole([[7, 2, 2]]);
    assert.equal(upq.fillFromMemory(reader, [[9]]), true);
    assert.deepEqual(answer(9), []);
    apply(batch(20, [[1, [1, 9]]]));
    assert.deepEqual(answer(9)?.map((r) => r[1]), [1]);
  });

  it('does nothing when a key must be read from MySQL', () => {
    const { reader, upq, apply, asked, answer } = setup('SELECT COUNT(*) FROM t WHERE g = ?');
    apply(batch(10, []));
    assert.equal(upq.fillFromMemory(reader, [[9]]), false);
    assert.equal(answer(9), undefined);
    assert.equal(asked.length, 0);
  });

  it('does nothing while a fill is ahead of the stream', async () => {
    const { reader, aggregate, upq, apply, asked, fillWhole, answer, answerKeyFill } = setup('SELECT COUNT(*) FROM t WHERE g = ?');
    apply(batch(10, []));
    await fillWhole([[7, 2, 2], [8, 1, 1]]);
    // The state made partial, a key filled from MySQL read at 60, past the stream's 10.
    assert.equal(aggregate.state.evict(keyString([7])), true);
    answerKeyFill({ rows: [], position: at(60) });
    await upq.request(reader, [[3]]);
    assert.equal(asked.length, 2);
    assert.equal(upq.aheadOfStream(), true);
    assert.equal(upq.fillFromMemory(reader, [[8]]), false, 'the aggregate holds 8, but filled at 10, not 60');
    assert.equal(answer(8), undefined);
    apply(batch(60, []));
    assert.equal(upq.fillFromMemory(reader, [[8]]), true);
    assert.deepEqual(answer(8)?.map((r) => r[0]), [1]);
    assert.equal(upq.fillFromMemory(reader, [[9]]), false, 'partial again: a key it does not hold is a hole');
  });

  it('does nothing while fills were installed before the stream applied anything', async () => {
    const { reader, upq, apply, answer, answerKeyFill } = setup('SELECT COUNT(*) FROM t WHERE g = ?');
    answerKeyFill({ rows: [[3, 1, 1]], position: at(40) });
    await upq.request(reader, [[3]]);
    assert.equal(reader.state.evict(keyString([3])), true);
    assert.equal(upq.fillFromMemory(reader, [[3]]), false, 'the aggregate holds 3, read at 40; the stream is nowhere yet');
    apply(batch(40, []));
    assert.equal(upq.fillFromMemory(reader, [[3]]), true);
    assert.deepEqual(answer(3)?.map((r) => r[0]), [1]);
  });
});
