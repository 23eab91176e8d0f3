/**
 * [note: cached-grants] [note: view-expansion] The grants check of a cache over a view, on a real
 * session: the prepare naming the view is MariaDB's check; SHOW CREATE TABLE of the view, refused
 * without SHOW VIEW, still tells that the name is the view and not a temporary table, which takes
 * its place for the session that made it.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { mayRead, type Prober } from '../../src/views/privileges.js';
import { qualifiedQuery } from '../../src/planner/parse.js';

let db: TestDatabase;
let conn: mysql.Connection;
const user = `vp_${Math.random().toString(36).slice(2, 8)}`;

before(async () => {
  db = await freshDatabase('view_privileges');
  await db.admin.query(`
    CREATE TABLE staff (id INT PRIMARY KEY, name VARCHAR(20), visible TINYINT);
    CREATE VIEW staff_public AS SELECT id, name FROM staff WHERE visible = 1;
    CREATE USER '${user}'@'%' IDENTIFIED BY 'pw';
    GRANT SELECT ON ${db.name}.staff_public TO '${user}'@'%';
    GRANT CREATE TEMPORARY TABLES ON ${db.name}.* TO '${user}'@'%';
  `);
  conn = await mysql.createConnection({ host: db.host, port: db.port, user, password: 'pw', database: db.name });
});

after(async () => {
  await conn?.end();
  await db.admin.query(`DROP USER IF EXISTS '${user}'@'%'`).catch(() => undefined);
  await db?.drop();
});

const error = (e: unknown) => ({ errno: (e as { errno: number }).errno, sqlState: String((e as { sqlState?: string }).sqlState ?? ''), message: (e as Error).message });

/** The session's own connection as a SessionView's probes. */
const prober = (): Prober => ({
  probe: async (sql) => {
    try {
      const s = await conn.prepare(sql);
      s.close();
      return null;
    } catch (e) {
      return error(e);
    }
  },
  probeRow: async (sql) => {
    try {
      const [rows] = await conn.query({ sql, rowsAsArray: true });
      return ((rows as unknown[][])[0] ?? null) as ReadonlyArray<string | null> | null;
    } catch (e) {
      return error(e);
    }
  },
});

it('lets a reader granted the view alone read it, refuses SHOW VIEW\'s check to cache commands, and sees a temporary table in its place', async () => {
  const query = qualifiedQuery('SELECT name FROM staff_public WHERE id = ?', db.name);
  assert.ok(query !== null);
  const views = new Set([`${db.name}\0staff_public`]);
  assert.equal(await mayRead(prober(), query, views), null);
  // Without knowing the name is a view (a cache command's check), SHOW VIEW is required.
  const refused = await mayRead(prober(), query);
  assert.ok(refused !== null && refused.kind === 'error' && refused.errno === 1142, JSON.stringify(refused));
  await conn.query('CREATE TEMPORARY TABLE staff_public (id INT, name VARCHAR(20))');
  const shadowed = await mayRead(prober(), query, views);
  assert.ok(shadowed !== null && shadowed.kind === 'error' && /temporary table/i.test(shadowed.message), JSON.stringify(shadowed));
});
