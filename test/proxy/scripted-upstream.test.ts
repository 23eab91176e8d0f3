/**
 * The session's behaviour against a scripted upstream (fake-upstream.ts) handed to Rotor as its
 * dialler: pure, no MariaDB. What MariaDB itself would answer is covered by the other proxy tests;
 * these pin what the relay does with whatever upstream answers, packet by packet.
 */
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { Com, Status } from '../../src/proxy/protocol/constants.js';
import type { ColumnDefinition } from '../../src/proxy/protocol/column-definition.js';
import { decodeErr } from '../../src/proxy/protocol/generic-response.js';
import { PacketWriter } from '../../src/proxy/protocol/packet-writer.js';
import { encodeResultSet } from '../../src/proxy/protocol/result-set.js';
import { command, errPacket, FakeUpstream, okPacket, type FakeSession } from './fake-upstream.js';
import { RawClient, startProxy, type RunningProxy } from './support.js';

const COLUMN: ColumnDefinition = {
  catalog: 'def', schema: '', table: '', orgTable: '', name: 'n', orgName: '', characterSet: 63, columnLength: 20, type: 8, flags: 0x81, decimals: 0,
};

function resultSet(rows: ReadonlyArray<ReadonlyArray<number>>): Buffer {
  return encodeResultSet([COLUMN], rows, { binary: false, deprecateEof: true, statusFlags: Status.AUTOCOMMIT, startSeq: 1 });
}

let fake: FakeUpstream;
let rotor: RunningProxy;
let opened = 0;

before(async () => {
  fake = await FakeUpstream.start();
  rotor = await startProxy({ host: '127.0.0.1', port: 1 }, { dialUpstream: fake.dialler });
});

after(async () => {
  await rotor.close();
  await fake.close();
});

/** A logged-in raw client and the fake upstream session Rotor opened for it. */
async function connect(): Promise<{ client: RawClient; upstream: FakeSession }> {
  const { client, reply } = await RawClient.login(rotor.port, 'app', 'secret', 'db');
  assert.equal(reply.payload[0], 0x00, 'the fake accepts every login');
  const upstream = await fake.session(opened++);
  return { client, upstream };
}

/** Reads one text result set of one column under DEPRECATE_EOF; returns its rows' values. */
async function readResultSet(client: RawClient): Promise<string[]> {
  const count = await client.read();
  assert.equal(count.payload[0], 1);
  await client.read(); // the column definition
  const values: string[] = [];
  for (;;) {
    const p = await client.read();
    if (p.payload[0] === 0xfe && p.payload.length < 0xffffff) return values;
    values.push(p.payload.toString('utf8', 1, 1 + (p.payload[0] as number)));
  }
}

test('relays pipelined commands one at a time, each answer in order', async () => {
  const { client, upstream } = await connect();
  client.socket.write(Buffer.concat([command(Com.QUERY, 'SELECT 1'), command(Com.QUERY, 'DO 2'), command(Com.QUERY, 'SELECT 3')]));
  for (const [sql, answer] of [['SELECT 1', resultSet([[1]])], ['DO 2', okPacket(1, 1)], ['SELECT 3', resultSet([[3], [33]])]] as const) {
    const p = await upstream.read();
    assert.equal(p.payload.toString('utf8', 1), sql);
    // Rotor holds the next command until this one's answer has ended.
    await new Promise((res) => setImmediate(res));
    assert.equal(upstream.unread, 0, `nothing after ${sql} before its answer`);
    upstream.send(answer, sql);
  }
  assert.deepEqual(await readResultSet(client), ['1']);
  const ok = await client.read();
  assert.equal(ok.payload[0], 0x00);
  assert.equal(ok.payload[1], 1, 'affected rows as upstream sent them');
  assert.deepEqual(await readResultSet(client), ['3', '33']);
  assert.deepEqual(upstream.log, ['recv query SELECT 1', 'sent SELECT 1', 'recv query DO 2', 'sent DO 2', 'recv query SELECT 3', 'sent SELECT 3']);
  client.end();
  await upstream.closedByRotor();
});

test('a client that disconnects in the middle of an answer ends its upstream session, and others go on', async () => {
  const { client, upstream } = await connect();
  client.socket.write(command(Com.QUERY, 'SELECT n FROM big'));
  await upstream.read();
  const whole = resultSet(Array.from({ length: 50 }, (_, i) => [i]));
  // The column count, the definition and a few rows: the answer has not ended.
  upstream.send(whole.subarray(0, 60), 'part of the result');
  assert.equal((await client.read()).payload[0], 1);
  client.end();
  // Busy upstream sessions are not reusable: Rotor drops this one rather than send COM_QUIT.
  await upstream.closedByRotor();
  assert.ok(!upstream.log.some((e) => e.startsWith('recv command 0x1')), 'no COM_QUIT on a session mid-answer');

  const other = await connect();
  other.client.socket.write(command(Com.PING));
  assert.equal((await other.upstream.read()).payload[0], Com.PING);
  other.upstream.send(okPacket(1), 'ping');
  assert.equal((await other.client.read()).payload[0], 0x00);
  other.client.end();
  await other.upstream.closedByRotor();
});

test("relays upstream's error packet unchanged, and the session goes on", async () => {
  const { client, upstream } = await connect();
  client.socket.write(command(Com.QUERY, 'SELECT * FROM missing'));
  await upstream.read();
  const err = errPacket({ errno: 1146, sqlState: '42S02', message: "Table 'db.missing' doesn't exist" }, 1);
  upstream.send(err, 'ERR 1146');
  const got = await client.read();
  assert.deepEqual(got.raw, err, 'byte for byte');
  assert.deepEqual(decodeErr(got.payload), { errno: 1146, sqlState: '42S02', message: "Table 'db.missing' doesn't exist" });

  client.socket.write(command(Com.QUERY, 'SELECT 1'));
  assert.equal((await upstream.read()).payload.toString('utf8', 1), 'SELECT 1');
  upstream.send(resultSet([[1]]), 'SELECT 1');
  assert.deepEqual(await readResultSet(client), ['1']);
  client.end();
  await upstream.closedByRotor();
});

test('relays COM_CHANGE_USER and its auth switch exchange, then commands as the new user', async () => {
  const { client, upstream } = await connect();
  const body = new PacketWriter(64).begin(0).u8(Com.CHANGE_USER).nulString('other').u8(20).bytes(Buffer.alloc(20, 7))
    .nulString('db2').u16(45).nulString('mysql_native_password').end().finish();
  client.socket.write(body);
  const change = await upstream.read();
  assert.deepEqual(change.raw, body, 'relayed verbatim');

  // Upstream asks for the password again under a new scramble (an AuthSwitchRequest).
  const scramble = Buffer.alloc(20, 0x42);
  const authSwitch = new PacketWriter(64).begin(1).u8(0xfe).nulString('mysql_native_password').bytes(scramble).u8(0).end().finish();
  upstream.send(authSwitch, 'auth switch');
  const asked = await client.read();
  assert.deepEqual(asked.raw, authSwitch);
  client.send(2, Buffer.alloc(20, 9));
  const answer = await upstream.read();
  assert.equal(answer.seq, 2);
  assert.deepEqual(answer.payload, Buffer.alloc(20, 9));
  upstream.send(okPacket(3), 'OK');
  const ok = await client.read();
  assert.equal(ok.seq, 3);
  assert.equal(ok.payload[0], 0x00);

  client.socket.write(command(Com.QUERY, 'SELECT CURRENT_USER()'));
  const q = await upstream.read();
  assert.equal(q.seq, 0);
  assert.equal(q.payload.toString('utf8', 1), 'SELECT CURRENT_USER()');
  upstream.send(resultSet([[7]]), 'current user');
  assert.deepEqual(await readResultSet(client), ['7']);
  client.end();
  await upstream.closedByRotor();
});

test('answers Rotor gives at once to the commands of one chunk leave in one write', async () => {
  const { client, upstream } = await connect();
  // Rotor runs in this process: its writes are counted where every socket write goes.
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (this: Socket, ...args: unknown[]) => void>;
  const original = { _write: proto._write, _writev: proto._writev };
  let writes = 0;
  for (const name of ['_write', '_writev'] as const) {
    proto[name] = function (this: Socket, ...args: unknown[]): void {
      if (this !== client.socket) writes++;
      original[name].apply(this, args);
    };
  }
  try {
    // Eight commands Rotor answers itself (COM_SLEEP: an error packet each), pipelined in one chunk.
    client.socket.write(Buffer.concat(Array.from({ length: 8 }, () => command(Com.SLEEP))));
    for (let i = 0; i < 8; i++) assert.equal((await client.read()).payload[0], 0xff, `answer ${i + 1} is an error packet`);
  } finally {
    Object.assign(proto, original);
  }
  assert.equal(writes, 1, 'one write for the eight answers (the socket corked while the chunk is read)');
  assert.equal(upstream.unread, 0, 'nothing went upstream');
  client.end();
  await upstream.closedByRotor();
});
