import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { RawClient, startProxy, type RunningProxy } from './support.js';
import { Com, Type } from '../../src/proxy/protocol/constants.js';
import { encodeExecutePayload } from '../../src/proxy/protocol/statement-execute.js';
import { decodeErr } from '../../src/proxy/protocol/generic-response.js';

let db: TestDatabase;
let rotor: RunningProxy;

before(async () => {
  db = await freshDatabase('proxy_edges');
  rotor = await startProxy({ host: db.host, port: db.port }, { maxPacketSize: 4 * 1024 * 1024 });
});

after(async () => {
  await rotor?.close();
  await db?.drop();
});

function connect(): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port: rotor.port, user: db.user, password: db.password, database: db.name });
}

async function upstreamThreadAlive(id: number): Promise<boolean> {
  const [rows] = await db.admin.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?', [id]);
  return (rows as Array<{ n: number }>)[0].n > 0;
}

async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await sleep(50);
  }
  assert.fail(`never happened: ${what}`);
}

test('a client that disconnects in the middle of a large result closes its upstream session', async () => {
  const { client } = await RawClient.login(rotor.port, db.user, db.password, db.name);
  client.send(0, Buffer.from([Com.QUERY, ...Buffer.from('SELECT CONNECTION_ID()')]));
  const packets = [];
  for (let i = 0; i < 4; i++) packets.push(await client.read());
  const upstreamId = Number(packets[2].payload.toString('latin1', 1));
  assert.ok(upstreamId > 0);
  client.send(0, Buffer.from([Com.QUERY, ...Buffer.from("SELECT seq, REPEAT('x', 200) FROM seq_1_to_2000000")]));
  await client.read();
  await client.read();
  client.end();
  await eventually(async () => !(await upstreamThreadAlive(upstreamId)), 'the upstream session ends');
  const c = await connect();
  assert.deepEqual((await c.query('SELECT 1 AS alive'))[0], [{ alive: 1 }]);
  await c.end();
});

test('malformed and oversized packets get an error and a closed connection, and Rotor keeps serving', async () => {
  // A handshake response too short to be one.
  const a = await RawClient.open(rotor.port);
  a.send(1, Buffer.from([1, 2, 3]));
  const errA = await a.read();
  assert.equal(decodeErr(errA.payload).errno, 1043);
  await a.closedByServer();

  // A packet announcing more than the configured maximum.
  const { client: b } = await RawClient.login(rotor.port, db.user, db.password, db.name);
  b.socket.write(Buffer.from([0xff, 0xff, 0xff, 0, Com.QUERY]));
  assert.equal(decodeErr((await b.read()).payload).errno, 1153);
  await b.closedByServer();

  // An empty command packet.
  {
    const { client } = await RawClient.login(rotor.port, db.user, db.password, db.name);
    client.send(0, Buffer.alloc(0));
    assert.equal(decodeErr((await client.read()).payload).errno, 1835);
    await client.closedByServer();
  }

  // A COM_STMT_EXECUTE for a statement that does not exist goes upstream, which answers it.
  const { client: c } = await RawClient.login(rotor.port, db.user, db.password, db.name);
  c.send(0, Buffer.from([Com.STMT_EXECUTE, 9, 9, 0, 0, 0, 1, 0, 0, 0]));
  assert.equal(decodeErr((await c.read()).payload).errno, 1243);
  c.end();

  const ok = await connect();
  assert.deepEqual((await ok.query('SELECT 2 AS still'))[0], [{ still: 2 }]);
  await ok.end();
});

test('holds 2,000 idle client connections open, each with its own upstream session, and serves them all', async () => {
  const conns: mysql.Connection[] = [];
  try {
    while (conns.length < 2000) {
      conns.push(...(await Promise.all(Array.from({ length: 100 }, () => connect()))));
    }
    assert.ok(rotor.proxy.stats().clients >= 2000);
    const answers = await Promise.all(conns.filter((_c, i) => i % 20 === 0).map(async (c) => (await c.query('SELECT 1 AS one'))[0]));
    assert.equal(answers.length, 100);
  } finally {
    await Promise.all(conns.map((c) => c.end().catch(() => undefined)));
  }
  await eventually(async () => rotor.proxy.stats().clients === 0, 'every session closed');
});

test('pipelined commands are answered in order', async () => {
  const { client } = await RawClient.login(rotor.port, db.user, db.password, db.name);
  const w: Buffer[] = [];
  for (const sql of ['SELECT 1', 'SELECT 2', 'DO 3']) w.push(Buffer.from([Com.QUERY, ...Buffer.from(sql)]));
  for (const p of w) client.send(0, p);
  client.send(0, Buffer.from([Com.PING]));
  const firsts: number[] = [];
  for (let i = 0; i < 2; i++) {
    firsts.push((await client.read()).payload[0]);
    await client.read(); // column definition
    const row = await client.read();
    assert.equal(row.payload.toString('latin1', 1), String(i + 1));
    await client.read(); // OK terminator (DEPRECATE_EOF)
  }
  assert.equal((await client.read()).payload[0], 0x00, 'DO');
  assert.equal((await client.read()).payload[0], 0x00, 'PING');
  client.end();
});

test('a cursor opened by COM_STMT_EXECUTE and read by COM_STMT_FETCH gives the same packets through Rotor as direct', async () => {
  const transcript = async (port: number): Promise<string[]> => {
    const { client } = await RawClient.login(port, db.user, db.password, db.name);
    client.send(0, Buffer.from([Com.STMT_PREPARE, ...Buffer.from('SELECT seq FROM seq_1_to_5 WHERE seq > ?')]));
    const first = await client.read();
    const id = first.payload.readUInt32LE(1);
    await client.read(); // parameter definition
    await client.read(); // column definition (DEPRECATE_EOF: no EOF)
    client.send(0, encodeExecutePayload(id, [1], [Type.LONGLONG], 1));
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push((await client.read()).raw.toString('hex'));
    const fetch = Buffer.alloc(9);
    fetch[0] = Com.STMT_FETCH;
    fetch.writeUInt32LE(id, 1);
    fetch.writeUInt32LE(2, 5);
    for (let round = 0; round < 2; round++) {
      client.send(0, fetch);
      for (let i = 0; i < 3; i++) got.push((await client.read()).raw.toString('hex'));
    }
    client.send(0, Buffer.from([Com.PING]));
    got.push((await client.read()).raw.toString('hex'));
    client.end();
    return got;
  };
  assert.deepEqual(await transcript(rotor.port), await transcript(db.port));
});

test('close() lets a running statement finish, then ends the session', async () => {
  const own = await startProxy({ host: db.host, port: db.port });
  const c = await mysql.createConnection({ host: '127.0.0.1', port: own.port, user: db.user, password: db.password });
  const running = c.query('SELECT SLEEP(0.5) AS s');
  await sleep(100);
  const closed = own.close();
  assert.deepEqual((await running)[0], [{ s: 0 }]);
  await closed;
  await assert.rejects(c.query('SELECT 1'));
  c.destroy();
  assert.equal(own.proxy.stats().clients, 0);
});

test('COM_STMT_SEND_LONG_DATA (which has no response), COM_STMT_RESET, COM_STMT_CLOSE and COM_SET_OPTION behave as direct', async () => {
  const transcript = async (port: number): Promise<string[]> => {
    const { client } = await RawClient.login(port, db.user, db.password, db.name);
    client.send(0, Buffer.from([Com.STMT_PREPARE, ...Buffer.from('SELECT CONCAT(?, ?) AS c')]));
    const first = await client.read();
    const id = first.payload.readUInt32LE(1);
    for (let i = 0; i < 3; i++) await client.read(); // two parameter definitions, one column
    const longData = (param: number, text: string): Buffer => {
      const b = Buffer.alloc(7);
      b[0] = Com.STMT_SEND_LONG_DATA;
      b.writeUInt32LE(id, 1);
      b.writeUInt16LE(param, 5);
      return Buffer.concat([b, Buffer.from(text)]);
    };
    client.send(0, longData(0, 'long '));
    client.send(0, longData(0, 'data'));
    // The second parameter is bound normally; the first comes from the long data.
    const exec = Buffer.alloc(10);
    exec[0] = Com.STMT_EXECUTE;
    exec.writeUInt32LE(id, 1);
    exec.writeUInt32LE(1, 6);
    client.send(0, Buffer.concat([exec, Buffer.from([0, 1, Type.VAR_STRING, 0, Type.VAR_STRING, 0, 1, 0x21])]));
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push((await client.read()).raw.toString('hex'));
    const reset = Buffer.alloc(5);
    reset[0] = Com.STMT_RESET;
    reset.writeUInt32LE(id, 1);
    client.send(0, reset);
    got.push((await client.read()).raw.toString('hex'));
    const close = Buffer.from(reset);
    close[0] = Com.STMT_CLOSE;
    client.send(0, close);
    client.send(0, Buffer.from([Com.SET_OPTION, 1, 0]));
    got.push((await client.read()).raw.toString('hex'));
    client.send(0, reset);
    // The message names the statement id, which MariaDB numbers per server, so compare the errno.
    got.push(`errno ${decodeErr((await client.read()).payload).errno}`);
    client.end();
    return got;
  };
  const direct = await transcript(db.port);
  assert.ok(Buffer.from(direct[2], 'hex').includes(Buffer.from('long data!')), 'the long data arrived');
  assert.deepEqual(await transcript(rotor.port), direct);
});
