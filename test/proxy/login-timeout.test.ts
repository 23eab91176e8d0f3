/**
 * A client that connects and never finishes logging in is disconnected after the login timeout
 * (MariaDB's connect_timeout), while a client that logged in stays, however long it idles.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { mariadbUrl } from '../support/servers.js';
import { RawClient, startProxy, type RunningProxy } from './support.js';

let rotor: RunningProxy;
let url: URL;

before(async () => {
  url = new URL(await mariadbUrl());
  rotor = await startProxy({ host: url.hostname, port: Number(url.port) }, { loginTimeoutMs: 300 });
});

after(async () => {
  await rotor?.close();
});

test('a half-sent login is cut off after the login timeout; a logged-in idle client is not', async () => {
  const loggedIn = await mysql.createConnection({ host: '127.0.0.1', port: rotor.port, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) });
  const silent = await RawClient.open(rotor.port);
  const partial = await RawClient.open(rotor.port);
  // A packet header announcing 1,000 bytes, followed by ten: the rest never comes.
  partial.socket.write(Buffer.concat([Buffer.from([0xe8, 0x03, 0x00, 0x01]), Buffer.alloc(10)]));
  await sleep(800);
  assert.equal(silent.closed, true, 'a client that never answered the handshake is disconnected');
  assert.equal(partial.closed, true, 'a client stuck in the middle of a packet is disconnected');
  assert.equal(rotor.proxy.stats().clients, 1);
  const [rows] = await loggedIn.query('SELECT 1 AS ok');
  assert.deepEqual(rows, [{ ok: 1 }]);
  await loggedIn.end();
});
