/**
 * [note: unlogged-writes] end to end: a session through Rotor that writes with sql_log_bin=0
 * (SET SESSION, SET @@session, SET STATEMENT … FOR, inside a transaction, prepared) changes rows
 * the binlog never reports. The caches forget what they hold once such a write completed, so every
 * other session reads MariaDB's current rows at once; the session's own reads go upstream while
 * its sql_log_bin is 0, and are served again after it is set back to 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { e2eFixture } from '../support/e2e-fixture.js';

let reader: mysql.Connection;
let writer: mysql.Connection;
let cacheId: string;
const REASON = "sql_log_bin=0 (the session's writes do not reach the binlog)";

const fx = e2eFixture('e2e_unlogged', {
  schema: "CREATE TABLE kv (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL); INSERT INTO kv VALUES (1, 'one'), (2, 'two'), (3, 'three')",
  async arrange() {
    reader = fx.viaRotor;
    writer = await fx.connect();
    cacheId = await fx.rotor.register('SELECT v FROM kv WHERE id = ?');
  },
});

const hits = (): Promise<number> => fx.rotor.hits(cacheId);
const status = async () => (await fx.rotor.api<{ caches: { unloggedWrites: number }; queries: { notCachedReasons: Record<string, number> } }>('GET', '/api/status')).body;

async function read(conn: mysql.Connection, id: number): Promise<string> {
  const [rows] = await conn.query({ sql: `SELECT v FROM kv WHERE id = ${id}`, rowsAsArray: true });
  return String((rows as unknown[][])[0][0]);
}

/** Reads `id` twice through `reader`, so the view holds it, and checks the second read was a hit. */
async function warm(id: number): Promise<string> {
  await read(reader, id);
  const before = await hits();
  const v = await read(reader, id);
  assert.equal(await hits(), before + 1, 'the read came from the view');
  return v;
}

test('a write by a session with SET SESSION sql_log_bin=0 is not served stale to others', async () => {
  assert.equal(await warm(1), 'one');
  const before = (await status()).caches.unloggedWrites;
  await writer.query('SET SESSION sql_log_bin = 0');
  await writer.query("UPDATE kv SET v = 'uno' WHERE id = 1");
  assert.equal(await read(reader, 1), 'uno');
  assert.ok((await status()).caches.unloggedWrites > before, 'counted in /api/status');
  // The session itself reads upstream while its writes bypass the binlog, with the reason shown.
  assert.equal(await read(writer, 1), 'uno');
  assert.ok(((await status()).queries.notCachedReasons[REASON] ?? 0) >= 1);
  await writer.query('SET sql_log_bin = 1');
  await read(writer, 2);
  const h = await hits();
  assert.equal(await read(writer, 2), 'two');
  assert.equal(await hits(), h + 1, 'served from the view again once sql_log_bin is 1');
});

test('SET STATEMENT sql_log_bin=0 FOR a write makes the caches forget it, and only that statement', async () => {
  assert.equal(await warm(2), 'two');
  await writer.query("SET STATEMENT sql_log_bin = 0 FOR UPDATE kv SET v = 'dos' WHERE id = 2");
  assert.equal(await read(reader, 2), 'dos');
  const h = await hits();
  await read(writer, 3);
  await read(writer, 3);
  assert.ok((await hits()) > h, 'the session stays served from the view');
});

test('unlogged writes inside a transaction are forgotten again at COMMIT', async () => {
  assert.equal(await warm(3), 'three');
  await writer.query('SET @@session.sql_log_bin = OFF');
  await writer.query('BEGIN');
  await writer.query("UPDATE kv SET v = 'tres' WHERE id = 3");
  // Not yet committed: the other session fills the view with the committed row.
  assert.equal(await read(reader, 3), 'three');
  assert.equal(await read(reader, 3), 'three');
  await writer.query('COMMIT');
  assert.equal(await read(reader, 3), 'tres');
  await writer.query('SET @@session.sql_log_bin = ON');
});

test('a prepared write with sql_log_bin=0 is forgotten too', async () => {
  assert.equal(await warm(1), 'uno');
  await writer.query('SET sql_log_bin = 0');
  await writer.execute('UPDATE kv SET v = ? WHERE id = ?', ['eins', 1]);
  assert.equal(await read(reader, 1), 'eins');
  await writer.query('SET sql_log_bin = 1');
});
