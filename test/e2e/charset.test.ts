/**
 * [note: sql-mode-quoting] end to end for clients whose connection character set is not utf8mb4:
 * Rotor reads statements as UTF-8, so a latin1 client's `'é'` (one byte, 0xE9) would be another
 * literal to it. Such sessions are relayed, with the reason in /api/status, and get MariaDB's own
 * answer byte for byte; so does a utf8mb4 session after `SET NAMES latin1`, and after `SET NAMES
 * utf8mb4` back (Rotor cannot know the session is as it was: it stays upstream until a reset).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { e2eFixture } from '../support/e2e-fixture.js';

let cacheId: string;
const CACHED = "SELECT id, name FROM city WHERE name = 'Orléans' ORDER BY id";
const UNCACHED_LATIN1 = "the connection's character set (collation 8) is not utf8mb4, utf8mb3 or ascii";

const fx = e2eFixture('e2e_charset', {
  schema: `
    CREATE TABLE city (id INT PRIMARY KEY, name VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, INDEX (name));
    INSERT INTO city VALUES (1, 'Orléans'), (2, 'Orleans'), (3, 'ORLÉANS'), (4, 'Orlé');
  `,
  async arrange() {
    cacheId = await fx.rotor.register('SELECT id, name FROM city WHERE name = ? ORDER BY id');
  },
});

const hits = (): Promise<number> => fx.rotor.hits(cacheId);
const reasons = async () => (await fx.rotor.api<{ queries: { notCachedReasons: Record<string, number> } }>('GET', '/api/status')).body.queries.notCachedReasons;

/** The raw bytes of every value, so the comparison sees what the client library received. */
async function rawRows(conn: mysql.Connection, sql: string): Promise<string[][]> {
  const [rows] = await conn.query({
    sql, rowsAsArray: true,
    typeCast: (field, next) => (field.type === 'VAR_STRING' ? field.buffer()?.toString('hex') ?? null : next()),
  });
  return (rows as unknown[][]).map((r) => r.map((v) => String(v)));
}

function direct(charset: string): Promise<mysql.Connection> {
  return fx.connectDirect({ charset });
}

test('a latin1 client gets MariaDB\'s exact answer, relayed, with the reason shown', async () => {
  const through = await fx.rotor.connect({ charset: 'latin1' });
  const up = await direct('latin1');
  try {
    for (const sql of [CACHED, "SELECT id, name FROM city WHERE name = 'Orlé' ORDER BY id"]) {
      const before = await hits();
      const got = await rawRows(through, sql);
      assert.deepEqual(got, await rawRows(up, sql), sql);
      assert.ok(got.some((r) => r[1].includes('e9')), 'latin1 bytes: é is 0xE9');
      assert.equal(await hits(), before, 'not answered from the view');
    }
    assert.ok(((await reasons())[UNCACHED_LATIN1] ?? 0) >= 2);
  } finally {
    await through.end();
    await up.end();
  }
});

test('SET NAMES latin1 in a utf8mb4 session goes upstream, and stays there after SET NAMES utf8mb4', async () => {
  const through = await fx.rotor.connect({ charset: 'utf8mb4' });
  const up = await direct('utf8mb4');
  try {
    assert.deepEqual(await rawRows(through, CACHED), await rawRows(up, CACHED));
    const before = await hits();
    assert.deepEqual(await rawRows(through, CACHED), await rawRows(up, CACHED));
    assert.equal(await hits(), before + 1, 'a utf8mb4 session is served from the view');

    for (const names of ['SET NAMES latin1', 'SET NAMES utf8mb4']) {
      await through.query(names);
      await up.query(names);
      const h = await hits();
      assert.deepEqual(await rawRows(through, CACHED), await rawRows(up, CACHED), names);
      assert.equal(await hits(), h, `${names}: relayed`);
    }
    assert.ok(((await reasons())['names changed'] ?? 0) >= 2);
    // COM_RESET_CONNECTION gives the session the handshake's settings again.
    await through.reset();
    const h = await hits();
    assert.deepEqual(await rawRows(through, CACHED), await rawRows(up, CACHED));
    assert.equal(await hits(), h + 1, 'served again after a reset');
  } finally {
    await through.end();
    await up.end();
  }
});
