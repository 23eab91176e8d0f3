/**
 * [note: value-types] A column compared with a value whose SQL type its JS type does not tell: a
 * number written with a point or an exponent (`s = 1.5` is not `s = '1.5'`), a DOUBLE parameter
 * (mysql2 binds every JS number as one), a DATETIME parameter (a JS Date). MariaDB compares a text
 * or ENUM column with a number as numbers, with a date as dates, and a DECIMAL column with a DOUBLE
 * as doubles; Rotor answers such a read as MariaDB does (upstream), and keeps serving the reads
 * whose comparison is a plain equality of keys. (`d` has no index: with one, MariaDB looks the
 * DOUBLE up as the DECIMAL it converts to, exactly, and its answer follows its plan.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eFixture } from '../support/e2e-fixture.js';

const CONNECTION = { dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, timezone: 'Z' } as const;

const fx = e2eFixture('e2e_value_types', {
  schema: `
    CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20) COLLATE utf8mb4_general_ci, e ENUM('medium', 'small', 'large'),
      d DECIMAL(30,20), d2 DECIMAL(10,2), KEY (s), KEY (e), KEY (d2));
    INSERT INTO t VALUES
      (1, '1.5', 'medium', 0.10000000000000000001, 1.50),
      (2, '1.50', 'small', 0.1, 1.5),
      (3, '01.5', 'large', 5.00000000000000000001, 2),
      (4, '2024-01-01 00:00:00', 'small', 5, 2),
      (5, '2024-01-01', 'medium', 3, 3);
  `,
  connection: CONNECTION,
  arrange: async ({ rotor }) => {
    for (const sql of ['SELECT id FROM t WHERE s = ?', 'SELECT id FROM t WHERE e = ?', 'SELECT id FROM t WHERE d = ?', 'SELECT id FROM t WHERE d2 = ?']) await rotor.register(sql);
  },
});

test('a text or ENUM column compared with a number written with a point or an exponent answers as MariaDB does', async () => {
  for (const sql of ['SELECT id FROM t WHERE s = 1.5', 'SELECT id FROM t WHERE s = 1.5e0', 'SELECT id FROM t WHERE s IN (1.5, 2)', 'SELECT id FROM t WHERE e = 1.0', 'SELECT id FROM t WHERE e = 2e0']) {
    const r = await fx.answeredIds(sql, [], false);
    assert.equal(r.got, r.want, sql);
    assert.equal(r.served, false, `${sql}: compared as numbers, not a key`);
  }
  const quoted = await fx.answeredIds("SELECT id FROM t WHERE s = '1.5'", [], false);
  assert.deepEqual(quoted, { got: '1', want: '1', served: true }, 'a quoted string is a key');
  const exact = await fx.answeredIds('SELECT id FROM t WHERE d = 0.1', [], false);
  assert.deepEqual(exact, { got: '2', want: '2', served: true }, 'a DECIMAL column compares with a decimal number exactly');
});

test('a DECIMAL column of more than 15 digits compared with a DOUBLE parameter answers as MariaDB does', async () => {
  for (const v of [0.1, 5]) {
    const r = await fx.answeredIds('SELECT id FROM t WHERE d = ?', [v], true);
    assert.equal(r.got, r.want, `d = ${v} (a DOUBLE)`);
    assert.equal(r.served, false);
  }
  const exact = await fx.answeredIds('SELECT id FROM t WHERE d = ?', ['0.1'], true);
  assert.deepEqual(exact, { got: '2', want: '2', served: true }, 'a string parameter is compared exactly');
  const narrow = await fx.answeredIds('SELECT id FROM t WHERE d2 = ?', [1.5], true);
  assert.deepEqual(narrow, { got: '1,2', want: '1,2', served: true }, 'a DOUBLE compares with DECIMAL(10,2) as exactly as a decimal does');
});

test('a text column compared with a DATETIME parameter answers as MariaDB does', async () => {
  const r = await fx.answeredIds('SELECT id FROM t WHERE s = ?', [new Date(Date.UTC(2024, 0, 1))], true);
  assert.equal(r.got, r.want);
  assert.equal(r.served, false);
  const text = await fx.answeredIds('SELECT id FROM t WHERE s = ?', ['2024-01-01'], true);
  assert.deepEqual(text, { got: '5', want: '5', served: true }, 'a string parameter is a key');
});
