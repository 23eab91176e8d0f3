/**
 * The database restarts under a Rotor with caches: clients whose sessions die get an error, Rotor
 * lives, the binlog stream reconnects and resumes, fills work again through a fresh pool
 * connection, and cached answers include every write made around the restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { killServer, startMariaDb, stopServer, type PrivateServer } from '../../scripts/private-server.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';

const NAME = 'e2e-restart';
let server: PrivateServer;
let db: TestDatabase;
let rotor: TestRotor;

before(async () => {
  server = await startMariaDb(NAME);
  db = await freshDatabase('restart', server.url);
  await db.admin.query('CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO counter VALUES (1, 0), (2, 100)');
  rotor = await startTestRotor(db);
});

after(async () => {
  await rotor?.stop();
  await stopServer('mariadb', NAME);
});

async function admin(): Promise<mysql.Connection> {
  return mysql.createConnection({ host: server.host, port: server.port, user: db.user, password: db.password, database: db.name, multipleStatements: true });
}

async function read(client: mysql.Connection, id: number): Promise<number> {
  const [rows] = await client.query({ sql: `SELECT n FROM counter WHERE id = ${id}`, rowsAsArray: true });
  return Number((rows as unknown[][])[0][0]);
}

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  assert.fail(`${what} did not happen within 30 s`);
}

for (const how of ['stop', 'kill'] as const) {
  test(`after the upstream ${how === 'stop' ? 'shuts down' : 'is killed'} and comes back, caches recover by themselves`, async () => {
    const reg = await rotor.api<{ id: string }>('POST', '/api/caches', { sql: 'SELECT n FROM counter WHERE id = ?', database: db.name });
    // 200 in the second round: the first registered it.
    assert.ok(reg.status === 201 || reg.status === 200);
    const client = await rotor.connect();
    const base = await read(client, 1);
    assert.equal(await read(client, 1), base);

    await db.admin.end().catch(() => undefined);
    if (how === 'stop') await stopServer('mariadb', NAME);
    else await killServer('mariadb', NAME);
    await assert.rejects(read(client, 1), 'a session whose upstream session died gets an error');
    await client.end().catch(() => undefined);
    await startMariaDb(NAME, { port: server.port });

    const writer = await admin();
    await writer.query('UPDATE counter SET n = n + 1 WHERE id = 1');
    await writer.query('UPDATE counter SET n = n + 1 WHERE id = 2');
    const [[direct]] = (await writer.query({ sql: 'SELECT (SELECT n FROM counter WHERE id = 1), (SELECT n FROM counter WHERE id = 2)', rowsAsArray: true })) as unknown as [[[number, number]]];
    await eventually('the binlog stream reconnecting', async () => rotor.rotor.binlog.status().connected);
    await rotor.caughtUp();

    const fresh = await rotor.connect();
    try {
      await eventually('cached answers equal to the upstream', async () => (await read(fresh, 1)) === Number(direct[0]) && (await read(fresh, 2)) === Number(direct[1]));
      const before = (await rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${reg.body.id}`)).body.stats.hits;
      await writer.query('UPDATE counter SET n = n + 10 WHERE id = 1');
      await rotor.caughtUp();
      assert.equal(await read(fresh, 1), Number(direct[0]) + 10);
      const afterHits = (await rotor.api<{ stats: { hits: number } }>('GET', `/api/caches/${reg.body.id}`)).body.stats.hits;
      assert.ok(afterHits > before, 'served from the view again');
    } finally {
      await fresh.end();
      await writer.end();
    }
    db = { ...db, admin: await admin() };
  });
}
