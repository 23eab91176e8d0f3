/**
 * [note: answer-refill] Expressions through Rotor, byte for byte, table-driven: each expression is
 * cached as `SELECT id, <expr> FROM edge WHERE k = ? ORDER BY id` and read through Rotor and
 * straight from MariaDB over rows of edge values (NULLs, BIGINT and DECIMAL extremes, halves that
 * round away from zero, utf8mb4 text under a _ci collation, dates at their limits), in the text and
 * the binary protocol, with the column definitions the client sees, under writes; an overflow is
 * MariaDB's own error; a session in another collation reads from MariaDB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { columnDefs, e2eFixture } from '../support/e2e-fixture.js';

// The fills' collation: sessions in another read expressions from MariaDB (views/read-refusals.ts).
const CHARSET = 'UTF8MB4_GENERAL_CI';
// Every value as the text protocol carries it: the bytes MariaDB printed.
const rawText = { typeCast: (field: { buffer(): Buffer | null }) => field.buffer()?.toString('hex') ?? null };

/** The expressions, each over the edge rows of one key. */
const EXPRS = [
  // arithmetic, overflow-free, on DECIMAL, BIGINT, DOUBLE; division by zero is NULL
  'amt * 3', 'amt / 7', 'amt + big', 'i DIV 3', 'i % 3', '-amt', 'f * 2', 'i / 0', 'ubig - 1', 'amt * amt',
  // comparison and boolean operators, IN as a value, NULLs
  'i > 2', 'amt = 1.5', 'name = \'STRASSE\'', 'i IN (1, 3, NULL)', 'name IN (\'zoë\', \'ZOE\')', 'i IS NULL', 'NOT i', 'i > 0 AND amt < 0', '(i BETWEEN 1 AND 3) XOR (amt > 0)',
  // CASE, IF, IFNULL, COALESCE
  "CASE WHEN i > 2 THEN 'big' WHEN i IS NULL THEN NULL ELSE 'small' END", 'CASE i WHEN 1 THEN amt ELSE f END', 'IF(amt > 0, amt, i)', "IFNULL(name, 'none')", 'COALESCE(NULL, amt, i)',
  // strings under utf8mb4_general_ci
  "CONCAT(name, '|', i, '|', amt)", 'LOWER(name)', 'UPPER(name)', 'LENGTH(name)', 'CHAR_LENGTH(name)', 'SUBSTRING(name, 2, 2)', 'SUBSTRING(name, -2)',
  // rounding: halves away from zero for DECIMAL, to even for DOUBLE; negative results of zero
  'ROUND(amt)', 'ROUND(amt, 1)', 'ROUND(amt, -1)', 'ROUND(f, 1)', 'FLOOR(amt)', 'CEIL(amt)', 'ABS(amt)', 'ROUND(-0.4 * i)', 'TRUNCATE(amt, 1)',
  // dates at their limits
  'DATE(dt)', 'YEAR(dt)', 'MONTH(dt)', 'DAYOFWEEK(dt)', "DATE_FORMAT(dt, '%Y-%m-%d %H:%i:%s.%f %j %U')", 'TIMESTAMPDIFF(MONTH, dt, d)', "ADDTIME(dt, '1 01:00:00.5')",
  "CONVERT_TZ(dt, '+00:00', '-05:30')", 'd + INTERVAL 1 DAY', 'DATEDIFF(d, dt)',
  // CAST
  'CAST(amt AS SIGNED)', 'CAST(name AS BINARY)', 'CAST(i AS CHAR)', 'CAST(dt AS DATE)', 'CAST(f AS DECIMAL(30,10))', 'CAST(ubig AS SIGNED)', 'CAST(amt AS DOUBLE)',
];

/** Expressions that overflow for some key: MariaDB's error, whoever asks. */
const OVERFLOW = ['big + 2 * i', 'ubig * 2'];

const sqlOf = (expr: string): string => `SELECT id, ${expr} AS v FROM edge WHERE k = ? ORDER BY id`;

const fx = e2eFixture('e2e_exprs', {
  schema: `
    CREATE TABLE edge (id INT PRIMARY KEY, k INT, i INT, big BIGINT, ubig BIGINT UNSIGNED, amt DECIMAL(30,10), f DOUBLE,
      name VARCHAR(30) COLLATE utf8mb4_general_ci, dt DATETIME(6), d DATE, INDEX (k));
    INSERT INTO edge VALUES
      (1, 1, 1, 9223372036854775806, 18446744073709551615, 99999999999999999999.9999999999, 1.5, 'Straße', '9999-12-31 23:59:59.999999', '9999-12-31'),
      (2, 1, NULL, -9223372036854775808, 0, -0.05, -2.5, NULL, '1000-01-01 00:00:00', '1000-01-01'),
      (3, 1, 3, 0, 1, 2.5, 0.5, 'zoë 😀', '2024-02-29 12:00:00.5', '2024-02-29'),
      (4, 2, -3, -1, 5, -2.5, -0.05, 'ZOE', NULL, NULL),
      (5, 2, 0, NULL, NULL, NULL, NULL, '', '1970-01-01 00:00:00', '0000-00-00'),
      (6, 3, 2, 42, 42, 0.0000000001, 1e308, 'İı', '2038-01-19 03:14:07', '2038-01-19');
  `,
  connection: { charset: CHARSET },
});
const { register } = fx;

const meta = (fs: unknown) => columnDefs(fs, ['name', 'columnType', 'columnLength', 'decimals', 'characterSet', 'flags']);

type Outcome = { rows: unknown; columns?: unknown } | { errno: number };

async function text(conn: mysql.Connection, sql: string): Promise<Outcome> {
  try {
    const [rows, fields] = await conn.query({ sql, rowsAsArray: true, ...rawText });
    return { rows, columns: meta(fields) };
  } catch (e) {
    return { errno: (e as { errno: number }).errno };
  }
}

async function binary(conn: mysql.Connection, sql: string, k: number): Promise<Outcome> {
  try {
    const [rows, fields] = await conn.execute({ sql, rowsAsArray: true }, [k]);
    return { rows, columns: meta(fields) };
  } catch (e) {
    return { errno: (e as { errno: number }).errno };
  }
}

/** Each expression for each key, through Rotor (twice: fill, then hit) and straight from MariaDB. */
async function compare(exprs: ReadonlyArray<string>): Promise<void> {
  await fx.rotor.caughtUp();
  for (const expr of exprs) {
    const sql = sqlOf(expr);
    for (const k of [1, 2, 3, 4]) {
      const literal = sql.replace('?', String(k));
      const want = await text(fx.direct, literal);
      for (let i = 0; i < 2; i++) assert.deepEqual(await text(fx.viaRotor, literal), want, `${expr} for k = ${k} (text, read ${i + 1})`);
      const wantBin = await binary(fx.direct, sql, k);
      for (let i = 0; i < 2; i++) assert.deepEqual(await binary(fx.viaRotor, sql, k), wantBin, `${expr} for k = ${k} (binary, read ${i + 1})`);
    }
  }
}

test('expressions equal MariaDB\'s values and column definitions over edge values, text and binary, under writes', async () => {
  const ids: string[] = [];
  for (const expr of [...EXPRS, ...OVERFLOW]) ids.push(await register(sqlOf(expr)));
  await compare([...EXPRS, ...OVERFLOW]);
  await fx.db.admin.query(`
    INSERT INTO edge VALUES (7, 4, 7, 7, 7, 7.77, 7.5, 'sept', '2000-02-29 00:00:00', '2000-02-29');
    UPDATE edge SET k = 4, amt = -amt WHERE id = 3;
    UPDATE edge SET name = 'ZOË' WHERE id = 4;
    DELETE FROM edge WHERE id = 5;
  `);
  await compare(EXPRS);
  const served = await Promise.all(ids.slice(0, EXPRS.length).map((id) => fx.rotor.hits(id)));
  assert.ok(served.every((n) => n > 0), `every cache of an expression answered from Rotor: ${served.join(', ')}`);
});

test('an overflow is MariaDB\'s error for the key that overflows, and a value for the others', async () => {
  const sql = sqlOf('big + 2 * i').replace('?', '1');
  const r = await text(fx.viaRotor, sql);
  assert.deepEqual(r, await text(fx.direct, sql));
  assert.ok('errno' in r && r.errno === 1690, JSON.stringify(r));
});

test('a session in another collation than the fills\' reads expressions from MariaDB', async () => {
  const id = await register(sqlOf("CONCAT(name, 'x') = 'STRASSEX'"));
  const other = await fx.rotor.connect({ charset: 'UTF8MB4_UNICODE_CI' });
  const otherDirect = await fx.connectDirect({ charset: 'UTF8MB4_UNICODE_CI' });
  try {
    const sql = sqlOf("CONCAT(name, 'x') = 'STRASSEX'").replace('?', '1');
    const before = await fx.rotor.hits(id);
    for (let i = 0; i < 2; i++) assert.deepEqual(await text(other, sql), await text(otherDirect, sql));
    assert.equal(await fx.rotor.hits(id), before);
    const status = await fx.rotor.api<{ queries: { notCachedReasons: Record<string, number> } }>('GET', '/api/status');
    assert.ok(Object.keys(status.body.queries.notCachedReasons).some((r) => /collation/.test(r)), JSON.stringify(status.body.queries.notCachedReasons));
  } finally {
    await other.end();
    await otherDirect.end();
  }
});

test('functions that read the clock, a random source or the session are refused at registration', async () => {
  for (const expr of ['NOW()', 'RAND()', 'UUID()', 'CONNECTION_ID()', 'LAST_INSERT_ID()', 'CURRENT_USER()', '@v', 'DAYNAME(dt)']) {
    const res = await fx.rotor.api<{ error?: string; message?: string }>('POST', '/api/caches', { sql: sqlOf(expr), database: fx.db.name });
    assert.notEqual(res.status, 201, expr);
  }
});
