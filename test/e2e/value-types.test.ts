/**
 * [note: value-types] A column compared with a value whose SQL type its JS type does not tell: a
 * number written with a point or an exponent (`s = 1.5` is not `s = '1.5'`), a DOUBLE parameter
 * (mysql2 binds every JS number as one), a DATETIME parameter (a JS Date). MariaDB compares a text
 * or ENUM column with a number as numbers, with a date as dates, and a DECIMAL column with a DOUBLE
 * as doubles; Rotor answers such a read as MariaDB does (upstream), and keeps serving the reads
 * whose comparison is a plain equality of keys. (`d` has no index: with one, MariaDB looks the
 * DOUBLE up as the DECIMAL it converts to, exactly, and its answer follows its plan.) A parameter
 * bound as a wire type MariaDB does not read as sent (BIT, YEAR, INT24: as NULL) goes upstream, and
 * a string is an integer key only between the spaces MariaDB skips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eFixture } from '../support/e2e-fixture.js';
import { RawClient } from '../proxy/support.js';
import { Com, Type } from '../../src/proxy/protocol/constants.js';
import { ResponseScanner, type ResponseKind } from '../../src/proxy/protocol/response-scanner.js';
import { decodePrepareOk } from '../../src/proxy/protocol/result-set.js';

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
    for (const sql of ['SELECT s FROM t WHERE id = ?', 'SELECT id FROM t WHERE id = ?', 'SELECT id FROM t WHERE s = ?', 'SELECT id FROM t WHERE e = ?', 'SELECT id FROM t WHERE d = ?', 'SELECT id FROM t WHERE d2 = ?']) await rotor.register(sql);
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

/** One command's response, every packet as sent (headers included). */
async function exchange(client: RawClient, payload: Buffer, kind: ResponseKind): Promise<Buffer> {
  const scanner = new ResponseScanner({ onOk: () => undefined, onEof: () => undefined, onErr: () => undefined, onPrepareOk: () => undefined });
  scanner.begin(kind, true);
  client.send(0, payload);
  const out: Buffer[] = [];
  for (;;) {
    const p = await client.read();
    out.push(p.raw);
    if (scanner.feed(p.raw) >= 0) return Buffer.concat(out);
  }
}

/** A COM_STMT_EXECUTE of one parameter bound as wire type `type`, its value the bytes `value` as they are. */
function typedExecute(statementId: number, type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(10);
  head[0] = Com.STMT_EXECUTE;
  head.writeUInt32LE(statementId, 1);
  head.writeUInt32LE(1, 6);
  return Buffer.concat([head, Buffer.from([0, 1, type, 0]), value]);
}

/** `sql` prepared on a raw session to `port`, executed with one parameter bound as `type` holding `value`: the response's bytes. */
async function executedAs(port: number, sql: string, type: number, value: Buffer): Promise<Buffer> {
  const { client } = await RawClient.login(port, fx.db.user, fx.db.password, fx.db.name);
  try {
    const prep = await exchange(client, Buffer.from([Com.STMT_PREPARE, ...Buffer.from(sql)]), 'prepare');
    const id = decodePrepareOk(prep.subarray(4)).statementId;
    return await exchange(client, typedExecute(id, type, value), 'execute');
  } finally {
    client.end();
  }
}

test('a parameter bound as a type MariaDB does not read as sent (BIT, YEAR, INT24, GEOMETRY) is answered by MariaDB', async () => {
  // MariaDB reads such a parameter as NULL, taking none of its bytes: `s = ?` with b'1.5' bound as
  // BIT finds no row, where the bytes read as the string '1.5' would find row 1.
  const lenenc = (s: string): Buffer => Buffer.from([s.length, ...Buffer.from(s)]);
  const cases: Array<[string, string, number, Buffer]> = [
    ['SELECT id FROM t WHERE s = ?', 'BIT', Type.BIT, lenenc('1.5')],
    ['SELECT id FROM t WHERE s = ?', 'GEOMETRY', Type.GEOMETRY, lenenc('1.5')],
    ['SELECT s FROM t WHERE id = ?', 'YEAR', Type.YEAR, Buffer.from([1, 0])],
    ['SELECT s FROM t WHERE id = ?', 'INT24', Type.INT24, Buffer.from([1, 0, 0, 0])],
    ['SELECT s FROM t WHERE id = ?', 'TIME2', Type.TIME2, lenenc('1')],
  ];
  const caches = await fx.rotor.api<Array<{ id: string; sql: string }>>('GET', '/api/caches');
  for (const [sql, name, type, value] of cases) {
    const cache = caches.body.find((c) => c.sql === sql);
    assert.ok(cache !== undefined, sql);
    const hits = await fx.rotor.hits(cache.id);
    const want = await executedAs(fx.db.port, sql, type, value);
    for (let n = 0; n < 2; n++) assert.deepEqual(await executedAs(fx.rotor.rotor.listen.port, sql, type, value), want, `${sql} with a ${name} parameter, read ${n + 1}`);
    assert.equal(await fx.rotor.hits(cache.id), hits, `${sql} with a ${name} parameter: not served`);
  }
  // The same bytes bound as a string are a key.
  const id = caches.body.find((c) => c.sql === 'SELECT id FROM t WHERE s = ?')?.id as string;
  const want = await executedAs(fx.db.port, 'SELECT id FROM t WHERE s = ?', Type.VAR_STRING, lenenc('1.5'));
  for (let n = 0; n < 2; n++) assert.deepEqual(await executedAs(fx.rotor.rotor.listen.port, 'SELECT id FROM t WHERE s = ?', Type.VAR_STRING, lenenc('1.5')), want);
  assert.ok((await fx.rotor.hits(id)) >= 1, 'a string parameter is served');
});

test('an INT column compared with a string answers as MariaDB does, which skips only ASCII spaces around a number', async () => {
  // `'\u00a01'` (a no-break space first) is the number 0 to MariaDB, not 1.
  for (const v of ['\u00a01', '\u30002', '1\u00a0']) {
    const sql = `SELECT id FROM t WHERE id = '${v}'`;
    const r = await fx.answeredIds(sql, [], false);
    assert.equal(r.got, r.want, JSON.stringify(v));
    assert.equal(r.served, false, `${JSON.stringify(v)} is not a key`);
  }
  for (const v of [' 1', '\t2 ', '\r\n3\n', '+4']) {
    const r = await fx.answeredIds(`SELECT id FROM t WHERE id = '${v}'`, [], false);
    assert.equal(r.got, r.want, JSON.stringify(v));
    assert.equal(r.served, true, `${JSON.stringify(v)} is a key`);
  }
});

test('an integer column compared with a DOUBLE parameter beyond 2^53 answers as MariaDB does', async () => {
  // Compared as doubles: -2^63 as a double equals -9223372036854775808 and its neighbours.
  await fx.db.admin.query('CREATE TABLE big (id INT PRIMARY KEY, b BIGINT, KEY (b)); INSERT INTO big VALUES (1, -9223372036854775808), (2, 9223372036854775807), (3, 9007199254740993), (4, 5)');
  await fx.register('SELECT id FROM big WHERE b = ?');
  // As JS numbers (doubles): -2^63, 2^63 (what 9223372036854775807 rounds to), 2^53.
  for (const v of [-(2 ** 63), 2 ** 63, 2 ** 53]) {
    const r = await fx.answeredIds('SELECT id FROM big WHERE b = ?', [v], true);
    assert.equal(r.got, r.want, `b = ${v} (a DOUBLE)`);
    assert.equal(r.served, false);
  }
  assert.deepEqual(await fx.answeredIds('SELECT id FROM big WHERE b = ?', [5], true), { got: '4', want: '4', served: true }, 'a DOUBLE within 2^53 is a key');
});
