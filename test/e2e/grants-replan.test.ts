/**
 * [note: cached-grants] A session's check of a cache holds for the query that was checked: a cache
 * planned again after ALTER TABLE keeps its id, but `SELECT *` now reads a column the user may not
 * have been granted, so the session is checked again before the new plan answers it.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';

let db: TestDatabase;
let rotor: TestRotor;
const user = `cols_${Math.random().toString(36).slice(2, 8)}`;

before(async () => {
  db = await freshDatabase('grants_replan');
  await db.admin.query(`
    CREATE TABLE doc (id INT PRIMARY KEY, v VARCHAR(20));
    INSERT INTO doc VALUES (1, 'public');
    CREATE USER '${user}'@'%' IDENTIFIED BY 'pw';
    GRANT SELECT (id, v) ON ${db.name}.doc TO '${user}'@'%';
    GRANT INSERT ON ${db.name}.doc TO '${user}'@'%';
  `);
  rotor = await startTestRotor(db);
});

after(async () => {
  await db.admin.query(`DROP USER IF EXISTS '${user}'@'%'`).catch(() => undefined);
  await rotor?.stop();
  await db?.drop();
});

async function attempt(conn: mysql.Connection, sql: string): Promise<unknown[] | number> {
  try {
    const [rows] = await conn.query({ sql, rowsAsArray: true });
    return rows as unknown[];
  } catch (e) {
    return (e as { errno: number }).errno;
  }
}

it('a cache planned again after ALTER TABLE is checked again before it answers a session checked for the old plan', async () => {
  const reg = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT * FROM doc WHERE id = ?', database: db.name });
  assert.equal(reg.status, 201);
  const id = reg.body.id;
  const conn = await mysql.createConnection({ host: rotor.rotor.listen.host, port: rotor.rotor.listen.port, user, password: 'pw', database: db.name });
  try {
    const read = 'SELECT * FROM doc WHERE id = 1';
    const hits = async (): Promise<number> => (await rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${id}`)).body.stats.hits;
    for (let i = 0; (await hits()) === 0; i++) {
      assert.ok(i < 50, 'the user was never served from the cache');
      assert.deepEqual(await attempt(conn, read), [[1, 'public']]);
      await sleep(20);
    }
    await db.admin.query("ALTER TABLE doc ADD COLUMN secret VARCHAR(20) NOT NULL DEFAULT 'classified'");
    // The cache is planned again over the new column.
    for (let i = 0; ; i++) {
      const c = (await rotor.api<{ status: string; plan: string[] }>('GET', `/api/caches/${id}`)).body;
      if (c.status === 'ready' && JSON.stringify(c.plan).includes('secret')) break;
      assert.ok(i < 200, `the cache was not planned again: ${JSON.stringify(c)}`);
      await sleep(50);
    }
    const direct = await mysql.createConnection({ host: db.host, port: db.port, user, password: 'pw', database: db.name });
    const own = await attempt(direct, read);
    await direct.end();
    assert.equal(typeof own, 'number', 'MariaDB refuses the user\'s SELECT * now');
    for (let i = 0; i < 3; i++) assert.equal(await attempt(conn, read), own, 'MariaDB\'s own error, never the new column');
  } finally {
    await conn.end();
  }
});
