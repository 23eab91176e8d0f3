/**
 * What a client that misbehaves slowly costs: one that sends commands Rotor answers itself (errors,
 * cached answers) and never reads the answers is no longer read once they back up, so Rotor's
 * write buffer for it stays bounded; one that stops in the middle of a packet holds its connection
 * until upstream's wait_timeout ends its idle upstream session, as it would with MariaDB.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { Com } from '../../src/proxy/protocol/constants.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { RawClient, startProxy, type RunningProxy } from './support.js';

let db: TestDatabase;
let rotor: RunningProxy;

before(async () => {
  db = await freshDatabase('proxy_backpressure');
  rotor = await startProxy({ host: db.host, port: db.port });
});

after(async () => {
  await rotor?.close();
  await db?.drop();
});

/** Resolves once `f()` has kept the same value for five polls in a row, with that value. */
async function settled(f: () => number): Promise<number> {
  let last = -1;
  let same = 0;
  for (;;) {
    const v = f();
    same = v === last ? same + 1 : 0;
    if (same >= 5) return v;
    last = v;
    await sleep(200);
  }
}

test('a client that floods unknown commands without reading the errors is no longer read', async () => {
  const { client } = await RawClient.login(rotor.port, db.user, db.password, db.name);
  client.socket.pause();
  // 1.5 million one-byte commands no server knows: 45 MB of ERR packets if Rotor wrote them all.
  const packet = Buffer.from([1, 0, 0, 0, 0x20]);
  const flood = Buffer.alloc(packet.length * 1_500_000);
  for (let i = 0; i < flood.length; i += packet.length) packet.copy(flood, i);
  // In many writes: a socket reports one big write as unwritten until all of it is.
  for (let i = 0; i < flood.length; i += 65_535) client.socket.write(flood.subarray(i, i + 65_535));
  const unread = await settled(() => client.socket.writableLength);
  assert.ok(unread > 0, 'Rotor stopped reading the client before it had read the whole flood');
  const other = await mysql.createConnection({ host: '127.0.0.1', port: rotor.port, user: db.user, password: db.password });
  assert.deepEqual((await other.query('SELECT 1 AS one'))[0], [{ one: 1 }]);
  await other.end();
  client.end();
});

test('a response that backs up behind a client that stops reading arrives whole once it reads again', async () => {
  // [note: read-buffer] Rotor reads upstream's bytes into one reused buffer; bytes whose write to
  // the client waits must not be overwritten by the reads that follow (pinned deterministically by
  // socket-reader.test.ts). 2 MB of distinct rows, far more than the socket buffers and the read
  // buffer hold.
  const rows = 30_000;
  const { client } = await RawClient.login(rotor.port, db.user, db.password, db.name);
  client.socket.pause();
  const sql = Buffer.from(`SELECT seq, SHA2(seq, 256) FROM seq_1_to_${rows}`);
  client.send(0, Buffer.concat([Buffer.from([Com.QUERY]), sql]));
  // Until Rotor has stopped reading upstream for the client (settled) and longer.
  await sleep(500);
  client.socket.resume();
  assert.equal((await client.read()).payload[0], 2, 'two columns');
  await client.read();
  await client.read();
  let n = 0;
  for (;;) {
    const p = (await client.read()).payload;
    if (p[0] === 0xfe && p.length < 9) break;
    const seq = p.toString('latin1', 1, 1 + p[0]);
    const hash = p.toString('latin1', 2 + p[0], 2 + p[0] + p[1 + p[0]]);
    n++;
    assert.equal(seq, String(n));
    assert.equal(hash, createHash('sha256').update(seq).digest('hex'), `row ${n}`);
  }
  assert.equal(n, rows);
  client.end();
});

test('a client stalled in the middle of a command packet is closed when upstream\'s wait_timeout ends its session', async () => {
  const { client } = await RawClient.login(rotor.port, db.user, db.password, db.name);
  client.send(0, Buffer.from([Com.QUERY, ...Buffer.from('SET SESSION wait_timeout = 1')]));
  assert.equal((await client.read()).payload[0], 0x00);
  // A header announcing 1,000 bytes, and ten of them.
  client.socket.write(Buffer.concat([Buffer.from([0xe8, 0x03, 0x00, 0x00, Com.QUERY]), Buffer.from('SELECT 1 ')]));
  await client.closedByServer();
});
