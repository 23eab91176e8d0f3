import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import * as mariadb from 'mariadb';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startProxy, type RunningProxy } from './support.js';

let db: TestDatabase;
let rotor: RunningProxy;

const SETUP = `
CREATE TABLE kinds (
  id INT PRIMARY KEY AUTO_INCREMENT, ti TINYINT, u BIGINT UNSIGNED, big BIGINT, d DECIMAL(20,6), f FLOAT, dbl DOUBLE,
  dt DATE, dtt DATETIME(3), ts TIMESTAMP NULL, tm TIME, y YEAR, s VARCHAR(50), t TEXT, l1 VARCHAR(20) CHARACTER SET latin1,
  b VARBINARY(20), bl BLOB, e ENUM('x','y'), st SET('a','b'), j JSON, bt BIT(5)
);
INSERT INTO kinds (ti,u,big,d,f,dbl,dt,dtt,ts,tm,y,s,t,l1,b,bl,e,st,j,bt) VALUES
  (-128, 18446744073709551615, -9223372036854775808, 123456.000001, 1.1, 2.5e-300, '2024-02-29', '2024-02-29 13:14:15.123',
   '2024-03-01 00:00:00', '-838:59:59', 2024, 'héllo', REPEAT('x', 300), 'café', 0x00FF, 0x01020304, 'y', 'a,b', '{"a": [1, 2]}', b'10101'),
  (NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL),
  (127, 0, 42, -0.5, -3.4e38, 1e20, '0000-00-00', '1999-12-31 23:59:59', '2038-01-19 03:14:07', '00:00:00.5', 1901, '', '', '', '', '', 'x', '', 'null', b'0');
`;

before(async () => {
  db = await freshDatabase('proxy_mysql2');
  await db.admin.query("SET SESSION sql_mode = ''");
  await db.admin.query(SETUP);
  rotor = await startProxy({ host: db.host, port: db.port });
});

after(async () => {
  await rotor?.close();
  await db?.drop();
});

function connectMysql2(port: number): Promise<mysql.Connection> {
  return mysql.createConnection({
    host: '127.0.0.1', port, user: db.user, password: db.password, database: db.name, multipleStatements: true,
    supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, timezone: 'Z',
  });
}

/** Field metadata without what legitimately differs between two connections. */
function fieldsOf(fields: unknown): unknown {
  if (!Array.isArray(fields)) return fields;
  return fields.map((f) => {
    if (Array.isArray(f)) return fieldsOf(f);
    const o = f as Record<string, unknown>;
    const keys = ['catalog', 'schema', 'db', 'table', 'orgTable', 'name', 'orgName', 'characterSet', 'columnLength', 'columnType', 'type', 'flags', 'decimals', 'encoding'];
    return Object.fromEntries(keys.map((k) => [k, o[k]]));
  });
}

async function both<T>(run: (c: mysql.Connection) => Promise<T>): Promise<[T, T]> {
  const direct = await connectMysql2(db.port);
  const proxied = await connectMysql2(rotor.port);
  try {
    return [await run(direct), await run(proxied)];
  } finally {
    await direct.end();
    await proxied.end();
  }
}

const SELECTS = [
  'SELECT * FROM kinds ORDER BY id',
  'SELECT COUNT(*), SUM(d), AVG(dbl), MAX(s), GROUP_CONCAT(e) FROM kinds',
  'SELECT 1 AS one, NULL AS n, 1.5 AS dec1, 1e3 AS dbl1, NOW() - NOW() AS z, CAST(1 AS UNSIGNED) AS u',
  'SELECT * FROM kinds WHERE id < 0',
];

test('mysql2 query() returns the same rows and column metadata through Rotor as direct', async () => {
  const [a, b] = await both(async (c) => {
    const out = [];
    for (const sql of SELECTS) {
      const [rows, fields] = await c.query(sql);
      out.push({ rows, fields: fieldsOf(fields) });
    }
    return out;
  });
  assert.deepEqual(b, a);
});

test('mysql2 execute() (binary protocol) returns the same rows and metadata through Rotor, with parameters of every kind', async () => {
  const [a, b] = await both(async (c) => {
    const out = [];
    for (const sql of SELECTS) {
      const [rows, fields] = await c.execute(sql);
      out.push({ rows, fields: fieldsOf(fields) });
    }
    const [rows] = await c.execute('SELECT id, s FROM kinds WHERE id IN (?, ?) OR s = ? OR dt = ? ORDER BY id', [1, 3, 'héllo', '2024-02-29']);
    out.push(rows);
    // The second execution omits the parameter types: the server remembers them.
    for (const id of [1, 2, 3]) out.push((await c.execute('SELECT id, ti, dtt FROM kinds WHERE id = ?', [id]))[0]);
    return out;
  });
  assert.deepEqual(b, a);
});

test('writes report the same affected rows, insert ids, info, warnings and errors through Rotor', async () => {
  const [a, b] = await both(async (c) => {
    await c.query('CREATE TEMPORARY TABLE w (id INT PRIMARY KEY AUTO_INCREMENT, v TINYINT)');
    const out: unknown[] = [];
    out.push((await c.query('INSERT INTO w (v) VALUES (1), (2), (3)'))[0]);
    out.push((await c.query('UPDATE w SET v = v + 1 WHERE id > 1'))[0]);
    out.push((await c.execute('INSERT INTO w (v) VALUES (?)', [4]))[0]);
    await c.query("SET SESSION sql_mode = ''");
    out.push((await c.query('INSERT INTO w (v) VALUES (1000)'))[0]);
    out.push((await c.query('SHOW WARNINGS'))[0]);
    for (const bad of ['SELECT * FROM no_such_table', 'SELEC 1', 'INSERT INTO w (id) VALUES (1)']) {
      const err = await c.query(bad).then(() => null, (e: { errno: number; sqlState: string; sqlMessage: string }) => [e.errno, e.sqlState, e.sqlMessage]);
      out.push(err);
    }
    out.push(await c.execute('SELECT * FROM no_such_table').catch((e: { errno: number; sqlMessage: string }) => [e.errno, e.sqlMessage]));
    return out;
  });
  assert.deepEqual(b, a);
  assert.ok(JSON.stringify(a).includes('1146'));
});

test('multi-statements and multiple result sets arrive whole through Rotor, also from a stored procedure', async () => {
  await db.admin.query('CREATE PROCEDURE two() BEGIN SELECT 1 AS a; SELECT s FROM kinds ORDER BY id; END');
  const [a, b] = await both(async (c) => {
    const out: unknown[] = [];
    out.push((await c.query('SELECT 1 AS x; UPDATE kinds SET ti = ti WHERE id = 1; SELECT id FROM kinds ORDER BY id; DO 1'))[0]);
    out.push((await c.query('CALL two()'))[0]);
    out.push(await c.query('SELECT 1; SELECT * FROM missing; SELECT 2').catch((e: { errno: number }) => e.errno));
    out.push((await c.query('SELECT 3 AS after_error'))[0]);
    return out;
  });
  assert.deepEqual(b, a);
});

test('changeUser re-authenticates through Rotor and resets the database', async () => {
  const c = await connectMysql2(rotor.port);
  try {
    await c.changeUser({ user: db.user, password: db.password, database: 'mysql' });
    const [rows] = await c.query('SELECT DATABASE() AS d, CURRENT_USER() AS u');
    assert.equal((rows as Array<{ d: string }>)[0].d, 'mysql');
    await assert.rejects(c.changeUser({ user: db.user, password: 'wrong' }), (e: { errno: number }) => e.errno === 1045);
  } finally {
    c.destroy();
  }
});

test('a packet larger than 16 MiB travels both ways through Rotor', async () => {
  await db.admin.query('SET GLOBAL max_allowed_packet = 67108864');
  await db.admin.query('CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB)');
  const big = Buffer.alloc(17 * 1024 * 1024 + 3, 0x5a);
  big[0] = 0xfe;
  const c = await connectMysql2(rotor.port);
  try {
    await c.query('INSERT INTO blobs VALUES (1, ?)', [big]);
    await c.execute('INSERT INTO blobs VALUES (2, ?)', [big]);
    const [rows] = await c.query('SELECT id, b FROM blobs ORDER BY id');
    const [brows] = await c.execute('SELECT b FROM blobs WHERE id = ?', [2]);
    const list = rows as Array<{ id: number; b: Buffer }>;
    assert.equal(list.length, 2);
    assert.ok(list[0].b.equals(big) && list[1].b.equals(big));
    assert.ok((brows as Array<{ b: Buffer }>)[0].b.equals(big));
    const [again] = await c.query('SELECT 1 AS still_in_sync');
    assert.deepEqual(again, [{ still_in_sync: 1 }]);
  } finally {
    await c.end();
  }
});

test('the mariadb connector gets the same answers through Rotor as direct, text and binary', async () => {
  const run = async (port: number): Promise<unknown[]> => {
    const c = await mariadb.createConnection({
      host: '127.0.0.1', port, user: db.user, password: db.password, database: db.name, multipleStatements: true,
      bigIntAsNumber: false, dateStrings: true, timezone: 'Z', rowsAsArray: true,
    });
    try {
      const out: unknown[] = [];
      for (const sql of SELECTS) out.push(await c.query(sql), await c.execute(sql));
      out.push(await c.execute('SELECT id, s FROM kinds WHERE id = ? OR s = ?', [3, 'héllo']));
      out.push(await c.query('SELECT 1 AS a; SELECT 2 AS b'));
      await c.query('CREATE TEMPORARY TABLE m (id INT PRIMARY KEY AUTO_INCREMENT, v INT)');
      out.push(await c.batch('INSERT INTO m (v) VALUES (?)', [[1], [2], [3]]));
      out.push(await c.query('SELECT * FROM m'));
      await c.reset();
      out.push(await c.query('SELECT DATABASE()'));
      out.push(await c.query('SELECT * FROM m').catch((e: { errno: number }) => e.errno));
      await c.ping();
      return JSON.parse(JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    } finally {
      await c.end();
    }
  };
  assert.deepEqual(await run(rotor.port), await run(db.port));
});
