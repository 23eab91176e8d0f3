/**
 * A fill from MySQL that lands on keys its state answers already — filled whole while the upquery
 * was out ([note: complete-state]), and read below since, from memory ([note: memory-fill]) — must
 * not replace them: a key replaced by rows read past the stream is fenced there, and what was
 * computed below from the key it replaced would never see the batches in between. The upstream is
 * a stand-in whose reads the test answers.
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
import { joinTables, planJoin } from '../../src/planner/join.js';
import type { TableSchema } from '../../src/planner/schema.js';
import type { Row } from '../../src/dataflow/delta.js';
import '../support/collations.js';
import { at, batch, LIMIT, schema } from '../support/table-t.js';

const int = (name: string) => ({ name, dataType: 'int', scale: 0, collation: null });
const JOIN_SCHEMAS: Record<string, TableSchema> = {
  s: { database: 'd', table: 's', columns: [int('id'), int('a'), int('v')] },
  u: { database: 'd', table: 'u', columns: [int('id'), int('k'), int('w')] },
};
const joinBatch = (position: number, table: 's' | 'u', deltas: Array<[1 | -1, Row]>): Batch => ({
  gtid: null, position: at(position), timestamp: 0,
  changes: [{ database: 'd', table, columns: table === 's' ? ['id', 'a', 'v'] : ['id', 'k', 'w'], deltas: deltas.map(([sign, row]) => ({ sign, row })) }],
});

/** Caches of `sqls` sharing their nodes, and an upstream whose key reads wait for the test to answer them. */
function setup(sqls: ReadonlyArray<string>) {
  const g = new Graph();
  const caches = sqls.map((sql, i) => {
    const c = buildCache(g, planSelect(parseStatement(sql), schema, true), `c${i}`);
    g.retain(c.reader);
    return c;
  });
  const pending: Array<(r: SnapshotResult) => void> = [];
  let wholeRows: ReadonlyArray<Row> = [];
  const upstream: SnapshotReader = {
    snapshotQuery: () => new Promise<SnapshotResult>((r) => { pending.push(r); }),
    wholeSnapshot: async () => ({ rows: wholeRows, position: at(10) }),
  };
  const upq = new Upqueries(g, upstream);
  const apply = (b: Batch): void => { g.applyBatch(b); upq.observe(b); };
  /** Answers the oldest key read still out. */
  const reply = async (r: SnapshotResult): Promise<void> => {
    while (pending.length === 0) await new Promise((res) => setImmediate(res));
    (pending.shift() as (r: SnapshotResult) => void)(r);
  };
  const fillWhole = async (node: InputNode, rows: ReadonlyArray<Row>): Promise<void> => {
    wholeRows = rows;
    assert.equal(await upq.fillWhole(node, LIMIT, () => true), 'complete');
  };
  return { g, caches, upq, apply, reply, fillWhole };
}

describe('a fill landing on keys already answered', () => {
  it('leaves a key of a state filled whole meanwhile as the stream keeps it, and what was read below it follows the stream', async () => {
    const { caches: [a, b], upq, apply, reply, fillWhole } = setup(['SELECT COUNT(*) FROM t WHERE g = ?', 'SELECT COUNT(*) AS n FROM t WHERE g = ?']);
    const aggregate = a.nodes.find((n) => n.kind === 'aggregate') as InputNode;
    assert.equal(b.nodes.find((n) => n.kind === 'aggregate'), aggregate, 'the caches share their aggregate');
    apply(batch(10, []));
    // A read of g = 9 through the first cache asks MySQL; while it is out the aggregate is filled whole.
    const asking = upq.request(a.reader, [[9]]);
    await new Promise((res) => setImmediate(res));
    await fillWhole(aggregate, []);
    assert.equal(aggregate.state.complete, true);
    // The second cache's first read of 9 is computed from the complete aggregate: 0, at 10.
    assert.equal(upq.fillFromMemory(b.reader, [[9]]), true);
    assert.deepEqual(b.reader.rows(keyString([9]))?.map((r) => Number(r[0])), [0]);
    // The key read lands, read at 20, past the stream: a row of g = 9 was written at 20.
    await reply({ rows: [[9, 1, 1]], position: at(20) });
    await asking;
    apply(batch(20, [[1, [1, 9]]]));
    for (const c of [a, b]) assert.deepEqual(c.reader.rows(keyString([9]))?.map((r) => Number(r[0])), [1], c.reader.describe());
    apply(batch(30, [[1, [2, 9]]]));
    for (const c of [a, b]) assert.deepEqual(c.reader.rows(keyString([9]))?.map((r) => Number(r[0])), [2], c.reader.describe());
  });

  it('through a join: a key computed from a side filled whole follows the stream after a side key read lands on it', async () => {
    const g = new Graph();
    const ast = parseStatement('SELECT s.id, u.w FROM s JOIN u ON u.k = s.a WHERE s.id = ?');
    const c = buildCache(g, planJoin(ast, joinTables(ast).map((t) => JOIN_SCHEMAS[t.table]), true), 'c');
    g.retain(c.reader);
    const [sSide, uSide] = c.nodes.filter((n) => n.kind === 'keyed-rows') as InputNode[];
    const pending: Array<(r: SnapshotResult) => void> = [];
    let wholeRows: SnapshotResult['rows'] = [];
    const upq = new Upqueries(g, {
      snapshotQuery: () => new Promise<SnapshotResult>((r) => { pending.push(r); }),
      wholeSnapshot: async () => ({ rows: wholeRows, position: at(10) }),
    });
    const apply = (b: Batch): void => { g.applyBatch(b); upq.observe(b); };
    const whole = async (n: InputNode, rows: SnapshotResult['rows']): Promise<void> => {
      wholeRows = rows;
      assert.equal(await upq.fillWhole(n, LIMIT, () => true), 'complete');
    };
    apply(joinBatch(10, 's', []));
    await whole(sSide, [[1, 5, 0]]);
    // A read of s.id = 1 needs u's rows of k = 5, asked from MySQL; u is filled whole meanwhile.
    const asking = upq.request(c.reader, [[1]]);
    while (pending.length === 0) await new Promise((res) => setImmediate(res));
    await whole(uSide, [[7, 5, 3]]);
    assert.equal(upq.fillFromMemory(c.reader, [[1]]), true);
    assert.deepEqual(c.reader.rows(keyString([1])), [[1, 3, 1]]);
    // u's key read lands, read at 20, past the stream: the row (8, 5, 4) was written at 20.
    (pending.shift() as (r: SnapshotResult) => void)({ rows: [[7, 5, 3], [8, 5, 4]], position: at(20) });
    await asking;
    apply(joinBatch(20, 'u', [[1, [8, 5, 4]]]));
    assert.deepEqual(c.reader.rows(keyString([1]))?.map((r) => r[1]).sort(), [3, 4]);
    apply(joinBatch(30, 'u', [[-1, [7, 5, 3]]]));
    assert.deepEqual(c.reader.rows(keyString([1]))?.map((r) => r[1]), [4]);
  });
});
