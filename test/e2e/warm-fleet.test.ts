/**
 * Warm start over the shared registry ([note: warm-fill], redis-hot-keys.ts) end to end: two
 * Rotors in front of the private MariaDB share a private Redis of this file's own. A serves keys
 * (BIGINTs beyond 2^53, strings with a quote and a non-ASCII letter) and records them in Redis; B
 * starts later with no data dir and fills them before anyone reads them, so its first reads are
 * hits with MariaDB's answers (a row changed meanwhile included), while garbage in Redis next to
 * A's contribution is skipped. With Redis down at its start, an instance warms from its data dir's
 * mirror, or without one serves cold, without error; once Redis is back, an instance that installs
 * the fleet's caches warms them from its hot keys. Waits are polls with deadlines.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type mysql from 'mysql2/promise';
import { startRedis, stopServer } from '../../scripts/private-server.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';
import { until as untilWithin } from '../support/until.js';

const REDIS_NAME = `warm-fleet-${randomBytes(3).toString('hex')}`;
const DEADLINE_MS = 20_000;

interface Stats { hits: number; misses: number; keys: number }
interface Warm { keys: number; filled: number; present: number; failed: number; skipped: number; pending: number; inFlight: number; done: boolean }

const BIG = [1n, 2n, 9007199254740993n, 18446744073709551615n];
const EMAILS = ['ada@example.com', "o'brien@example.com", 'zoë@example.com'];

let db: TestDatabase;
let redisUrl: string;
let redisPort: number;
/** Redis's rotor:* keys before it was stopped (it keeps no data across a restart). */
const saved = new Map<string, Record<string, string>>();
let redis: Redis;
let big: string;
let email: string;
const rotors: TestRotor[] = [];
const dirs: string[] = [];

before(async () => {
  const server = await startRedis(REDIS_NAME);
  redisUrl = server.url;
  redisPort = server.port;
  redis = new Redis(redisUrl);
  // It is stopped on purpose below.
  redis.on('error', () => undefined);
  db = await freshDatabase('e2e_warm_fleet');
  await db.admin.query(`
    CREATE TABLE big_kv (k BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(20) NOT NULL);
    INSERT INTO big_kv VALUES ${BIG.map((k, i) => `(${k}, 'big${i}')`).join(', ')};
    CREATE TABLE person (email VARCHAR(64) PRIMARY KEY, name VARCHAR(20) NOT NULL) CHARACTER SET utf8mb4;
  `);
  for (const [i, e] of EMAILS.entries()) await db.admin.query('INSERT INTO person VALUES (?, ?)', [e, `person${i}`]);
});

after(async () => {
  for (const r of rotors) await r.stop().catch(() => undefined);
  redis?.disconnect();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  await db?.drop();
  await stopServer('redis', REDIS_NAME, { wipe: true });
});

async function start(opts: { dataDir?: string } = {}): Promise<TestRotor> {
  const r = await startTestRotor(db, { redis: redisUrl, missPolicy: 'relay', ...opts });
  rotors.push(r);
  return r;
}

async function stop(r: TestRotor): Promise<void> {
  rotors.splice(rotors.indexOf(r), 1);
  await r.stop();
}

const until = <T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> => untilWithin(what, DEADLINE_MS, probe);

const readBig = async (c: mysql.Connection, k: bigint): Promise<unknown> => (await c.query({ sql: `SELECT v FROM big_kv WHERE k = ${k}`, rowsAsArray: true }))[0];
const readEmail = async (c: mysql.Connection, e: string): Promise<unknown> => (await c.query({ sql: 'SELECT name FROM person WHERE email = ?', values: [e], rowsAsArray: true }))[0];
const stats = async (r: TestRotor, id: string): Promise<Stats> => (await r.api<{ stats: Stats }>('GET', `/api/caches/${id}`)).body.stats;
const warm = async (r: TestRotor): Promise<Warm | null> => (await r.api<{ warm: Warm | null }>('GET', '/api/status')).body.warm;
const warmedUp = (r: TestRotor): Promise<Warm> => until('the warm-up is done', async () => {
  const w = await warm(r);
  return w?.done === true ? w : null;
});

/** Reads every key once through a new client, each answer compared with MariaDB's; the caches' stats after. */
async function readAll(r: TestRotor): Promise<{ big: Stats; email: Stats }> {
  const c = await r.connect();
  try {
    for (const k of BIG) assert.deepEqual(await readBig(c, k), await readBig(db.admin, k), `big ${k}`);
    for (const e of EMAILS) assert.deepEqual(await readEmail(c, e), await readEmail(db.admin, e), `email ${e}`);
  } finally {
    await c.end();
  }
  return { big: await stats(r, big), email: await stats(r, email) };
}

/** Reads every key until each is held (relayed, filled behind, then a hit). */
async function serve(r: TestRotor): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await readAll(r);
    await r.rotor.engine.settled();
  }
  assert.deepEqual([(await stats(r, big)).keys, (await stats(r, email)).keys], [BIG.length, EMAILS.length]);
}

test('a new instance joining the fleet fills the keys the fleet reads before anyone reads them: its first reads are hits, with MariaDB\'s answers', async () => {
  const a = await start();
  big = await a.register('SELECT v FROM big_kv WHERE k = ?');
  email = await a.register('SELECT name FROM person WHERE email = ?');
  await serve(a);
  await a.rotor.engine.recordHotKeys();

  // A's contribution: the keys themselves, parameter values, are in Redis (README, "Several instances").
  const [[instance, raw]] = Object.entries(await redis.hgetall(`rotor:hot:${email}`));
  assert.ok(raw.includes('o\'brien@example.com'));
  const doc = JSON.parse(raw) as Record<string, unknown>;
  // Garbage next to it: not JSON, another definition's list, and keys that do not decode or fit.
  await redis.hset(`rotor:hot:${big}`, 'garbage', 'not json {');
  await redis.hset(`rotor:hot:${big}`, 'other', JSON.stringify({ ...doc, cache: big, definition: 'another definition', keys: [[{ big: '5' }]] }));
  await redis.hset(`rotor:hot:${email}`, 'bad-keys', JSON.stringify({ ...doc, keys: [[{ nope: 1 }], ['a', 'b']] }));
  assert.notEqual(instance, 'bad-keys');

  // A row written after A recorded it: B fills it as MariaDB holds it now.
  await db.admin.query(`UPDATE big_kv SET v = 'changed' WHERE k = ${BIG[3]}`);

  const b = await start();
  const w = await warmedUp(b);
  assert.deepEqual(w, { keys: BIG.length + EMAILS.length, filled: BIG.length + EMAILS.length, present: 0, failed: 0, skipped: 4, pending: 0, inFlight: 0, done: true });
  const s = await readAll(b);
  assert.deepEqual([s.big.hits, s.big.misses, s.email.hits, s.email.misses], [BIG.length, 0, EMAILS.length, 0]);

  // B recorded too: two contributions per cache, and a third instance still warms from both.
  await b.rotor.engine.recordHotKeys();
  assert.equal(Object.keys(await redis.hgetall(`rotor:hot:${big}`)).filter((k) => k !== 'garbage' && k !== 'other').length, 2);
  await stop(a);
  await stop(b);
});

test('with Redis down at its start, an instance warms from its data dir\'s mirror, or without one serves cold, without error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rotor-warm-fleet-'));
  dirs.push(dir);
  const c = await start({ dataDir: dir });
  await serve(c);
  await stop(c);
  // A clean stop recorded the keys in Redis and in the data dir.
  assert.deepEqual((await readdir(join(dir, 'hot'))).sort(), [`${big}.json`, `${email}.json`].sort());

  for (const k of [`rotor:hot:${big}`, `rotor:hot:${email}`, 'rotor:caches']) saved.set(k, await redis.hgetall(k));
  await stopServer('redis', REDIS_NAME);
  const mirrored = await start({ dataDir: dir });
  assert.equal((await mirrored.api<{ registry: { connected: boolean } }>('GET', '/api/status')).body.registry.connected, false);
  const w = await warmedUp(mirrored);
  assert.deepEqual([w.keys, w.filled], [BIG.length + EMAILS.length, BIG.length + EMAILS.length]);
  let s = await readAll(mirrored);
  assert.deepEqual([s.big.hits, s.big.misses, s.email.hits, s.email.misses], [BIG.length, 0, EMAILS.length, 0]);
  // Recording with Redis down writes the mirror and fails nothing.
  await mirrored.rotor.engine.recordHotKeys();
  await stop(mirrored);

  await rm(join(dir, 'hot'), { recursive: true, force: true });
  const cold = await start({ dataDir: dir });
  const w2 = await warmedUp(cold);
  assert.deepEqual([w2.keys, w2.filled, w2.failed], [0, 0, 0]);
  s = await readAll(cold);
  assert.deepEqual([s.big.hits, s.big.misses, s.email.hits, s.email.misses], [0, BIG.length, 0, EMAILS.length]);
  await stop(cold);
});

test('an instance that installs the fleet\'s caches once Redis is back warms them from the fleet\'s hot keys', async () => {
  // Redis is down (the test before): an instance with no data dir starts with no cache at all.
  const late = await start();
  assert.deepEqual((await warmedUp(late)).keys, 0);
  await startRedis(REDIS_NAME, { port: redisPort });
  // Redis came back empty (no persistence): put back what the fleet had left in it.
  for (const [k, v] of saved) await redis.hset(k, v);
  await redis.set('rotor:epoch', 'restored');
  await redis.publish('rotor:changes', '*');
  const w = await until('the caches installed and warmed', async () => {
    const x = await warm(late);
    // Both caches: they are installed (and warmed) one after the other.
    return x?.done === true && x.keys >= BIG.length + EMAILS.length && x.pending === 0 && x.inFlight === 0 ? x : null;
  });
  assert.deepEqual([w.keys, w.filled, w.failed], [BIG.length + EMAILS.length, BIG.length + EMAILS.length, 0]);
  const s = await readAll(late);
  assert.deepEqual([s.big.hits, s.big.misses, s.email.hits, s.email.misses], [BIG.length, 0, EMAILS.length, 0]);
  await stop(late);
});
