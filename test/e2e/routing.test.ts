/**
 * [note: scoped-key] Routing finds the cache that reads the statement's tables: the same query text
 * registered in two databases (a database per tenant) serves each database's sessions from its own
 * cache, a table named with its database (`shop.fan_count`) reaches the cache over that table from
 * any session, and a cache dropped with its database does not hide the one registered again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';

let db: TestDatabase;
let other: string;
let rotor: TestRotor;
const QUERY = 'SELECT fans FROM fan_count WHERE item_id = ?';
const ids: Record<string, string> = {};

async function register(database: string): Promise<string> {
  const r = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: QUERY, database });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

const hits = (id: string): Promise<number> => rotor.hits(id);

async function fans(conn: mysql.Connection, sql: string, values?: unknown[]): Promise<unknown> {
  const [rows] = values === undefined ? await conn.query({ sql, rowsAsArray: true }) : await conn.execute({ sql, values, rowsAsArray: true });
  return (rows as unknown[][])[0]?.[0];
}

before(async () => {
  db = await freshDatabase('e2e_routing');
  other = `${db.name}_b`;
  await db.admin.query(`CREATE DATABASE \`${other}\``);
  for (const [name, base] of [[db.name, 100], [other, 200]] as const) {
    await db.admin.query(`CREATE TABLE \`${name}\`.fan_count (item_id INT PRIMARY KEY, fans INT NOT NULL)`);
    await db.admin.query(`INSERT INTO \`${name}\`.fan_count VALUES (1, ${base + 1}), (2, ${base + 2})`);
  }
  rotor = await startTestRotor(db);
  ids.a = await register(db.name);
  ids.b = await register(other);
  assert.notEqual(ids.a, ids.b);
});

after(async () => {
  await rotor?.stop();
  await db?.admin.query(`DROP DATABASE IF EXISTS \`${other}\``);
  await db?.drop();
});

test('the same query in two databases: each database\'s sessions are served from their own cache', async () => {
  const a = await rotor.connect();
  const b = await rotor.connect({ database: other });
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal(await fans(a, 'SELECT fans FROM fan_count WHERE item_id = 1'), 101);
      assert.equal(await fans(b, 'SELECT fans FROM fan_count WHERE item_id = 1'), 201);
      assert.equal(await fans(a, QUERY, [2]), 102);
      assert.equal(await fans(b, QUERY, [2]), 202);
    }
    const [ha, hb] = [await hits(ids.a), await hits(ids.b)];
    assert.ok(ha >= 4 && hb >= 4, `both caches serve (hits ${ha}, ${hb})`);
    // USE moves an unqualified read to the other database's cache.
    await a.query(`USE \`${other}\``);
    assert.equal(await fans(a, 'SELECT fans FROM fan_count WHERE item_id = 1'), 201);
    assert.equal(await hits(ids.b), hb + 1);
    assert.equal(await hits(ids.a), ha);
  } finally {
    await a.end();
    await b.end();
  }
});

test('a table named with its database reaches the cache over it, from any database or none', async () => {
  const a = await rotor.connect();
  const none = await rotor.connect({ database: undefined });
  try {
    const hb = await hits(ids.b);
    const ha = await hits(ids.a);
    for (let i = 0; i < 2; i++) {
      assert.equal(await fans(a, `SELECT fans FROM \`${other}\`.fan_count WHERE item_id = 1`), 201);
      assert.equal(await fans(none, `SELECT fans FROM ${db.name}.fan_count WHERE item_id = 2`), 102);
      assert.equal(await fans(none, `SELECT fans FROM \`${other}\`.\`fan_count\` WHERE item_id = ?`, [2]), 202);
    }
    assert.equal(await hits(ids.b), hb + 4);
    assert.equal(await hits(ids.a), ha + 2);
    // No database, an unqualified table: MariaDB's own error (1046), nothing served.
    await assert.rejects(none.query('SELECT fans FROM fan_count WHERE item_id = 1'), (e: { errno?: number }) => e.errno === 1046);
  } finally {
    await a.end();
    await none.end();
  }
});

test('a cache dropped with its database gives way to the same query registered again', async () => {
  const c = `${db.name}_c`;
  await db.admin.query(`CREATE DATABASE \`${c}\`; CREATE TABLE \`${c}\`.fan_count (item_id INT PRIMARY KEY, fans INT NOT NULL); INSERT INTO \`${c}\`.fan_count VALUES (1, 301)`);
  try {
    const first = await register(c);
    const conn = await rotor.connect({ database: c });
    try {
      assert.equal(await fans(conn, 'SELECT fans FROM fan_count WHERE item_id = 1'), 301);
      await db.admin.query(`DROP DATABASE \`${c}\``);
      await rotor.caughtUp();
      // The DDL is applied first (invalidated), then the schema refresh finds the table gone.
      let status = '';
      for (let i = 0; i < 100 && status !== 'dropped'; i++) {
        status = (await rotor.api<{ status: string }>('GET', `/api/caches/${first}`)).body.status;
        if (status !== 'dropped') await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 'dropped');
      await db.admin.query(`CREATE DATABASE \`${c}\`; CREATE TABLE \`${c}\`.fan_count (item_id INT PRIMARY KEY, fans INT NOT NULL); INSERT INTO \`${c}\`.fan_count VALUES (1, 302)`);
      await rotor.caughtUp();
      const again = await register(c);
      const h0 = await hits(again);
      for (let i = 0; i < 3; i++) assert.equal(await fans(conn, 'SELECT fans FROM fan_count WHERE item_id = 1'), 302);
      assert.ok(await hits(again) >= h0 + 2, 'the new cache serves');
    } finally {
      await conn.end();
    }
  } finally {
    await db.admin.query(`DROP DATABASE IF EXISTS \`${c}\``);
  }
});
