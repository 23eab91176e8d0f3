/**
 * `div_precision_increment` decides AVG's digits. Rotor reads the upstream's global value at start
 * and on every refresh, and plans caches with AVG again when it changes; a session that sets its
 * own value goes upstream (BLOCKING_SETTING in src/proxy/statement-checks.ts). A server of its own:
 * the global value would change every other test's answers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMariaDb, stopServer, type PrivateServer } from '../../scripts/private-server.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';

const NAME = 'e2e-divprec';
let server: PrivateServer;
let db: TestDatabase;
let rotor: TestRotor;

const rawText = { typeCast: (field: { string(): string | null }) => field.string() };
const AVGS = 'SELECT AVG(n), AVG(x), AVG(f), SUM(x) FROM a WHERE k = ?';
const HAVING = 'SELECT k, AVG(n) FROM a WHERE k = ? GROUP BY k HAVING AVG(n) > 1.6666667';

before(async () => {
  server = await startMariaDb(NAME);
  db = await freshDatabase('divprec', server.url);
  await db.admin.query(`
    CREATE TABLE a (id INT PRIMARY KEY, k INT, n INT, x DECIMAL(10,2), f FLOAT, INDEX (k));
    INSERT INTO a VALUES (1, 1, 1, 1.00, 0.1), (2, 1, 2, 2.50, 0.2), (3, 1, 2, 0.01, 0.3), (4, 2, 7, -1.25, 1.5);
  `);
  await db.admin.query('SET GLOBAL div_precision_increment = 7');
  rotor = await startTestRotor(db, { privilegeRefresh: '200' });
});

after(async () => {
  await rotor?.stop();
  await db?.admin.query('SET GLOBAL div_precision_increment = DEFAULT').catch(() => undefined);
  await db?.drop();
  await stopServer('mariadb', NAME);
});

/** Opens a connection straight to MariaDB, which starts with the global value. */
function directConnection(): Promise<mysql.Connection> {
  return mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.name });
}

/** Rows in text (the bytes MariaDB printed) and binary, and the columns' decimals. */
async function answers(conn: mysql.Connection, sql: string, prepared: string, params: number[]): Promise<unknown> {
  const [text, fields] = await conn.query({ sql, rowsAsArray: true, ...rawText });
  const [binary] = await conn.execute({ sql: prepared, rowsAsArray: true }, params);
  return { text, binary, decimals: (fields as mysql.FieldPacket[]).map((f) => f.decimals) };
}

async function compare(client: mysql.Connection, direct: mysql.Connection): Promise<void> {
  await rotor.caughtUp();
  for (const k of [1, 2, 3]) {
    for (const q of [AVGS, HAVING]) {
      const want = await answers(direct, q.replace('?', String(k)), q, [k]);
      for (let i = 0; i < 2; i++) assert.deepEqual(await answers(client, q.replace('?', String(k)), q, [k]), want, `${q} for ${k} (read ${i + 1})`);
    }
  }
}

async function served(id: string): Promise<number> {
  const s = (await rotor.api<{ stats: { hits: number; misses: number } }>('GET', `/api/caches/${id}`)).body.stats;
  return s.hits + s.misses;
}

test('AVG has the digits of the upstream\'s global div_precision_increment, read at start and when it changes', async () => {
  const ids: string[] = [];
  for (const sql of [AVGS, HAVING]) {
    const res = await rotor.api<{ id: string }>('POST', '/api/caches', { sql, database: db.name });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ids.push(res.body.id);
  }
  let client = await rotor.connect(), direct = await directConnection();
  try {
    await compare(client, direct);
    await db.admin.query('INSERT INTO a VALUES (5, 1, 4, 3.33, 0.7), (6, 3, 1, 0.07, NULL)');
    await compare(client, direct);
    const before = await Promise.all(ids.map(served));
    assert.ok(before.every((n) => n > 0), 'answered from Rotor');

    // Sessions opened after the change start with the new value; Rotor plans the caches again.
    await db.admin.query('SET GLOBAL div_precision_increment = 2');
    await client.end();
    await direct.end();
    client = await rotor.connect();
    direct = await directConnection();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ready = await rotor.api<Array<{ id: string; status: string }>>('GET', '/api/caches');
      const caches = ready.body.filter((c) => ids.includes(c.id));
      if (caches.length === ids.length && caches.every((c) => c.status === 'ready') && rotor.rotor.engine.divPrecisionIncrement === 2) break;
      assert.ok(Date.now() < deadline, 'the caches were planned again');
      await sleep(50);
    }
    await compare(client, direct);
    await db.admin.query('UPDATE a SET n = n + 1, x = x / 3 WHERE id IN (1, 4)');
    await db.admin.query('DELETE FROM a WHERE id = 3');
    await compare(client, direct);
    // The caches planned again count from zero.
    const after = await Promise.all(ids.map(served));
    assert.ok(after.every((n) => n > 0), `answered from Rotor after the change: ${after.join(', ')}`);
  } finally {
    await client.end();
    await direct.end();
  }
});

test('a session with its own div_precision_increment reads from MariaDB', async () => {
  const client = await rotor.connect();
  const direct = await directConnection();
  try {
    await client.query('SET SESSION div_precision_increment = 9');
    await direct.query('SET SESSION div_precision_increment = 9');
    await compare(client, direct);
    const status = await rotor.api<{ queries: { notCachedReasons: Record<string, number> } }>('GET', '/api/status');
    assert.ok(Object.keys(status.body.queries.notCachedReasons).some((r) => /div_precision_increment/.test(r)), JSON.stringify(status.body.queries.notCachedReasons));
  } finally {
    await client.end();
    await direct.end();
  }
});
