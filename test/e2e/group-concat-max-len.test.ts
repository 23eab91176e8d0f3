/**
 * `group_concat_max_len` decides where GROUP_CONCAT cuts its value (at a byte count, back to the
 * longest well-formed prefix: a multibyte character is never split, a binary string is cut at the
 * byte) and what type and length its result column has (VARCHAR up to 512, then TEXT or BLOB).
 * Rotor reads the upstream's global value at start and on every refresh, fills with it
 * ([note: group-concat-refill]) and plans the caches with GROUP_CONCAT again when it changes; a
 * session that sets its own value goes upstream (BLOCKING_SETTING in src/proxy/statement-checks.ts).
 * A server of its own: the global value would change every other test's answers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startMariaDb, stopServer, type PrivateServer } from '../../scripts/private-server.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';
import { until } from '../support/until.js';

const NAME = 'e2e-gconcat';
let server: PrivateServer;
let db: TestDatabase;
let rotor: TestRotor;

const rawText = { typeCast: (field: { string(encoding?: string): string | null; buffer(): Buffer | null }) => field.buffer()?.toString('hex') ?? null };
const QUERIES = [
  "SELECT k, GROUP_CONCAT(s ORDER BY id SEPARATOR '€'), GROUP_CONCAT(l ORDER BY id), GROUP_CONCAT(b ORDER BY id) FROM c WHERE k = ? GROUP BY k",
  'SELECT GROUP_CONCAT(DISTINCT n ORDER BY n DESC), COUNT(*) FROM c WHERE k = ?',
];

before(async () => {
  server = await startMariaDb(NAME);
  db = await freshDatabase('gconcat', server.url);
  await db.admin.query(`
    CREATE TABLE c (id INT PRIMARY KEY, k INT, s VARCHAR(20) COLLATE utf8mb4_general_ci, l VARCHAR(20) CHARACTER SET latin1, b VARBINARY(8), n INT, INDEX (k));
    INSERT INTO c VALUES (1, 1, 'aé', 'é', x'c3a9', 10), (2, 1, '€x', 'ü', x'e282ac', 200), (3, 1, '😀', 'x', x'00', 3000), (4, 2, 'plain', 'p', x'41', 7);
  `);
  await db.admin.query('SET GLOBAL group_concat_max_len = 9');
  rotor = await startTestRotor(db, { privilegeRefresh: '200' });
});

after(async () => {
  await rotor?.stop();
  await db?.admin.query('SET GLOBAL group_concat_max_len = DEFAULT').catch(() => undefined);
  await db?.drop();
  await stopServer('mariadb', NAME);
});

/** Opens a connection straight to MariaDB, which starts with the global value. */
function directConnection(): Promise<mysql.Connection> {
  return mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.name });
}

/** The bytes MariaDB printed (text and binary protocol), and the result columns' definitions. */
async function answers(conn: mysql.Connection, sql: string, params: number[]): Promise<unknown> {
  const [text, fields] = await conn.query({ sql: sql.replace('?', String(params[0])), rowsAsArray: true, ...rawText });
  const [binary] = await conn.execute({ sql, rowsAsArray: true }, params);
  const columns = (fields as mysql.FieldPacket[]).map((f) => ({ type: f.columnType, length: f.columnLength, charset: f.characterSet, flags: f.flags }));
  return { text, binary, columns };
}

async function compare(client: mysql.Connection, direct: mysql.Connection): Promise<void> {
  await rotor.caughtUp();
  for (const k of [1, 2, 3]) {
    for (const q of QUERIES) {
      const want = await answers(direct, q, [k]);
      for (let i = 0; i < 2; i++) assert.deepEqual(await answers(client, q, [k]), want, `${q} for ${k} (read ${i + 1})`);
    }
  }
}

async function served(id: string): Promise<number> {
  const s = (await rotor.api<{ stats: { hits: number; misses: number } }>('GET', `/api/caches/${id}`)).body.stats;
  return s.hits + s.misses;
}

test('GROUP_CONCAT is cut, typed and sized by the upstream\'s global group_concat_max_len, read at start and when it changes', async () => {
  const ids: string[] = [];
  for (const sql of QUERIES) {
    const res = await rotor.api<{ id: string }>('POST', '/api/caches', { sql, database: db.name });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ids.push(res.body.id);
  }
  let client = await rotor.connect(), direct = await directConnection();
  try {
    await compare(client, direct);
    // Cut at 9 bytes: 'aé€€' is 9 (a 1, é 2, € 3), the 'x' after it is not shown; latin1 counts 1 a character.
    const [cut] = await client.query({ sql: "SELECT k, GROUP_CONCAT(s ORDER BY id SEPARATOR '€'), GROUP_CONCAT(l ORDER BY id), GROUP_CONCAT(b ORDER BY id) FROM c WHERE k = 1 GROUP BY k", rowsAsArray: true });
    assert.deepEqual((cut as unknown[][])[0].slice(1, 3), ['aé€€', 'é,ü,x']);
    await db.admin.query("INSERT INTO c VALUES (5, 1, 'z', 'z', x'7a', 10), (6, 3, NULL, NULL, NULL, NULL)");
    await db.admin.query("UPDATE c SET s = 'ß' WHERE id = 2");
    await compare(client, direct);
    const before = await Promise.all(ids.map(served));
    assert.ok(before.every((n) => n > 0), 'answered from Rotor');

    // 600 bytes: the result columns become TEXT/BLOB; sessions opened after the change start with it.
    await db.admin.query('SET GLOBAL group_concat_max_len = 600');
    await client.end();
    await direct.end();
    client = await rotor.connect();
    direct = await directConnection();
    await until('the caches were planned again', 30_000, async () => {
      const ready = await rotor.api<Array<{ id: string; status: string }>>('GET', '/api/caches');
      const caches = ready.body.filter((c) => ids.includes(c.id));
      return caches.length === ids.length && caches.every((c) => c.status === 'ready') && rotor.rotor.engine.groupConcatMaxLen === 600;
    });
    await compare(client, direct);
    await db.admin.query('DELETE FROM c WHERE id = 1');
    await compare(client, direct);
    const after = await Promise.all(ids.map(served));
    assert.ok(after.every((n) => n > 0), `answered from Rotor after the change: ${after.join(', ')}`);
  } finally {
    await client.end();
    await direct.end();
  }
});

test('a session with its own group_concat_max_len reads from MariaDB', async () => {
  const client = await rotor.connect();
  const direct = await directConnection();
  try {
    await client.query('SET SESSION group_concat_max_len = 4');
    await direct.query('SET SESSION group_concat_max_len = 4');
    await compare(client, direct);
    const status = await rotor.api<{ queries: { notCachedReasons: Record<string, number> } }>('GET', '/api/status');
    assert.ok(Object.keys(status.body.queries.notCachedReasons).some((r) => /group_concat_max_len/.test(r)), JSON.stringify(status.body.queries.notCachedReasons));
  } finally {
    await client.end();
    await direct.end();
  }
});
