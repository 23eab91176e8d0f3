/**
 * A join inside the graph: one transaction that writes both sides of a join reaches the nodes
 * below as its net change (graph.ts, mergeByParent), so a row the join's two steps retract and
 * insert back never shows below.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/dataflow/graph.js';
import { positives, type Operator, type StatefulOperator } from '../../src/dataflow/operator.js';
import { keyString } from '../../src/dataflow/state.js';
import type { Row } from '../../src/dataflow/delta.js';
import { fillThroughJoin, joinNeeds } from '../../src/dataflow/join-fill.js';
import { BaseTable } from '../../src/operators/base-table.js';
import { parseStatement } from '../../src/planner/parse.js';
import { joinTables, planJoin } from '../../src/planner/join.js';
import { buildCache } from '../../src/planner/build.js';
import type { TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const int = (name: string) => ({ name, dataType: 'int', scale: 0, collation: null });
const SCHEMAS: Record<string, TableSchema> = {
  s: { database: 'd', table: 's', columns: [int('id'), int('a'), int('v')] },
  u: { database: 'd', table: 'u', columns: [int('id'), int('k'), int('w')] },
};
const tables: Record<string, Row[]> = { s: [[1, 5, 0]], u: [[7, 5, 3]] };

function rowsAt(op: Operator): Row[] {
  if (op instanceof BaseTable) return tables[op.table].slice();
  return op.onBatch(0, positives(rowsAt(op.parents[0])), { position: null }).output.map((d) => d.row);
}

function fill(graph: Graph, node: StatefulOperator, keys: ReadonlyArray<Row>): void {
  const st = node.state;
  const missing = keys.filter((k) => !st.has(keyString(k, st.fold)));
  if (missing.length === 0) return;
  const plan = graph.fillPlan(node);
  switch (plan.kind) {
    case 'join':
      for (let n = joinNeeds(plan.join, plan.columns, missing); n.length > 0; n = joinNeeds(plan.join, plan.columns, missing)) {
        for (const x of n) fill(graph, x.node, x.keys);
      }
      fillThroughJoin(plan, missing);
      break;
    case 'mysql':
      plan.node.state.fillFromInput(missing, rowsAt(plan.node.parents[0]));
      break;
    case 'ancestor':
      fill(graph, plan.ancestor, missing.map(plan.toAncestorKey));
      graph.fillFromAncestor(plan.node, missing);
      break;
    case 'parents':
      assert.fail('no union in these caches');
  }
}

describe('a join in the graph', () => {
  it('passes a transaction on both sides below as its net change: no retraction of a row that never was', () => {
    const graph = new Graph();
    const sql = 'SELECT COUNT(DISTINCT u.w), COUNT(*) FROM s JOIN u ON u.k = s.a WHERE s.v = ?';
    const ast = parseStatement(sql);
    const built = buildCache(graph, planJoin(ast, joinTables(ast).map((t) => SCHEMAS[t.table]), true), 'c');
    fill(graph, built.reader, [[0]]);
    assert.deepEqual(built.reader.answer(keyString([0])), [[1, 1]]);
    // One transaction: story 1 leaves key 0 while a second matching u row arrives. The left step
    // retracts (1 ⋈ 8), which never existed; the right step inserts it back.
    graph.applyBatch({
      gtid: null, position: { file: 'b.000001', position: 100 }, timestamp: 0, changes: [
        { database: 'd', table: 's', columns: ['id', 'a', 'v'], deltas: [{ sign: -1, row: [1, 5, 0] }] },
        { database: 'd', table: 'u', columns: ['id', 'k', 'w'], deltas: [{ sign: 1, row: [8, 5, 4] }] },
      ],
    });
    assert.deepEqual(built.reader.answer(keyString([0])), [[0, 0]], 'the key is kept and exact');
    assert.deepEqual(graph.takeRuleEvictions(), []);
  });
});
