/**
 * [note: http-keys] A value of an HTTP read's key is bound as the same value written as a literal
 * in the cache's statement: a JSON number as the SQL literal of its own text (`1.5` a DECIMAL,
 * `1e3` a DOUBLE, `9007199254740993` the exact integer), a string as a quoted string. Each read is
 * compared with MariaDB's answer to the statement with that literal, and the HTTP read answers
 * exactly when a SQL read of the same statement is served from the cache ([note: one-read-path]);
 * otherwise it is refused (400), as the SQL read goes upstream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eFixture } from '../support/e2e-fixture.js';

const fx = e2eFixture('e2e_http_key_values', {
  schema: `
    CREATE TABLE v (id INT PRIMARY KEY, s VARCHAR(30) COLLATE utf8mb4_general_ci, e ENUM('medium', 'small', 'large'),
      d DECIMAL(30,20), d2 DECIMAL(10,2), i INT, b BIGINT, f DOUBLE, KEY (s), KEY (e), KEY (d2), KEY (i), KEY (b));
    INSERT INTO v VALUES
      (1, '1.5', 'medium', 0.10000000000000000001, 1.50, 5, 9007199254740993, 0.1),
      (2, '1.50', 'small', 0.1, 1.5, 1000, 9007199254740992, 1.5),
      (3, '01.5', 'large', 5.00000000000000000001, 2, 0, 1234567890123456789, 1e300),
      (4, '1e3', 'small', 5, 2, -5, -9007199254740993, 1000),
      (5, '1000', 'medium', 3, 3, 1, 5, 5);
  `,
  rotor: { httpRead: '127.0.0.1:0' },
  arrange: async ({ register }) => {
    for (const c of ['s', 'e', 'd', 'd2', 'i', 'b', 'f']) await register(`SELECT id FROM v WHERE ${c} = ?`);
  },
});

/** The ids an HTTP lookup of the cache over `column` answers for the key whose one value is the JSON `value`, or the refusal's status and code. */
async function httpIds(column: string, value: string): Promise<{ ids: string } | { status: number; code: string }> {
  const http = fx.rotor.rotor.httpRead;
  assert.ok(http !== null);
  const caches = await fx.rotor.api<Array<{ id: string; sql: string }>>('GET', '/api/caches');
  const cache = caches.body.find((c) => c.sql === `SELECT id FROM v WHERE ${column} = ?`);
  assert.ok(cache !== undefined, column);
  const res = await fetch(`http://127.0.0.1:${http.port}/v1/caches/${cache.id}/lookup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${fx.db.user}:${fx.db.password}`).toString('base64')}` },
    body: `{"keys": [[${value}]]}`,
  });
  const body = await res.json() as { results?: Array<{ key: unknown; rows: Array<{ id: number }> }>; error?: { code: string } };
  if (res.status !== 200) return { status: res.status, code: body.error?.code ?? '' };
  const first = body.results?.[0];
  assert.ok(first !== undefined);
  return { ids: first.rows.map((r) => r.id).sort().join(',') };
}

const CASES: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  // A text or ENUM column compares with a number as numbers: never a key.
  ['s', ['1.5', '1.50', '1e3', '1000', '5', '"1.5"', '"1e3"']],
  ['e', ['1', '1.0', '2e0', '"small"']],
  // DECIMAL compares with a DECIMAL exactly, with a DOUBLE as doubles.
  ['d', ['0.1', '0.10000000000000000001', '5.00000000000000000001', '5', '1e-1', '5e0', '"0.1"']],
  ['d2', ['1.5', '1.50', '1.500', '1.501', '2', '2e0', '2.0']],
  // An integer column: a decimal number that is an integer is one; digits beyond 2^53 are exact.
  ['i', ['5', '5.0', '5.5', '1e3', '1000', '0', '12345678901234567890', '"5"', '" 5"', '"1e3"']],
  ['b', ['9007199254740993', '9007199254740992', '1234567890123456789', '9007199254740993.0', '9.007199254740993e15']],
  // A DOUBLE column compares as doubles with any number.
  ['f', ['0.1', '1e-1', '1.5', '1e300', '1000', '5']],
];

test('a JSON number is the SQL literal of its text: an HTTP read answers as MariaDB does, or is refused as the SQL read goes upstream', async () => {
  for (const [column, values] of CASES) {
    for (const value of values) {
      const literal = value.startsWith('"') ? `'${JSON.parse(value) as string}'` : value;
      const sql = `SELECT id FROM v WHERE ${column} = ${literal}`;
      const sqlRead = await fx.answeredIds(sql, [], false);
      assert.equal(sqlRead.got, sqlRead.want, `${sql} through Rotor's SQL port`);
      const r = await httpIds(column, value);
      if ('ids' in r) {
        assert.equal(r.ids, sqlRead.want, `HTTP ${column} = ${value} answers as MariaDB does to ${sql}`);
        assert.equal(sqlRead.served, true, `HTTP ${column} = ${value} is served; so is ${sql}`);
      } else {
        assert.deepEqual(r, { status: 400, code: 'ERR_HTTP_BAD_KEY' }, `HTTP ${column} = ${value}`);
        assert.equal(sqlRead.served, false, `HTTP ${column} = ${value} is refused; ${sql} goes upstream`);
      }
    }
  }
});

test('a negative JSON number is the negative literal, and the key is echoed in its own digits', async () => {
  for (const [column, value] of [['i', '-5'], ['b', '-9007199254740993'], ['d2', '-0'], ['i', '-0.0']] as const) {
    const [rows] = await fx.direct.query(`SELECT id FROM v WHERE ${column} = ${value}`);
    const want = (rows as Array<{ id: number }>).map((x) => x.id).sort().join(',');
    assert.deepEqual(await httpIds(column, value), { ids: want }, `${column} = ${value}`);
  }
  const http = fx.rotor.rotor.httpRead;
  assert.ok(http !== null);
  const caches = await fx.rotor.api<Array<{ id: string; sql: string }>>('GET', '/api/caches');
  const b = caches.body.find((c) => c.sql === 'SELECT id FROM v WHERE b = ?')?.id as string;
  const res = await fetch(`http://127.0.0.1:${http.port}/v1/caches/${b}/lookup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${fx.db.user}:${fx.db.password}`).toString('base64')}` },
    body: '{"keys": [[9007199254740993], [ 5 ]]}',
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(text, /"results":\[\{"key":\[9007199254740993\],"rows":\[\{"id":1\}\]\},\{"key":\[5\],"rows":\[\{"id":5\}\]\}\]/);
});
