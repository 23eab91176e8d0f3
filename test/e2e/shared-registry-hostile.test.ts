/**
 * [note: shared-registry] under pressure: two Rotors share a private Redis of this file's own, and
 * whoever can write that Redis floods the change channel, fills the hash beyond what an instance
 * may hold or with entries too large to read, while instances register and reconcile at once.
 * Every assertion counts or compares; none times.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startRedis, stopServer } from '../../scripts/private-server.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';
import { pino } from 'pino';
import { RegistrationLimit } from '../../src/views/registration-limit.js';
import { MAX_REGISTRY_BYTES, SharedRegistry, TOO_LARGE } from '../../src/views/shared-registry.js';
import { until } from '../support/until.js';

const REDIS_NAME = `hostile-${randomBytes(3).toString('hex')}`;
const SETTLE_MS = 20_000;

let db: TestDatabase;
let redisUrl: string;
let redis: Redis;
let a: TestRotor;
let b: TestRotor;

type RegistryStatus = { connected: boolean; reconciles: number; skipped: Array<{ id: string; reason: string }> };
const registry = async (r: TestRotor): Promise<RegistryStatus> => (await r.api<{ registry: RegistryStatus }>('GET', '/api/status')).body.registry;
const ids = async (r: TestRotor): Promise<string[]> => (await r.api<Array<{ id: string }>>('GET', '/api/caches')).body.map((c) => c.id).sort();
const names = async (r: TestRotor): Promise<string[]> => (await r.api<Array<{ name: string }>>('GET', '/api/caches')).body.map((c) => c.name).sort();
const entry = (o: object): string => JSON.stringify({ v: 1, ...o });

async function clean(): Promise<void> {
  await redis.del('rotor:caches');
  await redis.publish('rotor:changes', '*');
  for (const r of [a, b]) await until('every cache gone', SETTLE_MS, async () => (await ids(r)).length === 0);
}

before(async () => {
  const server = await startRedis(REDIS_NAME);
  redisUrl = server.url;
  redis = new Redis(redisUrl);
  db = await freshDatabase('e2e_registry_hostile');
  await db.admin.query(`
    CREATE TABLE story (id INT PRIMARY KEY, author INT NOT NULL, title VARCHAR(100), votes INT NOT NULL);
    INSERT INTO story VALUES (1, 1, 'a', 3), (2, 1, 'b', 5), (3, 2, 'c', 1);
  `);
  a = await startTestRotor(db, { redis: redisUrl });
  b = await startTestRotor(db, { redis: redisUrl });
});

after(async () => {
  for (const r of [a, b]) await r?.stop().catch(() => undefined);
  redis?.disconnect();
  await db?.drop();
  await stopServer('redis', REDIS_NAME, { wipe: true });
});

test('a flood of change messages costs a few reconciles, not one per message', async () => {
  // Entries that fail registration after an upstream round trip: every reconcile that retries them pays it again.
  const bad: Record<string, string> = {};
  for (let i = 0; i < 20; i++) bad[`q_bad${i}`] = entry({ name: `bad${i}`, database: db.name, sql: `SELECT id FROM nope${i} WHERE id = ?` });
  await redis.hset('rotor:caches', bad);
  await redis.publish('rotor:changes', '*');
  await until('the bad entries are skipped', SETTLE_MS, async () => (await registry(a)).skipped.length === 20);
  await a.rotor.engine.registrySettled();
  const before = (await registry(a)).reconciles;
  const flood = redis.pipeline();
  for (let i = 0; i < 5_000; i++) flood.publish('rotor:changes', '*');
  for (let i = 0; i < 5_000; i++) flood.publish('rotor:changes', `q_bad${i % 20}`);
  await flood.exec();
  // The last message is in once a marker published after the flood is seen.
  await redis.hset('rotor:caches', 'q_marker', entry({ name: 'marker', database: db.name, sql: 'SELECT id FROM nope_marker WHERE id = ?' }));
  await redis.publish('rotor:changes', 'q_marker');
  await until('the marker is skipped', SETTLE_MS, async () => (await registry(a)).skipped.some((s) => s.id === 'q_marker'));
  await a.rotor.engine.registrySettled();
  const done = (await registry(a)).reconciles - before;
  assert.ok(done <= 10, `${done} whole-registry reconciles for a flood of 5,000 '*' messages`);
  assert.equal((await a.api('GET', '/health')).status, 200);
  await clean();
});

test('an instance installs no more caches from the registry than it may hold', async () => {
  const limit = new RegistrationLimit({ maxCaches: 3 });
  for (const r of [a, b]) Object.defineProperty(r.rotor.engine, 'registrations', { value: limit });
  const many: Record<string, string> = {};
  const sqls: string[] = [];
  for (let i = 0; i < 8; i++) sqls.push(`SELECT id FROM story WHERE author = ? AND votes = ${i}`);
  // Their ids are what their queries get, learned from a Rotor of its own: registering them here
  // would send a change message per id, which could reach an instance after the entries below
  // and install that one first.
  const solo = await startTestRotor(db);
  try {
    for (const sql of sqls) {
      const r = await solo.rotor.engine.register({ sql, database: db.name });
      many[r.id] = entry({ name: r.id, database: db.name, sql });
    }
  } finally {
    await solo.stop();
  }
  await redis.hset('rotor:caches', many);
  await redis.publish('rotor:changes', '*');
  for (const r of [a, b]) {
    await until('skipped past the limit', SETTLE_MS, async () => (await registry(r)).skipped.length === 5);
    assert.equal((await ids(r)).length, 3);
    assert.match((await registry(r)).skipped[0].reason, /most caches/);
  }
  assert.deepEqual(await ids(a), await ids(b), 'both hold the same three');
  Object.defineProperty(a.rotor.engine, 'registrations', { value: new RegistrationLimit() });
  Object.defineProperty(b.rotor.engine, 'registrations', { value: new RegistrationLimit() });
  await clean();
});

test('an entry too large to be a definition is skipped without being read whole, and not kept', async () => {
  const big = entry({ name: 'big', database: db.name, sql: 'SELECT id FROM story WHERE id = ? -- ' + 'x'.repeat(4_000_000) });
  await redis.hset('rotor:caches', 'q_big', big);
  await redis.publish('rotor:changes', '*');
  const s = await until('skipped', SETTLE_MS, async () => (await registry(a)).skipped.find((x) => x.id === 'q_big'));
  assert.match(s.reason, /too large/);
  const shared = new SharedRegistry(redisUrl, pino({ level: 'silent' }), { onReady: () => undefined, onChange: () => undefined });
  try {
    await shared.start(5_000);
    assert.equal((await shared.entries()).get('q_big'), TOO_LARGE, 'measured in Redis, never sent');
    assert.equal(await shared.entry('q_big'), TOO_LARGE);
    // Entries each small enough, together more than an instance reads: the registry is not read at all.
    const pipe = redis.pipeline();
    const each = 120_000;
    for (let i = 0; i * each <= MAX_REGISTRY_BYTES; i++) pipe.hset('rotor:caches', `q_fill${i}`, 'y'.repeat(each));
    await pipe.exec();
    await assert.rejects(shared.entries(), /more than an instance reads/);
  } finally {
    await shared.close();
  }
  await clean();
});

test('two instances registering two queries under one name at once end up agreeing', async () => {
  for (let round = 0; round < 3; round++) {
    const name = `same${round}`;
    const [ra, rb] = await Promise.allSettled([
      a.api('POST', '/api/caches', { sql: `SELECT title FROM story WHERE id = ? AND votes > ${round}`, name, database: db.name }),
      b.api('POST', '/api/caches', { sql: `SELECT author FROM story WHERE id = ? AND votes > ${round}`, name, database: db.name }),
    ]);
    assert.equal(ra.status, 'fulfilled');
    assert.equal(rb.status, 'fulfilled');
  }
  await a.rotor.engine.registrySettled();
  await b.rotor.engine.registrySettled();
  await until('A and B hold the same caches', SETTLE_MS, async () => JSON.stringify(await ids(a)) === JSON.stringify(await ids(b)));
  assert.deepEqual(await names(a), ['same0', 'same1', 'same2']);
  const held = Object.keys(await redis.hgetall('rotor:caches')).sort();
  assert.deepEqual(await ids(a), held, 'Redis holds what they hold');
  await clean();
});

test('a cache registered here while a reconcile is under way is not dropped by that reconcile', async () => {
  // A slow reconcile: many entries that each cost an upstream round trip before they are refused.
  const slow: Record<string, string> = {};
  for (let i = 0; i < 300; i++) slow[`q_slow${i}`] = entry({ name: `slow${i}`, database: db.name, sql: `SELECT id FROM nope${i} WHERE id = ?` });
  await redis.hset('rotor:caches', slow);
  await a.rotor.engine.registrySettled();
  await redis.publish('rotor:changes', '*');
  await until('a reconcile is under way', SETTLE_MS, async () => (await registry(a)).skipped.length > 0);
  const r = await a.rotor.engine.register({ sql: 'SELECT votes FROM story WHERE id = ?', database: db.name });
  const registered = a.rotor.engine.cache(r.id);
  await a.rotor.engine.registrySettled();
  assert.ok(registered !== null && a.rotor.engine.cache(r.id) === registered, 'the very cache registered is still installed');
  await redis.del('rotor:caches');
  await clean();
});
