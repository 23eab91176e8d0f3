/**
 * The one harness every operator unit test goes through: a stateless stub parent with a SQL shape,
 * seeding an operator's own state (as a fill would), feeding one batch, and reading back the output
 * (consolidated, as a multiset) and the evictions.
 */
import assert from 'node:assert/strict';
import { consolidate, rowKey, type Delta, type Row } from '../../src/dataflow/delta.js';
import type { BatchContext, BatchResult, Operator, SqlShape } from '../../src/dataflow/operator.js';
import type { Value } from '../../src/values.js';

/** A stateless source with the given columns, reading table `t`. */
export function source(columns: ReadonlyArray<string>): Operator {
  return {
    kind: 'base', parents: [], columns, signature: `stub(${columns.join(',')})`, state: null, database: 'd', table: 't',
    deltasOf: (change) => change.deltas,
    describe: () => 't', source: () => null,
    onBatch: (_f, deltas) => ({ output: deltas, evicted: [] }),
    sql: (): SqlShape => ({ select: columns.map((c) => `\`${c}\``), from: '`t`', where: [] }),
  };
}

export const ins = (...row: Value[]): Delta => ({ row, sign: 1 });
export const del = (...row: Value[]): Delta => ({ row, sign: -1 });

export class Harness {
  constructor(readonly op: Operator) {}

  /** Makes `keys` present in the operator's state, computed from these input rows. */
  seed(keys: ReadonlyArray<Row>, inputRows: ReadonlyArray<Row> = []): this {
    const st = this.op.state;
    assert.ok(st !== null && 'fillFromInput' in st, 'seed needs a stateful operator with one input');
    st.fillFromInput(keys, inputRows);
    return this;
  }

  feed(...deltas: Delta[]): BatchResult {
    return this.op.onBatch(0, deltas, { position: null });
  }

  /**
   * Feeds a batch and asserts the consolidated output equals `expected` (as multisets). A node with
   * several parents takes the parent (`from`) and the batch's context (`ctx`, one per batch).
   */
  expect(deltas: Delta[], expected: Delta[], extra: { evicted?: Row[]; from?: number; ctx?: BatchContext } = {}): BatchResult {
    const r = this.op.onBatch(extra.from ?? 0, deltas, extra.ctx ?? { position: null });
    assert.deepEqual(canon(r.output), canon(expected), 'output');
    assert.deepEqual(r.evicted.map((m) => rowKey(m)).sort(), (extra.evicted ?? []).map((m) => rowKey(m)).sort(), 'evicted');
    return r;
  }
}

function canon(ds: ReadonlyArray<Delta>): string[] {
  return consolidate(ds).map((d) => `${d.sign > 0 ? '+' : '-'}${rowKey(d.row)}`).sort();
}
