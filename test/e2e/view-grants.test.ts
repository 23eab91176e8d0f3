/**
 * [note: view-expansion] [note: cached-grants] A cache over a view is planned over the view's
 * tables, but who may read it is MariaDB's decision on the view: an account granted SELECT on a
 * SQL SECURITY DEFINER view alone is served, one with the base table's grants but none on the view
 * gets MariaDB's own error, an INVOKER view needs the reader's grants on its tables too; a REVOKE
 * on the view refuses again. Through mysql2, against Rotor and MariaDB.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';

let db: TestDatabase;
let rotor: TestRotor;
const ids: Record<string, string> = {};
const suffix = Math.random().toString(36).slice(2, 8);
const users: string[] = [];
const DEFINER = 'SELECT name FROM staff_public WHERE id = 1';
const INVOKER = 'SELECT name FROM staff_invoker WHERE id = 1';

async function createUser(name: string, grants: ReadonlyArray<string>): Promise<string> {
  const user = `${name}_${suffix}`;
  users.push(user);
  await db.admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
  for (const g of grants) await db.admin.query(g.replaceAll('$user', `'${user}'@'%'`));
  return user;
}

/** The rows, or the errno and message the server answered with. */
async function attempt(conn: mysql.Connection, sql: string): Promise<unknown[] | { errno: number; message: string }> {
  try {
    const [rows] = await conn.query({ sql, rowsAsArray: true });
    return rows as unknown[];
  } catch (e) {
    return { errno: (e as { errno: number }).errno, message: (e as Error).message };
  }
}

/** The same statement through Rotor and straight to MariaDB, as `user`. */
async function both(user: string, sql: string): Promise<{ rotor: unknown; direct: unknown }> {
  const viaRotor = await mysql.createConnection({ host: rotor.rotor.listen.host, port: rotor.rotor.listen.port, user, password: 'pw', database: db.name });
  const direct = await mysql.createConnection({ host: db.host, port: db.port, user, password: 'pw', database: db.name });
  try {
    const r = [await attempt(viaRotor, sql), await attempt(viaRotor, sql), await attempt(viaRotor, sql)];
    assert.deepEqual(r[1], r[0]);
    assert.deepEqual(r[2], r[0]);
    return { rotor: r[0], direct: await attempt(direct, sql) };
  } finally {
    await viaRotor.end();
    await direct.end();
  }
}

async function hits(name: string): Promise<number> {
  return (await rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${ids[name]}`)).body.stats.hits;
}

before(async () => {
  db = await freshDatabase('view_grants');
  await db.admin.query(`
    CREATE TABLE staff (id INT PRIMARY KEY, name VARCHAR(20), salary INT, visible TINYINT);
    INSERT INTO staff VALUES (1, 'ann', 100, 1), (2, 'bob', 200, 0);
    CREATE SQL SECURITY DEFINER VIEW staff_public AS SELECT id, name FROM staff WHERE visible = 1;
    CREATE SQL SECURITY INVOKER VIEW staff_invoker AS SELECT id, name FROM staff WHERE visible = 1;
  `);
  rotor = await startTestRotor(db);
  for (const [name, sql] of [['definer', 'SELECT name FROM staff_public WHERE id = ?'], ['invoker', 'SELECT name FROM staff_invoker WHERE id = ?']]) {
    const res = await rotor.api<{ id: string; plan: string[] }>('POST', '/api/caches', { sql, database: db.name });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ids[name] = res.body.id;
  }
  // The test's own account fills the keys, so a leak would be a hit.
  const owner = await rotor.connect();
  for (const sql of [DEFINER, INVOKER]) for (let i = 0; i < 2; i++) await owner.query(sql);
  await owner.end();
});

after(async () => {
  for (const u of users) await db.admin.query(`DROP USER IF EXISTS '${u}'@'%'`).catch(() => undefined);
  await rotor?.stop();
  await db?.drop();
});

describe('caches over views honour MariaDB\'s view privileges', () => {
  it('serves a reader granted SELECT on a DEFINER view alone from the cache', async () => {
    const user = await createUser('viewonly', [`GRANT SELECT ON ${db.name}.staff_public TO $user`]);
    const before = await hits('definer');
    const r = await both(user, DEFINER);
    assert.deepEqual(r.direct, [['ann']]);
    assert.deepEqual(r.rotor, r.direct);
    assert.ok((await hits('definer')) - before >= 2, 'served from the cache after the first read');
  });

  it('refuses a reader with the base table\'s grants but none on the view, with MariaDB\'s own error', async () => {
    const user = await createUser('baseonly', [`GRANT SELECT ON ${db.name}.staff TO $user`]);
    const before = await hits('definer');
    const r = await both(user, DEFINER);
    assert.equal((r.direct as { errno: number }).errno, 1142);
    assert.deepEqual(r.rotor, r.direct);
    assert.equal(await hits('definer'), before, 'never served from the cache');
  });

  it('checks an INVOKER view as the reader: the view\'s grant alone is refused, with the table\'s it is served', async () => {
    const user = await createUser('invoker', [`GRANT SELECT ON ${db.name}.staff_invoker TO $user`]);
    const refused = await both(user, INVOKER);
    assert.equal((refused.direct as { errno: number }).errno, 1356);
    assert.deepEqual(refused.rotor, refused.direct);

    await db.admin.query(`GRANT SELECT (id, name, visible) ON ${db.name}.staff TO '${user}'@'%'`);
    await rotor.caughtUp();
    const before = await hits('invoker');
    const served = await both(user, INVOKER);
    assert.deepEqual(served.direct, [['ann']]);
    assert.deepEqual(served.rotor, served.direct);
    assert.ok((await hits('invoker')) - before >= 2, 'served from the cache once the reader may read the table');
  });

  it('refuses again once a REVOKE on the view reaches Rotor', async () => {
    const user = await createUser('revoked', [`GRANT SELECT ON ${db.name}.staff_public TO $user`]);
    const conn = await mysql.createConnection({ host: rotor.rotor.listen.host, port: rotor.rotor.listen.port, user, password: 'pw', database: db.name });
    try {
      assert.deepEqual(await attempt(conn, DEFINER), [['ann']]);
      await db.admin.query(`REVOKE SELECT ON ${db.name}.staff_public FROM '${user}'@'%'`);
      await rotor.caughtUp();
      const r = await attempt(conn, DEFINER);
      assert.equal((r as { errno: number }).errno, 1142, `MariaDB's error, not the cached row: ${JSON.stringify(r)}`);
    } finally {
      await conn.end();
    }
  });

  it('refuses CREATE CACHE over a view to an account without SHOW VIEW on it (the plan shows the definition)', async () => {
    const user = await createUser('registrar', [`GRANT PROCESS ON *.* TO $user`, `GRANT SELECT ON ${db.name}.staff_public TO $user`]);
    const conn = await mysql.createConnection({ host: rotor.rotor.listen.host, port: rotor.rotor.listen.port, user, password: 'pw', database: db.name });
    try {
      const r = await attempt(conn, 'CREATE CACHE FROM SELECT id FROM staff_public WHERE name = ?');
      assert.equal((r as { errno: number }).errno, 1142, JSON.stringify(r));
      await db.admin.query(`GRANT SHOW VIEW ON ${db.name}.staff_public TO '${user}'@'%'`);
      await rotor.caughtUp();
      const created = await attempt(conn, 'CREATE CACHE FROM SELECT id FROM staff_public WHERE name = ?');
      assert.equal((created as { errno?: number }).errno, undefined, JSON.stringify(created));
      const again = await attempt(conn, 'EXPLAIN CACHE SELECT id FROM staff_public WHERE name = ?');
      assert.ok(Array.isArray(again), JSON.stringify(again));
    } finally {
      await conn.end();
    }
  });

  it('plans the cache again when the view is replaced, and serves the new definition\'s rows', async () => {
    const user = await createUser('replaced', [`GRANT SELECT ON ${db.name}.staff_public TO $user`]);
    await db.admin.query('CREATE OR REPLACE SQL SECURITY DEFINER VIEW staff_public AS SELECT id, name FROM staff WHERE visible = 0');
    await rotor.caughtUp();
    for (let i = 0; ; i++) {
      const c = (await rotor.api<{ status: string }>('GET', `/api/caches/${ids.definer}`)).body;
      if (c.status === 'ready') break;
      assert.ok(i < 200, `the cache was not planned again: ${JSON.stringify(c)}`);
      await new Promise((res) => setTimeout(res, 25));
    }
    const r = await both(user, 'SELECT name FROM staff_public WHERE id = 2');
    assert.deepEqual(r.direct, [['bob']]);
    assert.deepEqual(r.rotor, r.direct);
    const gone = await both(user, DEFINER);
    assert.deepEqual(gone.direct, []);
    assert.deepEqual(gone.rotor, gone.direct);
  });
});
