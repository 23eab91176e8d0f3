import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { buildCache } from '../../src/planner/build.js';
import { Graph } from '../../src/dataflow/graph.js';
import { RotorError } from '../../src/errors.js';
import type { TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const t: TableSchema = {
  database: 'd', table: 't',
  columns: [
    { name: 'id', dataType: 'int', scale: 0, collation: null },
    { name: 'g', dataType: 'int', scale: 0, collation: null },
    { name: 'x', dataType: 'decimal', scale: 2, collation: null },
    { name: 's', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci' },
    { name: 'ts', dataType: 'datetime', scale: 0, collation: null },
  ],
};

const plan = (sql: string) => planSelect(parseStatement(sql), t, true);

function rejects(sql: string, pattern: RegExp, code = 'ERR_CACHE_UNSUPPORTED'): void {
  assert.throws(() => plan(sql), (e: unknown) => e instanceof RotorError && e.code === code && pattern.test(e.message), sql);
}

describe('planner', () => {
  it('turns equality parameters into the reader key and the rest into a constant filter', () => {
    const p = plan("SELECT id, x FROM t WHERE g = ? AND s = 'a' AND id IN (?, ?)");
    assert.deepEqual(p.params, [{ column: 1, multi: false, listable: true }, { column: 0, multi: true, listable: true }]);
    assert.deepEqual(p.slots.map((s) => s.kind), ['param', 'const', 'list-param']);
    const built = buildCache(new Graph(), p, 'c');
    assert.deepEqual(built.nodes.map((n) => n.describe()), ["d.t", "σ[s = 'a']", 'π[id, x, g, id]', 'reader[g = ? AND id = ?]']);
  });

  it('plans aggregates keyed by the parameters, with HAVING over the aggregate', () => {
    const p = plan('SELECT g, COUNT(*), SUM(x), AVG(x), MIN(id), MAX(id) FROM t WHERE g = ? GROUP BY g HAVING COUNT(*) > 1');
    const built = buildCache(new Graph(), p, 'c');
    assert.deepEqual(built.nodes.map((n) => n.describe()), [
      'd.t', 'γ[g] COUNT(*), SUM(x), AVG(x), MIN(id), MAX(id)', 'σ[COUNT(*) > 1]', 'π[g, COUNT(*), SUM(x), AVG(x), MIN(id), MAX(id), g]', 'reader[g = ?]',
    ]);
  });

  it('shares the base table and equal aggregates between caches', () => {
    const g = new Graph();
    const a = buildCache(g, plan('SELECT COUNT(*) FROM t WHERE g = ?'), 'a');
    const b = buildCache(g, plan('SELECT COUNT(*) AS n FROM t WHERE g = ?'), 'b');
    assert.equal(a.nodes[0], b.nodes[0]);
    assert.equal(a.nodes[1], b.nodes[1]);
    assert.notEqual(a.reader, b.reader);
  });

  it('names the construct it cannot cache', () => {
    rejects('SELECT a.id FROM t a JOIN t b ON a.id = b.id', /joins/);
    rejects('SELECT id FROM t WHERE g = ? OR id = 1', /parameter/);
    rejects('SELECT id FROM t LIMIT 5', /LIMIT/);
    rejects('SELECT id + 1 FROM t', /expression/);
    rejects('SELECT DISTINCT id FROM t ORDER BY g', /DISTINCT by a column it does not select/);
    rejects('SELECT id FROM t WHERE g = ? LIMIT ?', /LIMIT without ORDER BY/);
    rejects('SELECT id FROM t ORDER BY id LIMIT 0', /LIMIT 0/);
    rejects('SELECT id, COUNT(*) FROM t GROUP BY g', /neither grouped nor aggregated/);
    rejects('SELECT g, COUNT(*) FROM t WHERE g = ?', /g beside aggregates without GROUP BY/);
    rejects('SELECT COUNT(*) FROM t WHERE g = ? HAVING g > 1', /g beside aggregates without GROUP BY/);
    rejects('SELECT id FROM t WHERE s = 5', /text column with a number/);
    rejects('SELECT id FROM t WHERE id > ? OR g = 1', /parameter/);
    rejects("SELECT id FROM t WHERE ts > '2020-01-01'", /DATE\/TIME/);
    rejects('SELECT nope FROM t', /nope/, 'ERR_CACHE_UNKNOWN_COLUMN');
  });

  it('refuses number constants the parser rounded through a double, and keeps the ones it did not', () => {
    // node-sql-parser reads -9223372036854775808 as -9223372036854776000: the filter kept the row
    // holding BIGINT's minimum that `NOT (g = -9223372036854775808)` excludes.
    rejects('SELECT id FROM t WHERE NOT (g = -9223372036854775808)', /number/);
    rejects('SELECT id FROM t WHERE g = -9007199254740993', /number/);
    rejects('SELECT id FROM t WHERE x = -9007199254740993.50', /number/);
    rejects('SELECT id FROM t WHERE x > 1.23456789012345678', /number/);
    for (const lit of ['-1.5', '0.1', '-0.00000000025', '9223372036854775807', '-12345678901234.5', '-10']) {
      assert.doesNotThrow(() => plan(`SELECT id FROM t WHERE x <> ${lit}`), lit);
    }
    assert.match(buildCache(new Graph(), plan('SELECT id FROM t WHERE g <> -900719925474099'), 'c').nodes[1].describe(), /-900719925474099/);
  });

  it('reports a parse error as ERR_CACHE_PARSE', () => {
    assert.throws(() => parseStatement('SELEC id FROM'), (e: unknown) => e instanceof RotorError && e.code === 'ERR_CACHE_PARSE');
  });
});

describe('planner: IS NULL on DATE/TIME columns', () => {
  const soft: TableSchema = { ...t, columns: [...t.columns, { name: 'dd', dataType: 'date', scale: 0, collation: null, notNull: true }] };
  const planSoft = (sql: string) => planSelect(parseStatement(sql), soft, true);

  it('plans IS [NOT] NULL of a nullable one (soft deletes), and still refuses comparing one', () => {
    assert.deepEqual(planSoft('SELECT id FROM t WHERE g = ? AND ts IS NULL').where, { k: 'isnull', a: { k: 'col', i: 4, name: 'ts', numeric: false, collation: null }, neg: false });
    assert.equal(planSoft('SELECT id FROM t WHERE g = ? AND NOT (ts IS NOT NULL)').where?.k, 'not');
    assert.throws(() => planSoft("SELECT id FROM t WHERE g = ? AND ts > '2024-01-01'"), /DATE\/TIME/);
  });

  it('refuses IS NULL of a NOT NULL one: MariaDB finds its zero dates by it', () => {
    assert.throws(() => planSoft('SELECT id FROM t WHERE g = ? AND dd IS NULL'), /DATE\/TIME column dd/);
  });
});
