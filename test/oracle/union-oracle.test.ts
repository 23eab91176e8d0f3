/**
 * Oracle tests for unions planned from one statement: `a = ? OR b = ?` across columns ([note:
 * or-union]) and UNIONs whose branches differ only in their parameters. Seeded random transactions
 * go through the plan, with random reads that fill missing keys (each branch, then the union, as
 * upqueries do) and random evictions of the reader, the union and the branches; after every
 * batch, every key the reader holds MUST equal the query evaluated directly over the current
 * rows (as MariaDB would: each row once, rows showing equal values kept apart). A failure prints
 * its seed.
 */
import { answerValues } from '../../src/operators/reader.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/dataflow/graph.js';
import type { Operator, StatefulOperator } from '../../src/dataflow/operator.js';
import { keyString } from '../../src/dataflow/state.js';
import { rowKey, type Delta, type Row } from '../../src/dataflow/delta.js';
import { parseStatement } from '../../src/planner/parse.js';
import { lowerPlan, planStatement, tablesRead, type BuiltCache } from '../../src/planner/index.js';
import { fillThroughJoin, joinNeeds } from '../../src/dataflow/join-fill.js';
import { BaseTable } from '../../src/operators/base-table.js';
import type { TableSchema } from '../../src/planner/schema.js';
import type { Batch, TableChange } from '../../src/dataflow/batch.js';
import { seededRandom as prng } from '../support/seeded-random.js';
import '../support/collations.js';
import { rowsAt } from './rows-at.js';

const int = (name: string, primary = false) => ({ name, dataType: 'int', scale: 0, collation: null, ...(primary ? { primary } : {}) });
const schema: TableSchema = { database: 'd', table: 't', columns: [int('id', true), int('a'), int('b'), int('c'), int('v')] };
const uSchema: TableSchema = { database: 'd', table: 'u', columns: [int('id', true), int('k'), int('w'), int('x'), int('y')] };
const SCHEMAS: Record<string, TableSchema> = { t: schema, u: uSchema };
const [ID, A, B, C, V] = [0, 1, 2, 3, 4];
const [K, W] = [1, 2];

interface Case {
  readonly sql: string;
  /** How many parameters the key has. */
  readonly arity: number;
  /** The answer for `key` over `rows`, evaluated directly. */
  readonly eval: (rows: ReadonlyArray<Row>, key: Row, u: ReadonlyArray<Row>) => Row[];
  readonly ordered?: boolean;
}

const eq = (x: unknown, y: unknown) => x !== null && y !== null && x === y;
const CASES: Case[] = [
  { sql: 'SELECT v FROM t WHERE a = ? OR b = ?', arity: 2, eval: (rs, k) => rs.filter((r) => eq(r[A], k[0]) || eq(r[B], k[1])).map((r) => [r[V]]) },
  { sql: 'SELECT id, v FROM t WHERE (a = ? OR b = ?) AND v <> 2', arity: 2, eval: (rs, k) => rs.filter((r) => (eq(r[A], k[0]) || eq(r[B], k[1])) && r[V] !== null && r[V] !== 2).map((r) => [r[ID], r[V]]) },
  { sql: 'SELECT v FROM t WHERE v IS NOT NULL AND (a = ? OR ? = b OR c = ?)', arity: 3, eval: (rs, k) => rs.filter((r) => r[V] !== null && (eq(r[A], k[0]) || eq(r[B], k[1]) || eq(r[C], k[2]))).map((r) => [r[V]]) },
  { sql: 'SELECT v, a FROM t WHERE c = ? AND (a = ? OR b = ?)', arity: 3, eval: (rs, k) => rs.filter((r) => eq(r[C], k[0]) && (eq(r[A], k[1]) || eq(r[B], k[2]))).map((r) => [r[V], r[A]]) },
  {
    sql: 'SELECT v FROM t WHERE a = ? OR b = ? ORDER BY v DESC LIMIT 3', arity: 2, ordered: true,
    eval: (rs, k) => rs.filter((r) => eq(r[A], k[0]) || eq(r[B], k[1]))
      .sort((x, y) => cmpNullsFirst(y[V], x[V]) || (x[ID] as number) - (y[ID] as number)).slice(0, 3).map((r) => [r[V]]),
  },
  // [note: union-branches] Identical but for their parameters, across tables, with aggregates
  // (grouped and scalar), with a join.
  { sql: 'SELECT v FROM t WHERE a = ? UNION SELECT v FROM t WHERE a = ?', arity: 2, eval: (rs, k) => distinct(rs.filter((r) => eq(r[A], k[0]) || eq(r[A], k[1])).map((r) => [r[V]])) },
  { sql: 'SELECT v FROM t WHERE a = ? UNION ALL SELECT v FROM t WHERE a = ?', arity: 2, eval: (rs, k) => [0, 1].flatMap((i) => rs.filter((r) => eq(r[A], k[i])).map((r) => [r[V]])) },
  { sql: 'SELECT id, v FROM t WHERE a = ? UNION ALL SELECT id, w FROM u WHERE k = ?', arity: 2, eval: (rs, k, us) => [...rs.filter((r) => eq(r[A], k[0])).map((r) => [r[ID], r[V]]), ...us.filter((r) => eq(r[K], k[1])).map((r) => [r[ID], r[W]])] },
  { sql: 'SELECT v FROM t WHERE a = ? UNION SELECT w FROM u WHERE k = ? ORDER BY v DESC LIMIT 2', arity: 2, ordered: true,
    eval: (rs, k, us) => distinct([...rs.filter((r) => eq(r[A], k[0])).map((r) => [r[V]]), ...us.filter((r) => eq(r[K], k[1])).map((r) => [r[W]])]).sort((x, y) => cmpNullsFirst(y[0], x[0])).slice(0, 2) },
  { sql: 'SELECT a, COUNT(*) FROM t WHERE a = ? GROUP BY a UNION SELECT k, COUNT(*) FROM u WHERE k = ? GROUP BY k', arity: 2,
    eval: (rs, k, us) => distinct([counted(rs, A, k[0]), counted(us, K, k[1])].flatMap((x) => x)) },
  { sql: 'SELECT COUNT(*), MAX(v) FROM t WHERE a = ? UNION ALL SELECT COUNT(*), MAX(w) FROM u WHERE k = ?', arity: 2,
    eval: (rs, k, us) => [[rs, A, V], [us, K, W]].map(([xs, c, m], i) => { const f = (xs as Row[]).filter((r) => eq(r[c as number], k[i])); const vs = f.map((r) => r[m as number]).filter((x) => x !== null) as number[]; return [f.length, vs.length === 0 ? null : Math.max(...vs)]; }) },
  { sql: 'SELECT t.v FROM t JOIN u ON u.k = t.a WHERE t.id = ? UNION ALL SELECT v FROM t WHERE b = ?', arity: 2,
    eval: (rs, k, us) => [...rs.filter((r) => eq(r[ID], k[0])).flatMap((r) => us.filter((x) => eq(x[K], r[A])).map(() => [r[V]])), ...rs.filter((r) => eq(r[B], k[1])).map((r) => [r[V]])] },
];

function distinct(rows: Row[]): Row[] {
  const seen = new Set<string>();
  return rows.filter((r) => { const k = rowKey(r); if (seen.has(k)) return false; seen.add(k); return true; });
}

function counted(rows: ReadonlyArray<Row>, col: number, key: unknown): Row[] {
  const n = rows.filter((r) => eq(r[col], key)).length;
  return n === 0 ? [] : [[key as number, n]];
}

function cmpNullsFirst(x: unknown, y: unknown): number {
  if (x === y) return 0;
  if (x === null) return -1;
  if (y === null) return 1;
  return (x as number) - (y as number);
}

function build(graph: Graph, sql: string): BuiltCache {
  const ast = parseStatement(sql);
  return lowerPlan(graph, planStatement(ast, tablesRead(ast).map((x) => SCHEMAS[x.table])), 'c');
}

type Tables = Record<string, ReadonlyArray<Row>>;

/** The rows a stateless node emits for the whole tables. */
function rowsOf(op: Operator, tables: Tables): Row[] {
  if (op instanceof BaseTable) return tables[op.table].slice();
  return rowsAt(op, rowsOf(op.parents[0], tables));
}

function fill(graph: Graph, node: StatefulOperator, keys: ReadonlyArray<Row>, table: Tables): void {
  const st = node.state;
  const missing = keys.filter((k) => !st.has(keyString(k, st.fold)));
  if (missing.length === 0) return;
  const plan = graph.fillPlan(node);
  switch (plan.kind) {
    case 'mysql':
      plan.node.state.fillFromInput(missing, rowsOf(plan.node.parents[0], table));
      return;
    case 'ancestor':
      fill(graph, plan.ancestor, missing.map(plan.toAncestorKey), table);
      graph.fillFromAncestor(plan.node, missing);
      return;
    case 'parents': {
      const per = plan.node.parentKeys(missing);
      plan.node.parents.forEach((p, i) => fill(graph, p as StatefulOperator, per[i], table));
      plan.node.fillFromParents(missing);
      return;
    }
    case 'join':
      for (let i = 0; ; i++) {
        const needs = joinNeeds(plan.join, plan.columns, missing);
        if (needs.length === 0) break;
        assert.ok(i < 5, 'join needs settle');
        for (const n of needs) fill(graph, n.node, n.keys, table);
      }
      fillThroughJoin(plan, missing);
      return;
  }
}

function canon(rows: ReadonlyArray<Row>, ordered: boolean): string {
  const keys = rows.map((r) => rowKey(r));
  return (ordered ? keys : keys.sort()).join('\n');
}

function run(seed: number, c: Case, steps: number): number {
  const rnd = prng(seed);
  const graph = new Graph();
  const built = build(graph, c.sql);
  const tables: Record<string, Map<number, Row>> = { t: new Map(), u: new Map() };
  let nextId = 1, pos = 4;
  const small = () => (rnd() < 0.1 ? null : Math.floor(rnd() * 3));
  const value = (): Row => [small(), small(), small(), small()];
  const keyOf = (): Row => Array.from({ length: c.arity }, () => Math.floor(rnd() * 3));
  const held: Row[] = [];
  let compared = 0;
  for (let step = 0; step < steps; step++) {
    const changes: TableChange[] = [];
    for (const name of ['t', 'u'].filter((x) => x === 't' || rnd() < 0.5)) {
      const table = tables[name];
      const deltas: Delta[] = [];
      for (let i = 1 + Math.floor(rnd() * 3); i > 0; i--) {
        const op = rnd();
        const ids = [...table.keys()];
        if (op < 0.4 || ids.length === 0) {
          const row = [nextId++, ...value()];
          table.set(row[0] as number, row);
          deltas.push({ row, sign: 1 });
        } else if (op < 0.6) {
          const id = ids[Math.floor(rnd() * ids.length)];
          deltas.push({ row: table.get(id)!, sign: -1 });
          table.delete(id);
        } else {
          const id = ids[Math.floor(rnd() * ids.length)];
          const row = [id, ...value()];
          deltas.push({ row: table.get(id)!, sign: -1 }, { row, sign: 1 });
          table.set(id, row);
        }
      }
      changes.push({ database: 'd', table: name, columns: SCHEMAS[name].columns.map((x) => x.name), deltas });
    }
    const batch: Batch = { gtid: null, position: { file: 'b.000001', position: pos += 100 }, timestamp: 0, changes };
    graph.applyBatch(batch);
    const now: Tables = { t: [...tables.t.values()], u: [...tables.u.values()] };
    const rows = now.t;
    const r = rnd();
    const states = built.nodes.filter((n) => n.state !== null) as StatefulOperator[];
    if (r < 0.45) { const k = keyOf(); fill(graph, built.reader, [k], now); held.push(k); } else if (r < 0.6) {
      const node = states[Math.floor(rnd() * states.length)];
      const keys = [...node.state.keyRows()];
      if (keys.length > 0) graph.evict(node, [keys[Math.floor(rnd() * keys.length)]]);
    } else if (r < 0.62) graph.evictAll(built.nodes[0]);
    for (const k of held.slice(-12)) {
      const got = built.reader.answer(keyString(k, built.reader.fold));
      if (got === undefined) continue;
      compared++;
      assert.equal(canon(answerValues(got), c.ordered === true), canon(c.eval(rows, k, now.u), c.ordered === true), `seed ${seed}, step ${step}, key ${rowKey(k)}: ${c.sql}`);
    }
  }
  return compared;
}

describe('oracle: unions planned from one statement equal a direct evaluation', () => {
  const seeds = Number(process.env.ROTOR_ORACLE_SEEDS ?? 10);
  CASES.forEach((c, ci) => {
    it(`holds for ${seeds} seeded random transaction streams: ${c.sql}`, () => {
      let compared = 0;
      for (let s = 1; s <= seeds; s++) compared += run(ci * 1000 + s, c, 200);
      assert.ok(compared > seeds * 200, `only ${compared} answers compared`);
    });
  });
});
