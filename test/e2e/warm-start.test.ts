/**
 * Warm start end to end ([note: warm-fill]): a Rotor with a data dir serves keys (a BIGINT beyond
 * 2^53 read as text, a binary string with 0x00 and 0xff read as a prepared statement), stops
 * cleanly, and a Rotor started again over the same data dir fills those keys in the background
 * before anyone reads them: the first reads after the restart are hits, with MariaDB's answers,
 * including a row written while Rotor was down. The same restart with `--warm-keys 0` starts cold.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';

let db: TestDatabase;
let dir: string;

interface Stats { hits: number; misses: number; relayedMisses: number; upqueries: number; keys: number }
interface Warm { keys: number; filled: number; present: number; failed: number; skipped: number; pending: number; inFlight: number; done: boolean }

const BIG = [9007199254740993n, 18446744073709551615n, 9007199254740995n];
const BIN = [Buffer.from([0x00, 0xff]), Buffer.from([0xff, 0x00, 0x27])];

before(async () => {
  db = await freshDatabase('e2e_warm');
  dir = await mkdtemp(join(tmpdir(), 'rotor-warm-e2e-'));
  await db.admin.query(`
    CREATE TABLE big_kv (k BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(20) NOT NULL);
    INSERT INTO big_kv VALUES ${BIG.map((k, i) => `(${k}, 'big${i}')`).join(', ')};
    CREATE TABLE bin_kv (k VARBINARY(8) PRIMARY KEY, v VARCHAR(20) NOT NULL);
    INSERT INTO bin_kv VALUES (X'00ff', 'bin0'), (X'ff0027', 'bin1');
  `);
});

after(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

const readBig = async (c: mysql.Connection, k: bigint): Promise<unknown[][]> => (await c.query({ sql: `SELECT v FROM big_kv WHERE k = ${k}`, rowsAsArray: true }))[0] as unknown[][];
const readBin = async (c: mysql.Connection, k: Buffer): Promise<unknown[][]> => (await c.execute({ sql: 'SELECT v FROM bin_kv WHERE k = ?', values: [k], rowsAsArray: true }))[0] as unknown[][];
const directBig = async (k: bigint): Promise<unknown[][]> => (await db.admin.query({ sql: `SELECT v FROM big_kv WHERE k = ${k}`, rowsAsArray: true }))[0] as unknown[][];
const directBin = async (k: Buffer): Promise<unknown[][]> => (await db.admin.query({ sql: 'SELECT v FROM bin_kv WHERE k = ?', values: [k], rowsAsArray: true }))[0] as unknown[][];

async function stats(rotor: TestRotor, id: string): Promise<Stats> {
  return (await rotor.api<{ stats: Stats }>('GET', `/api/caches/${id}`)).body.stats;
}

async function warm(rotor: TestRotor): Promise<Warm | null> {
  return (await rotor.api<{ warm: Warm | null }>('GET', '/api/status')).body.warm;
}

/** Reads every key once through a new client; the caches' stats after. */
async function readAll(rotor: TestRotor, big: string, bin: string): Promise<{ big: Stats; bin: Stats }> {
  const c = await rotor.connect();
  try {
    for (const k of BIG) assert.deepEqual(await readBig(c, k), await directBig(k), `big ${k}`);
    for (const k of BIN) assert.deepEqual(await readBin(c, k), await directBin(k), `bin ${k.toString('hex')}`);
  } finally {
    await c.end();
  }
  return { big: await stats(rotor, big), bin: await stats(rotor, bin) };
}

test('after a restart over the same data dir, the keys served before are hits from the first read, with MariaDB\'s answers', async () => {
  const first = await startTestRotor(db, { dataDir: dir, missPolicy: 'relay' });
  let big: string, bin: string;
  try {
    big = await first.register('SELECT v FROM big_kv WHERE k = ?');
    bin = await first.register('SELECT v FROM bin_kv WHERE k = ?');
    const c = await first.connect();
    // Relayed, relayed and filled behind, then hits.
    for (let round = 0; round < 3; round++) {
      for (const k of BIG) await readBig(c, k);
      for (const k of BIN) await readBin(c, k);
      await first.rotor.engine.settled();
    }
    await c.end();
    assert.equal((await stats(first, big)).keys, BIG.length);
    assert.equal((await stats(first, bin)).keys, BIN.length);
  } finally {
    // A clean stop records the hot keys.
    await first.stop();
  }
  assert.deepEqual((await readdir(join(dir, 'hot'))).sort(), [`${big}.json`, `${bin}.json`].sort());

  // While Rotor is down.
  await db.admin.query(`UPDATE big_kv SET v = 'changed' WHERE k = ${BIG[0]}`);
  await db.admin.query("UPDATE bin_kv SET v = 'changed too' WHERE k = X'00ff'");

  const second = await startTestRotor(db, { dataDir: dir, missPolicy: 'relay' });
  try {
    let w = await warm(second);
    while (w?.done !== true) {
      await sleep(20);
      w = await warm(second);
    }
    assert.deepEqual(w, { keys: 5, filled: 5, present: 0, failed: 0, skipped: 0, pending: 0, inFlight: 0, done: true });
    const s = await readAll(second, big, bin);
    assert.deepEqual([s.big.hits, s.big.misses, s.bin.hits, s.bin.misses], [BIG.length, 0, BIN.length, 0]);
  } finally {
    await second.stop();
  }

  // The same restart without warm start: every first read is a miss, relayed.
  const cold = await startTestRotor(db, { dataDir: dir, missPolicy: 'relay', warmKeys: '0' });
  try {
    assert.equal(await warm(cold), null);
    const s = await readAll(cold, big, bin);
    assert.deepEqual([s.big.hits, s.big.misses, s.bin.hits, s.bin.misses], [0, BIG.length, 0, BIN.length]);
  } finally {
    await cold.stop();
  }
});
