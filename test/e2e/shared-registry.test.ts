/**
 * [note: shared-registry] end to end: two Rotors in front of the private MariaDB (each its own
 * ports and replication server id) share one private Redis of this file's own, which the file
 * stops and starts. A cache registered or dropped on one (HTTP or SQL) appears on or leaves the
 * other; a Rotor started later loads the registry; with Redis down both keep serving and refuse
 * registrations and drops, and both recover; a hostile entry in the hash is skipped.
 * Waits are polls with deadlines, never timed assertions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { startRedis, stopServer } from '../../scripts/private-server.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';
import { until } from '../support/until.js';

const REDIS_NAME = `registry-${randomBytes(3).toString('hex')}`;
/** How soon a change on one instance must be seen on the other (the requirement). */
const PROPAGATION_MS = 1_000;
/** Reconnecting after Redis is back (ioredis retries at most every second). */
const RECOVERY_MS = 15_000;

let db: TestDatabase;
let redisUrl: string;
let redisPort: number;
let a: TestRotor;
let b: TestRotor;
const rotors: TestRotor[] = [];

const listed = async (r: TestRotor, id: string): Promise<boolean> => (await r.api('GET', `/api/caches/${id}`)).status === 200;

type RegistryStatus = { kind: string; connected: boolean; skipped: Array<{ id: string; reason: string }> };
const registry = async (r: TestRotor): Promise<RegistryStatus> => (await r.api<{ registry: RegistryStatus }>('GET', '/api/status')).body.registry;

async function start(opts: { dataDir?: string; redis?: string } = {}): Promise<TestRotor> {
  const r = await startTestRotor(db, { redis: redisUrl, ...opts });
  rotors.push(r);
  return r;
}

async function readTwice(r: TestRotor, sql: string): Promise<unknown> {
  const c: mysql.Connection = await r.connect();
  try {
    await c.query({ sql, rowsAsArray: true });
    const [rows] = await c.query({ sql, rowsAsArray: true });
    return rows;
  } finally {
    await c.end();
  }
}

before(async () => {
  const redis = await startRedis(REDIS_NAME);
  redisUrl = redis.url;
  redisPort = redis.port;
  db = await freshDatabase('e2e_registry');
  await db.admin.query(`
    CREATE TABLE story (id INT PRIMARY KEY, author INT NOT NULL, title VARCHAR(100), votes INT NOT NULL);
    INSERT INTO story VALUES (1, 1, 'a', 3), (2, 1, 'b', 5), (3, 2, 'c', 1);
  `);
  a = await start();
  b = await start();
});

const dirs: string[] = [];
const user = `reader_${randomBytes(3).toString('hex')}`;

after(async () => {
  for (const r of rotors) await r.stop().catch(() => undefined);
  await db?.admin.query(`DROP USER IF EXISTS '${user}'@'%'`).catch(() => undefined);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  await db?.drop();
  await stopServer('redis', REDIS_NAME, { wipe: true });
});

test('a cache registered on one instance is listed and served from the other\'s own view within a second', async () => {
  assert.deepEqual([(await registry(a)).kind, (await registry(a)).connected], ['redis', true]);
  const id = await a.register('SELECT title FROM story WHERE id = ?');
  await until('listed on B', PROPAGATION_MS, () => listed(b, id));
  assert.deepEqual(await readTwice(b, 'SELECT title FROM story WHERE id = 2'), [['b']]);
  assert.ok((await b.hits(id)) >= 1, 'B answered from its cache');
  assert.equal(await a.hits(id), 0, 'B filled its own view: A was never read');
  // B's view follows B's own binlog stream.
  await db.admin.query("UPDATE story SET title = 'b2' WHERE id = 2");
  await b.caughtUp();
  assert.deepEqual(await readTwice(b, 'SELECT title FROM story WHERE id = 2'), [['b2']]);
});

test('a cache dropped on one instance leaves the other, over HTTP and over SQL', async () => {
  const id = await b.register('SELECT votes FROM story WHERE author = ?');
  await until('listed on A', PROPAGATION_MS, () => listed(a, id));
  assert.equal((await b.api('DELETE', `/api/caches/${id}`)).status, 204);
  await until('gone from A', PROPAGATION_MS, async () => !(await listed(a, id)));

  const sqlB = await b.connect();
  const sqlA = await a.connect();
  try {
    await sqlB.query('CREATE CACHE by_author FROM SELECT id FROM story WHERE author = ?');
    const onA = await until('by_author listed on A', PROPAGATION_MS, async () => ((await a.api('GET', '/api/caches/by_author')).status === 200 ? true : null));
    assert.ok(onA);
    await sqlA.query('DROP CACHE by_author');
    await until('by_author gone from B', PROPAGATION_MS, async () => (await b.api('GET', '/api/caches/by_author')).status === 404);

    await sqlA.query('CREATE CACHE c1 FROM SELECT author FROM story WHERE id = ?');
    await sqlA.query('CREATE CACHE c2 FROM SELECT id FROM story WHERE votes = ?');
    await until('c1, c2 on B', PROPAGATION_MS, async () => (await b.api('GET', '/api/caches/c2')).status === 200 && (await b.api('GET', '/api/caches/c1')).status === 200);
    const before = (await b.api<unknown[]>('GET', '/api/caches')).body.length;
    const [ok] = await sqlB.query('DROP ALL CACHES');
    assert.equal((ok as { affectedRows: number }).affectedRows, before);
    await until('every cache gone from A', PROPAGATION_MS, async () => (await a.api<unknown[]>('GET', '/api/caches')).body.length === 0);
  } finally {
    await sqlA.end();
    await sqlB.end();
  }
});

test('an instance started later, or restarted, has the registry\'s caches', async () => {
  const first = await a.register('SELECT title FROM story WHERE id = ?');
  await until('listed on B', PROPAGATION_MS, () => listed(b, first));
  await b.stop();
  rotors.splice(rotors.indexOf(b), 1);
  const whileDown = await a.register('SELECT COUNT(*) FROM story WHERE author = ?');
  b = await start();
  // Start reconciles before it resolves.
  assert.ok(await listed(b, first));
  assert.ok(await listed(b, whileDown));
  assert.deepEqual(await readTwice(b, 'SELECT COUNT(*) FROM story WHERE author = 1'), [[2]]);
  assert.ok((await b.hits(whileDown)) >= 1);
});

test('with Redis down both keep serving their caches, say so, and refuse registrations and drops; both recover', async () => {
  const id = await a.register('SELECT title FROM story WHERE id = ?');
  await until('listed on B', PROPAGATION_MS, () => listed(b, id));
  const hitsBefore = await a.hits(id);

  await stopServer('redis', REDIS_NAME);
  await until('A reports the registry disconnected', RECOVERY_MS, async () => !(await registry(a)).connected);
  await until('B reports the registry disconnected', RECOVERY_MS, async () => !(await registry(b)).connected);

  assert.deepEqual(await readTwice(a, 'SELECT title FROM story WHERE id = 1'), [['a']]);
  assert.ok((await a.hits(id)) > hitsBefore, 'A still answers from its cache');

  const refused = await a.api<{ code: string }>('POST', '/api/caches', { sql: 'SELECT id FROM story WHERE votes = ?', database: db.name });
  assert.equal(refused.status, 503);
  assert.equal(refused.body.code, 'ERR_REGISTRY_UNAVAILABLE');
  assert.equal((await a.api<unknown[]>('GET', '/api/caches')).body.some((c) => (c as { sql: string }).sql.includes('votes = ?')), false, 'nothing installed');
  const dropRefused = await b.api<{ code: string }>('DELETE', `/api/caches/${id}`);
  assert.equal(dropRefused.status, 503);
  assert.ok(await listed(b, id), 'the drop did not happen');
  const sql = await a.connect();
  try {
    await assert.rejects(sql.query('CREATE CACHE v FROM SELECT id FROM story WHERE votes = ?'), (e: { errno: number; message: string }) => e.errno === 1836 && /registry/.test(e.message));
    await assert.rejects(sql.query(`DROP CACHE ${id}`), (e: { errno: number }) => e.errno === 1836);
  } finally {
    await sql.end();
  }

  // Redis comes back empty (the private one keeps nothing on disk): the caches are seeded back, not dropped.
  await startRedis(REDIS_NAME, { port: redisPort });
  await until('A reconnected', RECOVERY_MS, async () => (await registry(a)).connected);
  await until('B reconnected', RECOVERY_MS, async () => (await registry(b)).connected);
  await a.rotor.engine.registrySettled();
  await b.rotor.engine.registrySettled();
  assert.ok(await listed(a, id));
  assert.ok(await listed(b, id));

  const after = await b.register('SELECT id FROM story WHERE votes = ?');
  await until('registered after recovery, listed on A', PROPAGATION_MS, () => listed(a, after));
  assert.deepEqual(await readTwice(a, 'SELECT id FROM story WHERE votes = 5'), [[2]]);
});

test('hostile entries in the hash are skipped and logged; the rest installs', async () => {
  const redis = new Redis(redisUrl);
  try {
    const entry = (o: object): string => JSON.stringify({ v: 1, ...o });
    await redis.hset('rotor:caches', {
      q_garbage: '{not json',
      q_array: '[1, 2]',
      q_nosql: entry({ name: 'x', database: db.name }),
      q_system: entry({ name: 'sys', database: db.name, sql: 'SELECT authentication_string FROM mysql.user WHERE user = ?' }),
      q_missing: entry({ name: 'missing', database: db.name, sql: 'SELECT id FROM nope WHERE id = ?' }),
      q_000000000000: entry({ name: 'liar', database: db.name, sql: 'SELECT votes FROM story WHERE id = ?' }),
      'bad id!': entry({ name: 'b', database: db.name, sql: 'SELECT votes FROM story WHERE id = ?' }),
    });
    await redis.publish('rotor:changes', '*');
    const want = ['bad id!', 'q_000000000000', 'q_array', 'q_garbage', 'q_missing', 'q_nosql', 'q_system'];
    for (const r of [a, b]) {
      const skipped = await until('every hostile entry skipped', RECOVERY_MS, async () => {
        const s = (await registry(r)).skipped;
        return s.length === want.length ? s : null;
      });
      assert.deepEqual(skipped.map((s) => s.id).sort(), want);
      assert.match(skipped.find((s) => s.id === 'q_system')?.reason ?? '', /system tables/);
      const names = (await r.api<Array<{ name: string }>>('GET', '/api/caches')).body.map((c) => c.name);
      for (const n of ['x', 'sys', 'missing', 'liar', 'b']) assert.ok(!names.includes(n), `${n} is not installed`);
      assert.equal((await r.api('GET', '/health')).status, 200);
    }
    // A good entry written the same way still installs everywhere.
    const good = await a.register('SELECT author FROM story WHERE id = ?');
    await until('listed on B', PROPAGATION_MS, () => listed(b, good));
  } finally {
    redis.disconnect();
  }
});

test('a cache installed from the registry answers only sessions whose user may read it', async () => {
  await db.admin.query(`CREATE TABLE secret (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO secret VALUES (1, 'classified')`);
  await db.admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON \`${db.name}\`.story TO '${user}'@'%'`);
  const id = await a.register('SELECT v FROM secret WHERE id = ?');
  await until('listed on B', PROPAGATION_MS, () => listed(b, id));
  assert.deepEqual(await readTwice(b, 'SELECT v FROM secret WHERE id = 1'), [['classified']]);
  const hits = await b.hits(id);
  const c = await mysql.createConnection({ ...b.clientOptions, user, password: 'pw' });
  try {
    for (let i = 0; i < 2; i++) {
      await assert.rejects(c.query('SELECT v FROM secret WHERE id = 1'), (e: { errno: number }) => e.errno === 1142, 'MariaDB\'s own refusal');
    }
  } finally {
    await c.end();
  }
  assert.equal(await b.hits(id), hits, 'no cached answer went to the user without SELECT');
});

test('a Rotor started while Redis is down serves its data dir\'s caches and joins the registry when Redis comes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rotor-shared-'));
  dirs.push(dir);
  // An instance of its own first: its data dir mirrors what it installed from the registry.
  const c1 = await start({ dataDir: dir });
  const registered = (await a.api<Array<{ id: string }>>('GET', '/api/caches')).body.map((x) => x.id).sort();
  assert.deepEqual((await c1.api<Array<{ id: string }>>('GET', '/api/caches')).body.map((x) => x.id).sort(), registered);
  assert.equal((await readdir(join(dir, 'caches'))).length, registered.length, 'one file per cache');
  await c1.stop();
  rotors.splice(rotors.indexOf(c1), 1);

  await stopServer('redis', REDIS_NAME);
  const c2 = await start({ dataDir: dir });
  assert.equal((await registry(c2)).connected, false);
  const id = registered[0];
  assert.ok(await listed(c2, id), 'the data dir\'s caches are served without Redis');
  await startRedis(REDIS_NAME, { port: redisPort });
  for (const r of [a, b, c2]) await until('reconnected', RECOVERY_MS, async () => (await registry(r)).connected);
  for (const r of [a, b, c2]) await r.rotor.engine.registrySettled();
  // Redis came back empty: one of them seeded it, and everyone agrees.
  const lists = await Promise.all([a, b, c2].map(async (r) => (await r.api<Array<{ id: string }>>('GET', '/api/caches')).body.map((x) => x.id).sort()));
  assert.deepEqual(lists[1], lists[0]);
  assert.deepEqual(lists[2], lists[0]);
  assert.ok(lists[0].includes(id));

  // Redis holds a registry now: a data dir's cache it does not hold is dropped, not spread.
  await c2.stop();
  rotors.splice(rotors.indexOf(c2), 1);
  assert.equal((await a.api('DELETE', `/api/caches/${id}`)).status, 204);
  const c3 = await start({ dataDir: dir });
  assert.equal((await registry(c3)).connected, true);
  assert.equal(await listed(c3, id), false, 'the registry wins over the data dir');
  await until('its file deleted', RECOVERY_MS, async () => !(await readdir(join(dir, 'caches'))).some((f) => f.startsWith(id)));
  assert.equal(await listed(a, id), false, 'not written back to the registry');
});
