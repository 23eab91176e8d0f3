/**
 * `--miss-policy relay` end to end through mysql2, text and prepared: a first read is MariaDB's own
 * answer through the session's upstream session and costs no upquery; the second read of the key is
 * relayed too and fills the key in the background; the third is a hit. Keys read once never run an
 * upquery, answers equal MariaDB's under writes, and a relayed miss of a session that reads its own
 * writes (`--consistency session`) keeps the session's state as a relayed statement does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { e2eFixture } from '../support/e2e-fixture.js';

let cacheId: string;

const FIRST = 'miss (first read of the key)';
const FILLED = 'miss (filled in the background)';

interface Stats { hits: number; misses: number; relayedMisses: number; upqueries: number; keys: number }

const fx = e2eFixture('e2e_relay', {
  schema: 'CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(20) NOT NULL); INSERT INTO kv SELECT seq, CONCAT(\'v\', seq) FROM seq_1_to_1000',
  rotor: { missPolicy: 'relay', consistency: 'session' },
  async arrange() {
    cacheId = await fx.rotor.register('SELECT v FROM kv WHERE k = ?');
  },
});

const stats = async (): Promise<Stats> => (await fx.rotor.api<{ stats: Stats }>('GET', `/api/caches/${cacheId}`)).body.stats;
interface FillReads { read: string | null; snapshotReads: number; lockingReads: number; tornPositions: number }
const fills = async (): Promise<FillReads> => (await fx.rotor.api<{ fills: FillReads }>('GET', '/api/status')).body.fills;
const fillReadCount = (f: FillReads): number => f.snapshotReads + f.lockingReads;
const reasons = async (): Promise<Record<string, number>> =>
  (await fx.rotor.api<{ queries: { notCachedReasons: Record<string, number> } }>('GET', '/api/status')).body.queries.notCachedReasons;

type Read = (conn: mysql.Connection, k: number) => Promise<unknown[][]>;
const text: Read = async (conn, k) => (await conn.query({ sql: `SELECT v FROM kv WHERE k = ${k}`, rowsAsArray: true }))[0] as unknown[][];
const prepared: Read = async (conn, k) => (await conn.execute({ sql: 'SELECT v FROM kv WHERE k = ?', values: [k], rowsAsArray: true }))[0] as unknown[][];

async function direct(k: number): Promise<unknown[][]> {
  return (await fx.db.admin.query({ sql: `SELECT v FROM kv WHERE k = ${k}`, rowsAsArray: true }))[0] as unknown[][];
}

for (const [name, read, k] of [['text', text, 1], ['prepared', prepared, 2]] as const) {
  test(`${name}: a first read is relayed, the second fills in the background, the third hits`, async () => {
    const s0 = await stats();
    const r0 = await reasons();
    const f0 = await fills();
    assert.deepEqual(await read(fx.viaRotor, k), await direct(k));
    const s1 = await stats();
    assert.equal(s1.misses, s0.misses + 1);
    assert.equal(s1.relayedMisses, s0.relayedMisses + 1);
    assert.equal(s1.upqueries, s0.upqueries, 'no upquery for a first read');
    assert.equal(s1.keys, s0.keys, 'nothing filled');
    assert.equal((await reasons())[FIRST], (r0[FIRST] ?? 0) + 1);

    assert.deepEqual(await read(fx.viaRotor, k), await direct(k));
    await fx.rotor.rotor.engine.settled();
    const s2 = await stats();
    assert.equal(s2.relayedMisses, s0.relayedMisses + 2);
    assert.equal(s2.upqueries, s0.upqueries + 1);
    assert.equal(s2.keys, s0.keys + 1);
    assert.equal((await reasons())[FILLED], (r0[FILLED] ?? 0) + 1);
    const f2 = await fills();
    assert.equal(fillReadCount(f2), fillReadCount(f0) + 1, '/api/status counts the one fill read');
    assert.equal(f2.read, 'locking', 'fills lock by default');

    assert.deepEqual(await read(fx.viaRotor, k), await direct(k));
    assert.equal((await stats()).hits, s0.hits + 1);
  });
}

test('keys read once, text or prepared, never run an upquery', async () => {
  const s0 = await stats();
  const f0 = await fills();
  for (let k = 100; k < 300; k++) assert.deepEqual(await (k % 2 ? text : prepared)(fx.viaRotor, k), await direct(k));
  await fx.rotor.rotor.engine.settled();
  const s1 = await stats();
  assert.equal(s1.upqueries, s0.upqueries);
  assert.equal(s1.relayedMisses, s0.relayedMisses + 200);
  assert.equal(s1.keys, s0.keys);
  assert.equal((await reasons())['fill failed'], undefined);
  assert.equal(fillReadCount(await fills()), fillReadCount(f0), 'no fill read: no locks taken for keys read once');
});

test('answers equal MariaDB\'s while other sessions write the keys being filled', async () => {
  const keys = Array.from({ length: 10 }, (_, i) => 500 + i);
  const writer = await fx.rotor.connect();
  const reader = await fx.rotor.connect();
  try {
    let writing = true;
    const writes = (async () => {
      for (let i = 0; i < 120; i++) await writer.query(`UPDATE kv SET v = '${i}' WHERE k = ${keys[i % keys.length]}`);
      writing = false;
    })();
    // A key's value only moves forward (each write's i is larger): a read never goes back.
    const seen = new Map<number, number>();
    for (let pass = 0; pass < 3 || writing; pass++) {
      for (const k of keys) {
        const rows = await (pass % 2 ? prepared : text)(reader, k);
        const v = /^\d+$/.test(String(rows[0][0])) ? Number(rows[0][0]) : -1;
        assert.ok(v >= (seen.get(k) ?? -1), `key ${k} went back from ${seen.get(k)} to ${v}`);
        seen.set(k, v);
      }
    }
    await writes;
    await fx.rotor.rotor.engine.settled();
    await fx.rotor.caughtUp();
    const h0 = (await stats()).hits;
    for (const k of keys) assert.deepEqual(await text(reader, k), await direct(k), `key ${k}`);
    assert.equal((await stats()).hits, h0 + keys.length, 'every key read again was filled');
  } finally {
    await writer.end();
    await reader.end();
  }
});

test('a session that reads its own writes has its misses relayed, and its state followed', async () => {
  const own = await fx.rotor.connect();
  try {
    await own.query("UPDATE kv SET v = 'mine' WHERE k = 900");
    // The write makes the read wait for the binlog; the miss is then relayed (the relay the
    // command table passes: the statement's state is noted as any relayed statement's).
    assert.deepEqual(await text(own, 900), [['mine']]);
    assert.deepEqual(await prepared(own, 900), [['mine']]);
    await fx.rotor.rotor.engine.settled();
    await own.query('BEGIN');
    await own.query("UPDATE kv SET v = 'in a transaction' WHERE k = 900");
    const r0 = (await reasons())['inside a transaction'] ?? 0;
    assert.deepEqual(await text(own, 900), [['in a transaction']]);
    assert.equal((await reasons())['inside a transaction'], r0 + 1, 'the session is known to be inside its transaction');
    await own.query('ROLLBACK');
    const h0 = (await stats()).hits;
    assert.deepEqual(await prepared(own, 900), [['mine']]);
    assert.equal((await stats()).hits, h0 + 1, 'served from the view once the transaction ended');
    const why = await reasons();
    assert.equal(why['fill failed'], undefined);
    assert.ok((why[FIRST] ?? 0) > 0 && (why[FILLED] ?? 0) > 0);
  } finally {
    await own.end();
  }
});
