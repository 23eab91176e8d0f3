/**
 * Columns whose comparison converts the value compared with them, through Rotor and straight to
 * MariaDB: a YEAR column compares with the year MariaDB would store for the value (`24` is 2024,
 * `'0'` is 2000, `0` is 0000), a BIT column with a string as an integer (`'5'` is b'101'; through an
 * index on it, as bytes: `bt` has none here). A value that is not the column's own key goes
 * upstream; the column's own values stay keys. A cache that compares such a column with a constant
 * is refused as a comparison of values (its rows kept current from the binlog would be compared
 * with the constant unconverted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eFixture } from '../support/e2e-fixture.js';

const fx = e2eFixture('e2e_key_conversions', {
  schema: `
    CREATE TABLE y (id INT PRIMARY KEY, yr YEAR, bt BIT(8), KEY (yr));
    INSERT INTO y VALUES (1, 2024, 5), (2, 2000, 6), (3, 1999, 7), (4, 2069, 0), (5, 0, 48), (6, NULL, NULL);
    CREATE TABLE c (id INT PRIMARY KEY, k INT, yr YEAR, bt BIT(8), KEY (k));
    CREATE TABLE dd (id INT PRIMARY KEY, d DATE, KEY (d));
    INSERT INTO dd VALUES (1, '0000-00-00'), (2, '2024-02-29'), (3, '2024-03-01');
    INSERT INTO c VALUES (1, 1, 2024, 5), (2, 1, 2000, 53);
  `,
  arrange: async ({ rotor }) => {
    for (const sql of ['SELECT id FROM y WHERE yr = ?', 'SELECT id FROM y WHERE bt = ?', 'SELECT id FROM dd WHERE d = ?']) await rotor.register(sql);
  },
});

test('a YEAR column compared with a value it converts to another year answers as MariaDB does', async () => {
  for (const v of ['24', "'24'", "'0'", "'00'", '69', '99', "'0000'"]) {
    const sql = `SELECT id FROM y WHERE yr = ${v}`;
    const r = await fx.answeredIds(sql, [], false);
    assert.equal(r.got, r.want, sql);
  }
  for (const v of [24, '24', 99]) {
    const r = await fx.answeredIds('SELECT id FROM y WHERE yr = ?', [v], true);
    assert.equal(r.got, r.want, `yr = ? (${JSON.stringify(v)})`);
  }
  assert.deepEqual(await fx.answeredIds('SELECT id FROM y WHERE yr = 2024', [], false), { got: '1', want: '1', served: true }, 'a year is a key');
  assert.deepEqual(await fx.answeredIds("SELECT id FROM y WHERE yr = '1999'", [], false), { got: '3', want: '3', served: true });
  assert.deepEqual(await fx.answeredIds('SELECT id FROM y WHERE yr = 0', [], false), { got: '5', want: '5', served: true }, 'the number 0 is 0000');
});

test('a cached YEAR is printed as MariaDB prints it: the year 0 as 0000', async () => {
  await fx.register('SELECT yr FROM y WHERE id = ?');
  const text = { sql: 'SELECT yr FROM y WHERE id = 5', rowsAsArray: true, typeCast: (f: { string(): string | null }) => f.string() };
  const [want] = await fx.direct.query(text);
  assert.deepEqual(want, [['0000']]);
  for (let n = 0; n < 2; n++) assert.deepEqual((await fx.viaRotor.query(text))[0], want, `read ${n + 1}`);
});

test('a BIT column compared with a string answers as MariaDB does', async () => {
  for (const v of ["'5'", "'0'"]) {
    const sql = `SELECT id FROM y WHERE bt = ${v}`;
    const r = await fx.answeredIds(sql, [], false);
    assert.equal(r.got, r.want, sql);
  }
  const r = await fx.answeredIds('SELECT id FROM y WHERE bt = ?', ['5'], true);
  assert.equal(r.got, r.want, "bt = ? ('5')");
});

test('a cache comparing a YEAR or BIT column with a constant answers as MariaDB does after writes', async () => {
  const caches = ['SELECT id FROM c WHERE yr = 24 AND k = ?', 'SELECT id FROM c WHERE yr > 50 AND k = ?', "SELECT id FROM c WHERE bt = '5' AND k = ?", 'SELECT id FROM c WHERE yr IS NOT NULL AND k = ?'];
  for (const sql of caches) {
    const res = await fx.rotor.api('POST', '/api/caches', { sql, database: fx.db.name });
    assert.ok(res.status === 201 || res.status === 422, `${sql}: ${res.status}`);
  }
  const reads = caches.map((sql) => sql.replace('?', '1'));
  for (const sql of reads) await fx.answeredIds(sql, [], false);
  await fx.db.admin.query('INSERT INTO c VALUES (3, 1, 2024, 5), (4, 1, 2000, 53)');
  await fx.rotor.caughtUp();
  for (const sql of reads) {
    const r = await fx.answeredIds(sql, [], false);
    assert.equal(r.got, r.want, sql);
  }
});

test('a DATE column compared with a string that is not a day of the calendar is answered by MariaDB', async () => {
  // What MariaDB makes of such a string follows its sql_mode, the server's global one included:
  // under sql_mode='' `d = '2024-02-30'` finds the 0000-00-00 row, under the default none.
  for (const v of ['2024-02-30', '2024-13-01', '0000-00-00', '2024-00-00']) {
    const r = await fx.answeredIds(`SELECT id FROM dd WHERE d = '${v}'`, [], false);
    assert.equal(r.got, r.want, v);
    assert.equal(r.served, false, `${v} is not a key`);
  }
  assert.deepEqual(await fx.answeredIds("SELECT id FROM dd WHERE d = '2024-02-29'", [], false), { got: '2', want: '2', served: true }, 'a day of the calendar is a key');
});
