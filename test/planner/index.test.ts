import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { lowerPlan, PASSES, planStatement, tablesRead } from '../../src/planner/index.js';
import { Graph } from '../../src/dataflow/graph.js';
import type { ColumnInfo, TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const int = (name: string): ColumnInfo => ({ name, dataType: 'int', scale: 0, collation: null });
const tables: Record<string, TableSchema> = {
  story: { database: 'd', table: 'story', columns: [int('id'), int('author_id')] },
  user: { database: 'd', table: 'user', columns: [int('id'), int('team_id')] },
  team: { database: 'd', table: 'team', columns: [int('id'), int('active')] },
};

const plan = (sql: string) => {
  const statement = parseStatement(sql);
  return planStatement(statement, tablesRead(statement).map((t) => tables[t.table]));
};

describe('planner entry', () => {
  it('runs the right-join pass before the semi-join pass, which adds a table to FROM', () => {
    assert.deepEqual(PASSES.map((p) => p.name), ['right-join', 'semi-join']);
    const p = plan('SELECT u.id, s.id FROM story s RIGHT JOIN user u ON u.id = s.author_id WHERE u.id = ? AND u.team_id IN (SELECT id FROM team WHERE active = 1)');
    assert.ok(p.kind === 'join');
    assert.deepEqual(p.join.sources.map((s) => s.schema.table), ['user', 'story', 'team']);
    assert.deepEqual(p.join.steps.map((s) => s.kind), ['left', 'inner']);
  });

  it('tags each plan with its kind and lowers it through that kind\'s builder', () => {
    const kinds = ['SELECT id FROM story WHERE author_id = ?', 'SELECT s.id FROM story s JOIN user u ON u.id = s.author_id WHERE s.id = ?', 'SELECT id FROM story WHERE author_id = ? UNION SELECT id FROM story WHERE id = ?']
      .map((sql) => {
        const p = plan(sql);
        const built = lowerPlan(new Graph(), p, 'c');
        return [p.kind, built.nodes.some((n) => n.kind === 'join'), built.nodes.some((n) => n.kind === 'union')];
      });
    assert.deepEqual(kinds, [['select', false, false], ['join', true, false], ['union', false, true]]);
  });
});
