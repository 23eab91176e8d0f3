/**
 * Oracle test of GROUP_CONCAT's refill ([note: group-concat-refill]): seeded random transactions
 * pushed through whole plans with GROUP_CONCAT beside other aggregates, with random reads that fill
 * missing keys (from a stand-in for MariaDB's aggregate upquery: GROUP_CONCAT, COUNT, MAX computed
 * from the current rows) and random evictions. After every batch, every key the reader holds MUST
 * equal a fresh fill of the same table: a change to a group either leaves its GROUP_CONCAT as it
 * was (a row with a NULL first argument) or evicts the key, never shows an old value. A failure
 * prints its seed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/dataflow/graph.js';
import type { StatefulOperator } from '../../src/dataflow/operator.js';
import { keyOfRow, keyString } from '../../src/dataflow/state.js';
import { rowKey, type Delta, type Row } from '../../src/dataflow/delta.js';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { buildCache, type BuiltCache } from '../../src/planner/build.js';
import type { RuleSpec, SelectPlan } from '../../src/planner/query-plan.js';
import type { TableSchema } from '../../src/planner/schema.js';
import { Aggregate } from '../../src/operators/grouped.js';
import { answerValues } from '../../src/operators/reader.js';
import { compareValues, type Value } from '../../src/values.js';
import { seededRandom as prng } from '../support/seeded-random.js';
import '../support/collations.js';
import { rowsAt } from './rows-at.js';

const schema: TableSchema = {
  database: 'd', table: 't',
  columns: [
    { name: 'id', dataType: 'int', scale: 0, collation: null, primary: true },
    { name: 'g', dataType: 'int', scale: 0, collation: null },
    { name: 'x', dataType: 'int', scale: 0, collation: null },
    { name: 'y', dataType: 'int', scale: 0, collation: null },
  ],
};

const QUERIES = [
  "SELECT g, COUNT(*), GROUP_CONCAT(x ORDER BY id DESC SEPARATOR ';'), MAX(y) FROM t WHERE g = ? GROUP BY g",
  'SELECT GROUP_CONCAT(DISTINCT y ORDER BY y) FROM t WHERE g = ?',
  'SELECT g, y, GROUP_CONCAT(x, y ORDER BY x, y), COUNT(*) FROM t WHERE g = ? AND id <> 3 GROUP BY g, y',
  'SELECT y, GROUP_CONCAT(id ORDER BY id) FROM t WHERE g IN (?, ?) GROUP BY g, y',
];


/** What MariaDB's aggregate upquery answers: `[group…, COUNT(*), …each rule's state values]`. */
function upquery(plan: SelectPlan, rules: ReadonlyArray<RuleSpec>, input: ReadonlyArray<Row>, keys: ReadonlyArray<Row>): Row[] {
  const groupBy = [...plan.params.map((p) => p.column), ...(plan.aggregate?.groupBy ?? [])];
  const wanted = new Set(keys.map((k) => keyString(k)));
  const groups = new Map<string, Row[]>();
  for (const r of input) {
    if (!wanted.has(keyOfRow(r, groupBy.slice(0, plan.params.length)))) continue;
    const k = keyOfRow(r, groupBy);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((rows) => {
    const out: Value[] = [...groupBy.map((c) => rows[0][c]), rows.length];
    for (const rule of rules) {
      if (rule.fn === 'COUNT') { out.push(rows.length); continue; }
      if (rule.fn === 'MAX') {
        const vs = rows.map((r) => r[rule.arg as number]).filter((v) => v !== null);
        out.push(vs.length === 0 ? null : vs.reduce((a, b) => (compareValues(a, b) >= 0 ? a : b)), vs.length);
        continue;
      }
      const c = rule.concat!;
      const taking = rows.filter((r) => c.args.every((a) => r[a] !== null)).sort((a, b) => {
        for (const o of c.orderBy) {
          const d = compareValues(a[o.column], b[o.column]);
          if (d !== 0) return o.desc ? -d : d;
        }
        return 0;
      });
      const parts = taking.map((r) => c.args.map((a) => String(r[a])).join(''));
      const shown = rule.distinct ? [...new Set(parts)] : parts;
      out.push(shown.length === 0 ? null : shown.join(c.separator));
    }
    return out;
  });
}

class Cache {
  readonly graph = new Graph();
  readonly plan: SelectPlan;
  readonly built: BuiltCache;
  readonly agg: Aggregate;

  constructor(readonly sql: string) {
    this.plan = planSelect(parseStatement(sql), schema, true) as SelectPlan;
    this.built = buildCache(this.graph, this.plan, 'c');
    this.agg = this.built.nodes.find((n): n is Aggregate => n instanceof Aggregate)!;
  }

  fill(keys: Row[], table: ReadonlyArray<Row>): void {
    const reader: StatefulOperator = this.built.reader;
    const missing = keys.filter((k) => !reader.state.has(keyString(k, reader.state.fold)));
    if (missing.length === 0) return;
    const absent = missing.filter((k) => !this.agg.has(keyString(k, this.agg.fold)));
    if (absent.length > 0) this.agg.fillFromAggregates(absent, upquery(this.plan, this.plan.aggregate!.rules, rowsAt(this.agg.parents[0], table), absent));
    this.graph.fillFromAncestor(reader, missing);
  }

  answer(key: Row): string | undefined {
    const rows = this.built.reader.answer(keyString(key, this.built.reader.fold), null);
    return rows === undefined ? undefined : answerValues(rows).map((r) => rowKey(r)).sort().join('\n');
  }
}

function run(seed: number, sql: string, steps: number): number {
  const rnd = prng(seed);
  const cache = new Cache(sql);
  const table = new Map<number, Row>();
  let nextId = 1, pos = 4, checked = 0;
  const value = (): Row => [Math.floor(rnd() * 3), rnd() < 0.2 ? null : Math.floor(rnd() * 6), rnd() < 0.2 ? null : Math.floor(rnd() * 4)];
  for (let step = 0; step < steps; step++) {
    const deltas: Delta[] = [];
    for (let i = 0; i < 1 + Math.floor(rnd() * 3); i++) {
      const op = rnd();
      const ids = [...table.keys()];
      if (op < 0.45 || ids.length === 0) {
        const row = [nextId++, ...value()];
        table.set(row[0] as number, row);
        deltas.push({ row, sign: 1 });
      } else if (op < 0.7) {
        const id = ids[Math.floor(rnd() * ids.length)];
        deltas.push({ row: table.get(id)!, sign: -1 });
        table.delete(id);
      } else {
        const id = ids[Math.floor(rnd() * ids.length)];
        const old = table.get(id)!;
        // Often an update that leaves the concatenated columns alone.
        const row = rnd() < 0.5 ? [id, old[1], old[2], Math.floor(rnd() * 4)] : [id, ...value()];
        table.set(id, row);
        deltas.push({ row: old, sign: -1 }, { row, sign: 1 });
      }
    }
    cache.graph.applyBatch({ gtid: null, position: { file: 'b.000001', position: pos += 100 }, timestamp: 0, changes: [{ database: 'd', table: 't', columns: ['id', 'g', 'x', 'y'], deltas }] });
    const rows = [...table.values()];
    const r = rnd();
    if (r < 0.5) cache.fill([[Math.floor(rnd() * 3)]], rows);
    else if (r < 0.6) cache.graph.evict(cache.agg, [[Math.floor(rnd() * 3)]]);
    for (let g = 0; g < 3; g++) {
      const got = cache.answer([g]);
      if (got === undefined) continue;
      const fresh = new Cache(sql);
      fresh.fill([[g]], rows);
      assert.equal(got, fresh.answer([g]), `seed ${seed}, step ${step}, key ${g}: ${sql}`);
      checked++;
    }
  }
  return checked;
}

describe('oracle: GROUP_CONCAT refilled from the upstream equals a fresh fill', () => {
  const seeds = Number(process.env.ROTOR_ORACLE_SEEDS ?? 12);
  QUERIES.forEach((sql, qi) => {
    it(`holds for ${seeds} seeded random transaction streams: ${sql}`, () => {
      let checked = 0;
      for (let s = 1; s <= seeds; s++) checked += run(9000 + qi * 100 + s, sql, 200);
      assert.ok(checked > seeds * 50, `only ${checked} present keys compared`);
    });
  });
});
