import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/dataflow/graph.js';
import { Upqueries, type SnapshotReader, type SnapshotResult } from '../../src/dataflow/upquery.js';
import { keyString } from '../../src/dataflow/state.js';
import type { Row } from '../../src/dataflow/delta.js';
import type { Batch } from '../../src/dataflow/batch.js';
import { QueryAnswer } from '../../src/operators/query-answer.js';
import { BaseTable } from '../../src/operators/base-table.js';
import { Reader } from '../../src/operators/reader.js';
import { binaryOrder } from '../../src/operators/extremum.js';
import { Harness, source, ins, del } from './harness.js';
import { collationNamed } from '../../src/dataflow/collation.js';
import '../support/collations.js';

// Table rows: [id, k, name, qty]; the statement `SELECT id, qty * 2 AS d FROM t WHERE k = ? ORDER BY d`.
const spec = { template: ['SELECT id, qty * 2 AS d FROM `d`.`t` WHERE k = ', ' ORDER BY d'], keyColumns: [1], fold: ['exact' as const], names: ['id', 'd'], settings: [] };

describe('the answer node ([note: answer-refill])', () => {
  it('holds MariaDB\'s rows for a key, with the key and their position in the answer', () => {
    const a = new QueryAnswer(source(['id', 'k', 'name', 'qty']), spec);
    const q = a.fillQuery([[7]]);
    assert.equal(q.sql, 'SELECT id, qty * 2 AS d FROM `d`.`t` WHERE k = 7 ORDER BY d');
    q.install([[2, 4], [1, 10]]);
    assert.deepEqual(a.rows(keyString([7])), [[2, 4, 7, 0], [1, 10, 7, 1]]);
    a.fillQuery([[8]]).install([]);
    assert.deepEqual(a.rows(keyString([8])), []);
  });

  it('evicts a key when a row of it changes, before or after the change, and nothing else', () => {
    const a = new QueryAnswer(source(['id', 'k', 'name', 'qty']), spec);
    for (const k of [1, 2, 3]) a.fillQuery([[k]]).install([[k, k]]);
    const h = new Harness(a);
    h.expect([ins(9, 5, 'x', 1)], []);
    h.expect([ins(9, 1, 'x', 1)], [], { evicted: [[1]] });
    // An UPDATE moving a row from key 2 to key 3 changes both answers.
    h.expect([del(4, 2, 'x', 1), ins(4, 3, 'x', 1)], [], { evicted: [[2], [3]] });
    assert.equal(a.size, 0);
  });

  it('folds keys under the parameter column\'s collation: a change to \'BOB\' evicts the key \'bob\'', () => {
    const ci = collationNamed('utf8mb4_general_ci');
    assert.ok(ci !== undefined && !('refused' in ci));
    const a = new QueryAnswer(source(['id', 'k', 'name', 'qty']), { ...spec, keyColumns: [2], fold: [ci as never] });
    a.fillQuery([['bob']]).install([[1, 2]]);
    new Harness(a).expect([ins(9, 1, 'BOB', 1)], [], { evicted: [['bob']] });
  });

  it('is never filled from input rows: its rows are MariaDB\'s answer', () => {
    assert.throws(() => new Harness(new QueryAnswer(source(['id', 'k', 'name', 'qty']), spec)).seed([[1]], []), /fills only from the statement's own upquery/);
  });
});

/** A snapshot reader answering from a table of rows per SQL text, recording what it was asked. */
class Fake implements SnapshotReader {
  readonly asked: string[] = [];
  constructor(readonly answers: (sql: string) => Row[]) {}
  snapshotQuery(sql: string): Promise<SnapshotResult> {
    this.asked.push(sql);
    return Promise.resolve({ rows: this.answers(sql), position: { file: 'b.000001', position: 100 } });
  }
}

const batch = (position: number, ...deltas: ReturnType<typeof ins>[]): Batch => ({
  gtid: null, position: { file: 'b.000001', position }, timestamp: 0,
  changes: [{ database: 'd', table: 't', columns: ['id', 'k', 'name', 'qty'], deltas }],
});

describe('a cache of an answer node in the graph', () => {
  function build(fake: Fake) {
    const g = new Graph();
    const base = g.add(new BaseTable('d', 't', ['id', 'k', 'name', 'qty'], [false, false, false, false]));
    const answer = g.add(new QueryAnswer(base, spec));
    const reader = g.add(new Reader(answer, { key: [2], fold: ['exact'], visible: 2, orderBy: [{ column: 3, desc: false, order: binaryOrder }], limit: null, distinct: false }, 'c'));
    g.retain(reader);
    return { g, reader, up: new Upqueries(g, fake) };
  }

  it('fills each key with its own statement, shows MariaDB\'s order, and asks again after a change', async () => {
    const fake = new Fake((sql) => (sql.includes('k = 1 ') ? [[3, 2], [1, 8]] : sql.includes('k = 2 ') ? [[5, 0]] : []));
    const { g, reader, up } = build(fake);
    await up.request(reader, [[1], [2]]);
    assert.deepEqual([...fake.asked].sort(), ['SELECT id, qty * 2 AS d FROM `d`.`t` WHERE k = 1 ORDER BY d', 'SELECT id, qty * 2 AS d FROM `d`.`t` WHERE k = 2 ORDER BY d']);
    assert.deepEqual(reader.peek(keyString([1])), [[3, 2], [1, 8]]);
    // A change to a row of key 1 at or before the fill's position is inside it: the key stays.
    g.applyBatch(batch(90, ins(9, 1, 'x', 1)));
    assert.deepEqual(reader.peek(keyString([1])), [[3, 2], [1, 8]]);
    // After it: the key goes, from the answer and the reader, and the reader's key is refilled in the background.
    g.applyBatch(batch(110, ins(9, 1, 'x', 1)));
    assert.equal(reader.peek(keyString([1])), undefined);
    assert.deepEqual(reader.peek(keyString([2])), [[5, 0]]);
    assert.deepEqual(g.takeRuleEvictions().map((e) => e.keys), [[[1]]]);
  });
});
