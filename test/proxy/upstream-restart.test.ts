import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { killServer, MARIADB_PASSWORD, MARIADB_USER, startMariaDb, stopServer, type PrivateServer } from '../../scripts/private-server.js';
import { startProxy, type RunningProxy } from './support.js';

const NAME = 'proxy-restart';
let server: PrivateServer;
let rotor: RunningProxy;

before(async () => {
  server = await startMariaDb(NAME);
  rotor = await startProxy({ host: server.host, port: server.port });
});

after(async () => {
  await rotor?.close();
  await stopServer('mariadb', NAME);
});

function connect(): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port: rotor.port, user: MARIADB_USER, password: MARIADB_PASSWORD, connectTimeout: 5000 });
}

/** Starts the same server again on the same port (startMariaDb would pick a new one). */
async function restartOnSamePort(): Promise<void> {
  const child = spawn('mariadbd', [`--defaults-file=${join(server.dir, 'my.cnf')}`], { detached: true, stdio: 'ignore' });
  child.unref();
  for (let i = 0; i < 300; i++) {
    const c = await mysql.createConnection({ host: server.host, port: server.port, user: MARIADB_USER, password: MARIADB_PASSWORD }).catch(() => null);
    if (c) {
      await c.end();
      return;
    }
    await sleep(100);
  }
  assert.fail('the server did not come back');
}

test('an upstream that dies closes its clients\' connections as it closes direct ones, Rotor lives, and new sessions work once upstream is back', async () => {
  const idle = await connect();
  const busy = await connect();
  const direct = await mysql.createConnection({ host: server.host, port: server.port, user: MARIADB_USER, password: MARIADB_PASSWORD });
  const failure = (e: { errno?: number; code?: string; fatal?: boolean }): unknown => ({ errno: e.errno, code: e.code, fatal: e.fatal });
  const sleeping = busy.query('SELECT SLEEP(20)').then(() => null, failure);
  const sleepingDirect = direct.query('SELECT SLEEP(20)').then(() => null, failure);
  await sleep(300);
  await killServer('mariadb', NAME);

  const err = await sleeping;
  assert.ok(err, 'the running statement failed');
  // No error of Rotor's own: the client library reports the lost connection itself, as direct.
  assert.deepEqual(err, await sleepingDirect);
  direct.destroy();
  await assert.rejects(idle.query('SELECT 1'));
  // While upstream is down, a new client is refused with a clear error, not a hang.
  await assert.rejects(connect(), (e: { errno?: number; message: string }) => e.errno === 2003 || /upstream/i.test(e.message));

  await restartOnSamePort();
  const fresh = await connect();
  assert.deepEqual((await fresh.query('SELECT 5 AS back'))[0], [{ back: 5 }]);
  await fresh.end();
  idle.destroy();
  busy.destroy();
});
