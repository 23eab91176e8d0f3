import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { planStatement, lowerPlan } from '../../src/planner/index.js';
import { fingerprint } from '../../src/planner/fingerprint.js';
import { Graph } from '../../src/dataflow/graph.js';
import { QueryAnswer } from '../../src/operators/query-answer.js';
import { RotorError } from '../../src/errors.js';
import type { TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const t: TableSchema = {
  database: 'shop', table: 'item',
  columns: [
    { name: 'id', dataType: 'int', scale: 0, collation: null, primary: true },
    { name: 'k', dataType: 'int', scale: 0, collation: null },
    { name: 'name', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci' },
    { name: 'price', dataType: 'decimal', scale: 2, collation: null },
    { name: 'qty', dataType: 'int', scale: 0, collation: null },
    { name: 'added', dataType: 'datetime', scale: 0, collation: null },
  ],
};

const plan = (sql: string) => planStatement(parseStatement(sql), [t], undefined, sql);

function refuses(sql: string, pattern: RegExp): void {
  assert.throws(() => plan(sql), (e: unknown) => e instanceof RotorError && e.code === 'ERR_CACHE_UNSUPPORTED' && pattern.test(e.message), sql);
}

describe('expressions planned as MariaDB\'s answer per key ([note: answer-refill])', () => {
  it('plans a select list of expressions as the statement\'s own text per key, its table qualified', () => {
    const sql = "SELECT id, price * qty AS total, CONCAT(UPPER(name), '!') FROM item WHERE k = ? ORDER BY total DESC LIMIT 3";
    const p = plan(sql);
    assert.equal(p.kind, 'answer');
    if (p.kind !== 'answer') return;
    assert.deepEqual(p.template, ["SELECT id, price * qty AS total, CONCAT(UPPER(name), '!') FROM `shop`.item WHERE k = ", ' ORDER BY total DESC LIMIT 3']);
    assert.deepEqual(p.params, [{ column: 1, multi: false, listable: false }]);
    assert.deepEqual(p.slots.map((s) => s.kind), ['const', 'param', 'const']);
    assert.deepEqual(p.names, ['id', 'total', 'expr']);
    const built = lowerPlan(new Graph(), p, 'c');
    assert.deepEqual(built.nodes.map((n) => n.describe()), ['shop.item', '▣[id, total, expr] by k = ?', 'reader[k = ?] order by #']);
  });

  it('fills one key per statement, with the upstream\'s div_precision_increment and group_concat_max_len for it', () => {
    const p = plan("SELECT k, AVG(price / 3), GROUP_CONCAT(name) FROM shop.item WHERE name = ? AND k = ? GROUP BY k");
    const built = lowerPlan(new Graph(), p, 'c', { divPrecisionIncrement: 6, groupConcatMaxLen: 99 });
    const answer = built.nodes[1];
    assert.ok(answer instanceof QueryAnswer);
    assert.equal(answer.keysPerFill, 1);
    assert.equal(answer.fillQuery([["it's", 7]]).sql,
      "/*M!100301 SET STATEMENT div_precision_increment = 6, group_concat_max_len = 99 FOR */ SELECT /*+ SET_VAR(div_precision_increment=6) SET_VAR(group_concat_max_len=99) */ k, AVG(price / 3), GROUP_CONCAT(name) FROM shop.item WHERE name = 'it\\'s' AND k = 7 GROUP BY k");
  });

  it('keeps the incremental plans first: columns, constant filters and aggregates of columns are not answers', () => {
    for (const sql of [
      'SELECT id, name FROM item WHERE k = ?',
      "SELECT id FROM item WHERE k = ? AND name = 'x' AND qty > 3",
      'SELECT k, COUNT(*), SUM(price) FROM item WHERE k = ? GROUP BY k',
      'SELECT id FROM item WHERE k = ? ORDER BY qty DESC LIMIT 5',
    ]) assert.notEqual(plan(sql).kind, 'answer', sql);
    // Without the text, no answer plan (a caller that cannot give the fill its statement).
    assert.throws(() => planStatement(parseStatement('SELECT qty + 1 FROM item WHERE k = ?'), [t]), RotorError);
  });

  it('plans expressions in WHERE, GROUP BY, HAVING and ORDER BY, CASE, CAST, IN lists and date functions', () => {
    for (const sql of [
      'SELECT id FROM item WHERE k = ? AND price * qty > 100',
      'SELECT YEAR(added), COUNT(*) FROM item WHERE k = ? GROUP BY YEAR(added) HAVING COUNT(*) > 1 ORDER BY 1',
      "SELECT CASE WHEN qty IN (1, 2) THEN 'few' ELSE 'many' END, CAST(price AS SIGNED), IFNULL(name, '-') FROM item WHERE k = ?",
      "SELECT DATE_FORMAT(added, '%Y-%m-%d'), TIMESTAMPDIFF(DAY, added, '2024-01-01'), ADDTIME(added, '01:00:00'), CONVERT_TZ(added, '+00:00', '+05:30'), DAYOFWEEK(added) FROM item WHERE k = ?",
      'SELECT ROUND(price, 1), FLOOR(price), CEIL(price), ABS(qty - 10), SUBSTRING(name, 2, 3), LENGTH(name), LOWER(name) FROM item WHERE k = ?',
      'SELECT id, qty DIV 3, qty % 3, -qty, qty IS NULL, NOT qty FROM item WHERE ? = k',
    ]) assert.equal(plan(sql).kind, 'answer', sql);
  });

  it('refuses functions whose value is not the row\'s: the clock, randomness, the session', () => {
    refuses('SELECT NOW() FROM item WHERE k = ?', /NOW\(\) \(it reads the clock/);
    refuses('SELECT id FROM item WHERE k = ? AND added > CURRENT_TIMESTAMP', /CURRENT_TIMESTAMP\(\) \(it reads the clock/);
    refuses('SELECT RAND() FROM item WHERE k = ?', /RAND\(\) \(it is random/);
    refuses('SELECT UUID() FROM item WHERE k = ?', /UUID\(\) \(it is random/);
    refuses('SELECT CONNECTION_ID(), id FROM item WHERE k = ?', /CONNECTION_ID\(\) \(it reads the session/);
    refuses('SELECT LAST_INSERT_ID() FROM item WHERE k = ?', /LAST_INSERT_ID/);
    refuses('SELECT USER() FROM item WHERE k = ?', /USER\(\) \(it reads the session/);
    refuses('SELECT UNIX_TIMESTAMP() FROM item WHERE k = ?', /UNIX_TIMESTAMP\(\) \(it reads the clock/);
    refuses('SELECT id + @x FROM item WHERE k = ?', /variable @x/);
    refuses('SELECT @@sql_mode, id FROM item WHERE k = ?', /variable/);
    refuses('SELECT DAYNAME(added) FROM item WHERE k = ?', /lc_time_names/);
    refuses("SELECT DATE_FORMAT(added, '%W %M') FROM item WHERE k = ?", /lc_time_names/);
    refuses('SELECT WEEK(added) FROM item WHERE k = ?', /default_week_format/);
    refuses("SELECT CONVERT_TZ(added, 'UTC', 'Europe/Paris') FROM item WHERE k = ?", /named time zone/);
    refuses('SELECT shop.price_of(id) FROM item WHERE k = ?', /stored function/);
  });

  it('refuses what is not a function of the key\'s rows or cannot be read the same way by the fill', () => {
    refuses('SELECT qty + 1 FROM item WHERE k = ? AND qty > (SELECT 1)', /subquer/i);
    refuses('SELECT qty + 1, ? FROM item WHERE k = ?', /parameter/);
    refuses('SELECT qty + 1 FROM item WHERE k = ? OR qty = ?', /parameter/);
    refuses('SELECT qty + 1 FROM item WHERE k = ? AND k = ?', /two parameters on column k/);
    refuses('SELECT qty + 1 FROM item WHERE k IN (?, ?)', /parameter/);
    refuses('SELECT qty + 1 FROM item WHERE k = ? LIMIT ?', /LIMIT|parameter/);
    refuses('SELECT qty || 1 FROM item WHERE k = ?', /\|\|/);
    refuses('SELECT JSON_EXTRACT(name, "$.a") FROM item WHERE k = ?', /./);
    refuses('SELECT SOME_UDF(qty) FROM item WHERE k = ?', /not among the functions/);
  });

  it('tells a decimal constant from a string constant: `1.5` and `\'1.5\'` are not the same statement', () => {
    const a = fingerprint('SELECT qty * 1.5 FROM item WHERE k = 1');
    const b = fingerprint("SELECT qty * '1.5' FROM item WHERE k = 1");
    assert.deepEqual(a?.literals[0], { kind: 'value', value: '1.5', number: true });
    assert.deepEqual(b?.literals[0], { kind: 'value', value: '1.5' });
    assert.equal(a?.key, b?.key);
  });
});
