import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { planStatement } from '../../src/planner/index.js';
import { buildCache } from '../../src/planner/build.js';
import { Graph } from '../../src/dataflow/graph.js';
import { Aggregate } from '../../src/operators/grouped.js';
import { RotorError } from '../../src/errors.js';
import type { TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const t: TableSchema = {
  database: 'd', table: 't',
  columns: [
    { name: 'id', dataType: 'int', scale: 0, collation: null, primary: true },
    { name: 'g', dataType: 'int', scale: 0, collation: null },
    { name: 's', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci' },
    { name: 'f', dataType: 'double', scale: 0, collation: null },
    { name: 'pos', dataType: 'int', scale: 0, collation: null },
  ],
};
const u: TableSchema = { database: 'd', table: 'u', columns: [{ name: 'id', dataType: 'int', scale: 0, collation: null, primary: true }, { name: 'g', dataType: 'int', scale: 0, collation: null }] };

const plan = (sql: string) => planSelect(parseStatement(sql), t, true);
const nodes = (sql: string, g = new Graph(), opts = { divPrecisionIncrement: 4, groupConcatMaxLen: 1048576 }) => buildCache(g, plan(sql), 'c', opts).nodes;

function rejects(sql: string, pattern: RegExp): void {
  assert.throws(() => planStatement(parseStatement(sql), [t, u]), (e: unknown) => e instanceof RotorError && e.code === 'ERR_CACHE_UNSUPPORTED' && pattern.test(e.message), sql);
}

describe('GROUP_CONCAT in the planner', () => {
  it('plans GROUP_CONCAT with its ORDER BY and SEPARATOR as an aggregate rule, the separator a constant of the statement', () => {
    const sql = "SELECT g, GROUP_CONCAT(s ORDER BY id DESC SEPARATOR '; ') FROM t WHERE g = ? GROUP BY g";
    const p = plan(sql);
    assert.deepEqual(p.aggregate?.rules, [{ fn: 'GROUP_CONCAT', arg: 2, distinct: false, concat: { args: [2], orderBy: [{ column: 0, desc: true }], separator: '; ' } }]);
    assert.deepEqual(p.slots.map((s) => s.kind), ['const', 'param']);
    assert.deepEqual(nodes(sql).map((n) => n.describe()), [
      'd.t', "γ[g] GROUP_CONCAT(s ORDER BY id DESC SEPARATOR '; ')", "π[g, GROUP_CONCAT(s ORDER BY id DESC SEPARATOR '; '), g]", 'reader[g = ?]',
    ]);
  });

  it('fills from MariaDB\'s own GROUP_CONCAT, run with the upstream\'s group_concat_max_len for that statement ([note: group-concat-refill])', () => {
    const agg = nodes("SELECT g, GROUP_CONCAT(DISTINCT s ORDER BY s SEPARATOR 'it''s') FROM t WHERE g = ? GROUP BY g", new Graph(), { divPrecisionIncrement: 4, groupConcatMaxLen: 77 })[1];
    assert.ok(agg instanceof Aggregate);
    const q = agg.fillQuery([[5]]);
    assert.equal(q.sql,
      "/*M!100301 SET STATEMENT group_concat_max_len = 77 FOR */ SELECT /*+ SET_VAR(group_concat_max_len=77) */ `g`, COUNT(*), GROUP_CONCAT(DISTINCT `s` ORDER BY `s` SEPARATOR 'it\\'s') FROM `d`.`t` WHERE (`g` IN (5)) GROUP BY `g`");
  });

  it('keeps caches apart that differ in the separator, the order or the limit, and shares equal ones', () => {
    const g = new Graph();
    const a = nodes("SELECT g, GROUP_CONCAT(s ORDER BY id) FROM t WHERE g = ? GROUP BY g", g);
    const b = nodes("SELECT g, GROUP_CONCAT(s ORDER BY id) AS names FROM t WHERE g = ? GROUP BY g", g);
    const c = nodes("SELECT g, GROUP_CONCAT(s ORDER BY id SEPARATOR ';') FROM t WHERE g = ? GROUP BY g", g);
    const d = nodes("SELECT g, GROUP_CONCAT(s ORDER BY id DESC) FROM t WHERE g = ? GROUP BY g", g);
    const e = nodes("SELECT g, GROUP_CONCAT(s ORDER BY id) FROM t WHERE g = ? GROUP BY g", g, { divPrecisionIncrement: 4, groupConcatMaxLen: 10 });
    assert.equal(a[1], b[1]);
    for (const other of [c, d, e]) assert.notEqual(a[1], other[1]);
  });

  it('accepts orders that leave no ties printing differently', () => {
    for (const sql of [
      'SELECT GROUP_CONCAT(s ORDER BY id) FROM t WHERE g = ?',
      'SELECT GROUP_CONCAT(s ORDER BY pos, id) FROM t WHERE g = ?',
      'SELECT GROUP_CONCAT(f ORDER BY id) FROM t WHERE g = ?',
      'SELECT g, GROUP_CONCAT(s ORDER BY s DESC) FROM t GROUP BY g',
      'SELECT g, GROUP_CONCAT(s, pos ORDER BY pos, s) FROM t WHERE g IN (?, ?) GROUP BY g',
      'SELECT g, GROUP_CONCAT(DISTINCT pos ORDER BY pos) FROM t WHERE g = ? GROUP BY g',
      'SELECT g, COUNT(*), MAX(pos), GROUP_CONCAT(s ORDER BY id) FROM t WHERE g = ? GROUP BY g ORDER BY g LIMIT 3',
    ]) assert.doesNotThrow(() => nodes(sql), sql);
  });

  it('names why a GROUP_CONCAT cannot be cached', () => {
    rejects('SELECT GROUP_CONCAT(s) FROM t WHERE g = ?', /without ORDER BY/);
    rejects('SELECT GROUP_CONCAT(s ORDER BY pos) FROM t WHERE g = ?', /ties that print differently/);
    rejects('SELECT GROUP_CONCAT(f ORDER BY f) FROM t WHERE g = ?', /ties that print differently/);
    rejects('SELECT GROUP_CONCAT(DISTINCT s ORDER BY id) FROM t WHERE g = ?', /DISTINCT …\) not ordered by exactly its columns/);
    rejects('SELECT GROUP_CONCAT(DISTINCT s, pos ORDER BY s) FROM t WHERE g = ?', /DISTINCT/);
    rejects('SELECT GROUP_CONCAT(s ORDER BY 1) FROM t WHERE g = ?', /ordered by an expression or a position/);
    rejects("SELECT GROUP_CONCAT(CONCAT(s, 'x') ORDER BY id) FROM t WHERE g = ?", /GROUP_CONCAT of an expression/);
    rejects('SELECT g FROM t GROUP BY g HAVING GROUP_CONCAT(s ORDER BY id) = ?', /outside the select list|parameter/);
    rejects("SELECT g, GROUP_CONCAT(s ORDER BY id) AS c FROM t GROUP BY g HAVING c = 'a'", /conditions on a GROUP_CONCAT/);
    rejects('SELECT g, GROUP_CONCAT(s ORDER BY id) AS c FROM t GROUP BY g ORDER BY c LIMIT 3', /ordering by a GROUP_CONCAT/);
    rejects('SELECT DISTINCT GROUP_CONCAT(s ORDER BY id) FROM t GROUP BY g', /SELECT DISTINCT with GROUP_CONCAT/);
    rejects('SELECT g, COUNT(DISTINCT s), GROUP_CONCAT(s ORDER BY id) FROM t WHERE g = ? GROUP BY g', /beside COUNT\(DISTINCT/);
    rejects('SELECT t.g, GROUP_CONCAT(t.s ORDER BY t.id) FROM t JOIN u ON u.g = t.g WHERE t.g = ? GROUP BY t.g', /over a join/);
  });
});
