/**
 * [note: upquery-literals] [note: sql-mode-quoting] Client values cannot escape their literal,
 * whatever the upstream's sql_mode: on a server whose global sql_mode has NO_BACKSLASH_ESCAPES,
 * then ANSI_QUOTES, injection attempts and quoting edge cases sent through cached queries leave
 * every table in place, and every answer (or error) equals MariaDB's own; under
 * PAD_CHAR_TO_FULL_LENGTH, CHAR values as sessions read them. A server of its own: the global
 * sql_mode would change every other test's sessions.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startMariaDb, stopServer, type PrivateServer } from '../../scripts/private-server.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';

const NAME = 'e2e-sqlmode';
let server: PrivateServer;
let db: TestDatabase;

// Statements as a client types them; each must get exactly MariaDB's answer.
const HOSTILE = [
  "SELECT id FROM t WHERE name = 'zz'') OR 1=1); DROP TABLE victim; -- '",
  "SELECT id FROM t WHERE name = 'a\\'",
  "SELECT id FROM t WHERE name = 'a\\' OR name = 'b'",
  "SELECT id FROM t WHERE name = 'it''s'",
  "SELECT id FROM t WHERE name = 'x\\'') OR 1=1 -- '",
  "SELECT id FROM t WHERE name = 'back\\\\slash'",
  "SELECT id FROM t WHERE name = '\\\\'",
  "SELECT id FROM t WHERE name = \"a\\\"",
  "SELECT id FROM t WHERE name = 'nul\\0'",
  "SELECT id FROM t WHERE name = 'a\\_b'",
  "SELECT id FROM t WHERE name = 'c\\%'",
];

before(async () => {
  server = await startMariaDb(NAME);
  db = await freshDatabase('sqlmode', server.url);
  await db.admin.query(`
    CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(64), INDEX (name));
    CREATE TABLE victim (id INT PRIMARY KEY);
    INSERT INTO victim VALUES (1);
  `);
  // Names that only some readings of the statements above produce.
  const names = ["zz') OR 1=1); DROP TABLE victim; -- ", 'a\\', "a' OR name = 'b", "it's", "x\\') OR 1=1 -- ", 'back\\slash', 'back\\\\slash', '\\', 'a"', 'a\\"', 'nul\0', 'nul\\0', 'b', 'x', 'a\\_b', 'a_b', 'c\\%', 'c%'];
  let id = 1;
  for (const n of names) await db.admin.query('INSERT INTO t VALUES (?, ?)', [id++, n]);
});

after(async () => {
  await db?.admin.query("SET GLOBAL sql_mode = DEFAULT").catch(() => undefined);
  await db?.drop();
  await stopServer('mariadb', NAME);
});

async function direct(sql: string): Promise<unknown> {
  const conn = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.name });
  try {
    return await answer(conn, sql);
  } finally {
    await conn.end();
  }
}

async function answer(conn: mysql.Connection, sql: string): Promise<unknown> {
  try {
    const [rows] = await conn.query({ sql, rowsAsArray: true });
    return (rows as unknown[][]).map((r) => r[0]).sort();
  } catch (e) {
    return `error ${(e as { errno: number }).errno}`;
  }
}

/** Each statement through Rotor (twice: relayed, then served or filled) against MariaDB's answer. */
async function compare(rotor: TestRotor, statements: ReadonlyArray<string>): Promise<void> {
  const client = await rotor.connect();
  try {
    for (const sql of statements) {
      const expected = await direct(sql);
      for (let i = 0; i < 3; i++) assert.deepEqual(await answer(client, sql), expected, `${sql} (read ${i + 1})`);
    }
  } finally {
    await client.end();
  }
}

async function tablesSurvive(): Promise<void> {
  const [rows] = await db.admin.query({ sql: 'SELECT COUNT(*) FROM victim', rowsAsArray: true });
  assert.deepEqual(rows, [[1]], 'the victim table is still there');
}

describe('client values under the upstream sql_mode', () => {
  it('NO_BACKSLASH_ESCAPES: a backslash is a character, and no literal escapes', async () => {
    await db.admin.query("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')");
    const rotor = await startTestRotor(db);
    try {
      const reg = await rotor.api('POST', '/api/caches', { sql: 'SELECT id FROM t WHERE name = ?', database: db.name });
      assert.equal(reg.status, 201);
      await compare(rotor, HOSTILE);
      await tablesSurvive();
      const stats = await rotor.api<{ stats: { hits: number; misses: number } }>('GET', `/api/caches/${(reg.body as { id: string }).id}`);
      assert.ok(stats.body.stats.hits > 0, 'the statements were served from the cache');
      const refused = await rotor.api<{ message: string }>('POST', '/api/caches', { sql: "SELECT id FROM t WHERE name = 'a\\\\' AND id = ?", database: db.name });
      assert.equal(refused.status, 422, 'a registration the SQL parser would read otherwise is refused');
    } finally {
      await rotor.stop();
      await db.admin.query('SET GLOBAL sql_mode = DEFAULT');
    }
  });

  it('ANSI_QUOTES: a double-quoted name is an identifier, answered as MariaDB answers it', async () => {
    await db.admin.query("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',ANSI_QUOTES')");
    const rotor = await startTestRotor(db);
    try {
      const reg = await rotor.api('POST', '/api/caches', { sql: 'SELECT id FROM t WHERE name = ?', database: db.name });
      assert.equal(reg.status, 201);
      await compare(rotor, [...HOSTILE, 'SELECT id FROM t WHERE name = "x"', 'SELECT id FROM t WHERE name = "name"', "SELECT id FROM t WHERE name = 'x'"]);
      assert.equal(await direct('SELECT id FROM t WHERE name = "x"'), 'error 1054', 'MariaDB reads "x" as a column');
      await tablesSurvive();
      const refused = await rotor.api('POST', '/api/caches', { sql: 'SELECT id FROM t WHERE name = "x" AND id = ?', database: db.name });
      assert.equal(refused.status, 422);
    } finally {
      await rotor.stop();
      await db.admin.query('SET GLOBAL sql_mode = DEFAULT');
    }
  });

  it('a global time_zone other than UTC: caches over TIMESTAMP columns answer from MariaDB, saying why', async () => {
    await db.admin.query(`CREATE TABLE IF NOT EXISTS stamped (id INT PRIMARY KEY, at TIMESTAMP NULL, n INT);
      REPLACE INTO stamped VALUES (1, '2024-06-01 12:00:00', 5)`);
    await db.admin.query("SET GLOBAL time_zone = '+02:00'");
    const rotor = await startTestRotor(db);
    try {
      const stamped = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT at FROM stamped WHERE id = ?', database: db.name });
      const plain = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT n FROM stamped WHERE id = ?', database: db.name });
      await compare(rotor, ['SELECT at FROM stamped WHERE id = 1', 'SELECT n FROM stamped WHERE id = 1']);
      const hits = async (id: string) => (await rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${id}`)).body.stats.hits;
      assert.equal(await hits(stamped.body.id), 0, 'TIMESTAMPs go upstream');
      assert.ok((await hits(plain.body.id)) > 0, 'other caches still answer');
      const status = await rotor.api<{ queries: { notCachedReasons: Record<string, number> } }>('GET', '/api/status');
      assert.ok(Object.keys(status.body.queries.notCachedReasons).some((r) => /time_zone is \+02:00/.test(r)));
    } finally {
      await rotor.stop();
      await db.admin.query('SET GLOBAL time_zone = DEFAULT');
    }
  });

  it('PAD_CHAR_TO_FULL_LENGTH: caches answering CHAR values answer from MariaDB, saying why', async () => {
    await db.admin.query(`CREATE TABLE IF NOT EXISTS padded (id INT PRIMARY KEY, k INT, c CHAR(5), INDEX (k));
      REPLACE INTO padded VALUES (1, 1, 'ab'), (2, 1, 'x')`);
    await db.admin.query("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',PAD_CHAR_TO_FULL_LENGTH')");
    const rotor = await startTestRotor(db);
    try {
      const chars = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT id, c FROM padded WHERE k = ?', database: db.name });
      const plain = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT id FROM padded WHERE k = ?', database: db.name });
      const reads = ['SELECT id, c FROM padded WHERE k = 1', 'SELECT id FROM padded WHERE k = 1'];
      const client = await rotor.connect();
      // Opened after the global changed, as a session that reads CHARs padded (db.admin was opened before).
      const plainSession = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.name });
      const rows = async (conn: mysql.Connection, sql: string) => ((await conn.query({ sql, rowsAsArray: true }))[0] as unknown[][]).map((r) => JSON.stringify(r)).sort();
      const same = async () => {
        for (const sql of reads) for (let i = 0; i < 3; i++) assert.deepEqual(await rows(client, sql), await rows(plainSession, sql), `${sql} (read ${i + 1})`);
      };
      try {
        await same();
        // A row that reaches Rotor through the binlog, where CHARs are never padded.
        await db.admin.query("INSERT INTO padded VALUES (3, 1, 'cd')");
        await rotor.caughtUp();
        await same();
      } finally {
        await client.end();
        await plainSession.end();
      }
      const hits = async (id: string) => (await rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${id}`)).body.stats.hits;
      assert.equal(await hits(chars.body.id), 0, 'CHAR values go upstream');
      assert.ok((await hits(plain.body.id)) > 0, 'other caches still answer');
      const status = await rotor.api<{ queries: { notCachedReasons: Record<string, number> } }>('GET', '/api/status');
      assert.ok(Object.keys(status.body.queries.notCachedReasons).some((r) => /PAD_CHAR_TO_FULL_LENGTH/.test(r)));
    } finally {
      await rotor.stop();
      await db.admin.query('SET GLOBAL sql_mode = DEFAULT');
    }
  });

  it('the default sql_mode: backslash escapes, the same statements', async () => {
    const rotor = await startTestRotor(db);
    try {
      await rotor.api('POST', '/api/caches', { sql: 'SELECT id FROM t WHERE name = ?', database: db.name });
      await compare(rotor, HOSTILE);
      await tablesSurvive();
    } finally {
      await rotor.stop();
    }
  });

  it('one Rotor, both sql_modes: a statement text routed under one is routed again under the other ([note: route-memo])', async () => {
    const rotor = await startTestRotor(db);
    try {
      const reg = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT id FROM t WHERE name = ?', database: db.name });
      await compare(rotor, HOSTILE);
      // Sessions opened from now on start with NO_BACKSLASH_ESCAPES: the same texts hold other literals.
      await db.admin.query("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')");
      await compare(rotor, HOSTILE);
      await db.admin.query('SET GLOBAL sql_mode = DEFAULT');
      await compare(rotor, HOSTILE);
      await tablesSurvive();
      const stats = await rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${reg.body.id}`);
      assert.ok(stats.body.stats.hits > 0, 'the statements were served from the cache');
    } finally {
      await rotor.stop();
      await db.admin.query('SET GLOBAL sql_mode = DEFAULT');
    }
  });
});
