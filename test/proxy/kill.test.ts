/**
 * KILL through Rotor: the client-facing handshake carries the upstream session's own connection
 * id, so every form of KILL means to MariaDB what it means to the client, and a killed session's
 * client sees exactly what MariaDB sends.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { RawClient, startProxy, type RunningProxy } from './support.js';
import { Com } from '../../src/proxy/protocol/constants.js';
import { decodeErr } from '../../src/proxy/protocol/generic-response.js';

let db: TestDatabase;
let rotor: RunningProxy;

before(async () => {
  db = await freshDatabase('proxy_kill');
  rotor = await startProxy({ host: db.host, port: db.port });
});

after(async () => {
  await rotor?.close();
  await db?.drop();
});

function connect(port = rotor.port, extra: mysql.ConnectionOptions = {}): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port, user: db.user, password: db.password, database: db.name, ...extra });
}

async function connectionId(c: mysql.Connection): Promise<number> {
  const [rows] = await c.query('SELECT CONNECTION_ID() AS id');
  return Number((rows as Array<{ id: number }>)[0].id);
}

async function alive(id: number): Promise<boolean> {
  const [rows] = await db.admin.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?', [id]);
  return Number((rows as Array<{ n: number }>)[0].n) > 0;
}

async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await cond()) return;
    await sleep(50);
  }
  assert.fail(`never happened: ${what}`);
}

async function sleepingUpstream(id: number): Promise<void> {
  await eventually(async () => {
    const [rows] = await db.admin.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ? AND INFO LIKE 'SELECT SLEEP%'", [id]);
    return Number((rows as Array<{ n: number }>)[0].n) > 0;
  }, `session ${id} sleeps upstream`);
}

test('the handshake carries the upstream session\'s connection id: CONNECTION_ID(), the processlist and the client agree', async () => {
  const c = await connect();
  try {
    const id = await connectionId(c);
    assert.equal(c.threadId, id);
    assert.ok(await alive(id));
    const [rows] = await db.admin.query('SELECT USER AS u FROM information_schema.PROCESSLIST WHERE ID = ?', [id]);
    assert.deepEqual(rows, [{ u: db.user }]);
  } finally {
    await c.end();
  }
});

for (const form of [
  (id: number) => `KILL ${id}`,
  (id: number) => `kill ${id}; select sleep(0.05)`,
  (id: number) => `/* c */ KILL ${id}`,
  (id: number) => `KILL CONNECTION ${id}`,
  (id: number) => `KILL HARD CONNECTION ${id} -- trailing comment`,
]) {
  const sample = form(1234);
  test(`\`${sample}\` from another client ends the session whose client was given that id`, async () => {
    const victim = await connect();
    const killer = await connect(rotor.port, { multipleStatements: true });
    const bystander = await connect();
    try {
      const id = victim.threadId as number;
      assert.equal(await connectionId(victim), id);
      await killer.query(form(id));
      await eventually(async () => !(await alive(id)), 'the victim\'s upstream session ends');
      await assert.rejects(victim.query('SELECT 1'));
      // Nobody else was touched, and Rotor serves on.
      assert.deepEqual((await killer.query('SELECT 1 AS k'))[0], [{ k: 1 }]);
      assert.deepEqual((await bystander.query('SELECT 2 AS b'))[0], [{ b: 2 }]);
    } finally {
      victim.destroy();
      await killer.end();
      await bystander.end();
    }
  });
}

test('KILL QUERY with the id the client was given interrupts that client\'s statement, and its session goes on', async () => {
  const victim = await connect();
  const killer = await connect();
  try {
    const id = victim.threadId as number;
    const sleeping = victim.query('SELECT SLEEP(30) AS s').then(([r]) => r, (e: { errno: number }) => e.errno);
    await sleepingUpstream(id);
    await killer.query(`KILL QUERY ${id}`);
    const outcome = await sleeping;
    // MariaDB either fails the statement (1317) or ends SLEEP early, returning 1.
    assert.ok(outcome === 1317 || JSON.stringify(outcome) === '[{"s":1}]', `interrupted: ${JSON.stringify(outcome)}`);
    assert.deepEqual((await victim.query('SELECT 3 AS after'))[0], [{ after: 3 }]);
    await assert.rejects(killer.query('KILL 4000000000'), (e: { errno: number }) => e.errno === 1094);
  } finally {
    await victim.end();
    await killer.end();
  }
});

test('KILL CONNECTION_ID() ends the client\'s own session with MariaDB\'s own error, as direct', async () => {
  const outcome = async (port: number): Promise<unknown> => {
    const c = await connect(port);
    const err = await c.query('KILL CONNECTION_ID()').then(() => null, (e: { errno: number; sqlState: string; message: string }) => (
      { errno: e.errno, sqlState: e.sqlState, message: e.message }));
    const next = await c.query('SELECT 1').then(() => 'answered', () => 'refused');
    c.destroy();
    return { err, next };
  };
  const direct = await outcome(db.port);
  assert.deepEqual(await outcome(rotor.port), direct);
  assert.equal((direct as { next: string }).next, 'refused');
});

test('COM_PROCESS_KILL with the id the client was given ends that session; a short one gets MariaDB\'s answer', async () => {
  const victim = await connect();
  const id = victim.threadId as number;
  const { client } = await RawClient.login(rotor.port, db.user, db.password, db.name);
  const payload = Buffer.alloc(5);
  payload[0] = Com.PROCESS_KILL;
  payload.writeUInt32LE(id, 1);
  client.send(0, payload);
  assert.equal((await client.read()).payload[0], 0x00);
  await eventually(async () => !(await alive(id)), 'the killed session ends');
  victim.destroy();

  // Relayed as is: MariaDB reads what id it can and answers, and the session goes on.
  const short = async (port: number): Promise<string> => {
    const { client: c } = await RawClient.login(port, db.user, db.password, db.name);
    c.send(0, Buffer.from([Com.PROCESS_KILL, 1]));
    const reply = await c.read();
    c.send(0, Buffer.from([Com.PING]));
    const ping = await c.read();
    c.end();
    return `${reply.payload[0] === 0xff ? decodeErr(reply.payload).errno : reply.payload[0]} then ${ping.payload[0]}`;
  };
  assert.equal(await short(rotor.port), await short(db.port));
  client.end();
});

test('a session killed by another connection in the middle of a query: its client sees what MariaDB sends, and Rotor serves others', async () => {
  const outcome = async (port: number): Promise<unknown> => {
    const victim = await connect(port);
    const id = await connectionId(victim);
    const sleeping = victim.query('SELECT SLEEP(30)').then(() => null, (e: { errno?: number; code?: string; fatal?: boolean }) => (
      { errno: e.errno, code: e.code, fatal: e.fatal }));
    await sleepingUpstream(id);
    await db.admin.query(`KILL ${id}`);
    const err = await sleeping;
    const next = await victim.query('SELECT 1').then(() => 'answered', (e: { code?: string }) => e.code);
    victim.destroy();
    return { err, next };
  };
  const direct = await outcome(db.port);
  const through = await outcome(rotor.port);
  assert.deepEqual(through, direct);
  assert.notEqual((direct as { err: unknown }).err, null, 'the statement failed');
  const c = await connect();
  assert.deepEqual((await c.query('SELECT 4 AS still'))[0], [{ still: 4 }]);
  await c.end();
});
