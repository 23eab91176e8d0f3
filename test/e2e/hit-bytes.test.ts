/**
 * Cache hits, byte for byte against MariaDB: a prepared statement's executions answered from the
 * binary packets a key keeps ([note: binary-rows]) on the read that makes them, on the reads that
 * reuse them and after a write changed the key; and the same statement's text, whose route is
 * remembered by its text ([note: route-memo]), which must not outlive the session's database or a
 * drop of the cache.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { e2eFixture } from '../support/e2e-fixture.js';
import { RawClient } from '../proxy/support.js';
import { Com, Type } from '../../src/proxy/protocol/constants.js';
import { ResponseScanner, type ResponseKind } from '../../src/proxy/protocol/response-scanner.js';
import { decodePrepareOk } from '../../src/proxy/protocol/result-set.js';
import { encodeExecutePayload } from '../../src/proxy/protocol/statement-execute.js';

let other: TestDatabase;
let cacheId: string;

const COLUMNS = 'id, u, d, dbl, f, dt, dtt, tm, s, l1, b, n, big';
const PREPARED_SQL = `SELECT ${COLUMNS} FROM fr WHERE id = ?`;
const TABLE = `CREATE TABLE fr (
  id INT PRIMARY KEY, u BIGINT UNSIGNED, d DECIMAL(12,4), dbl DOUBLE, f FLOAT, dt DATE, dtt DATETIME(3), tm TIME,
  s VARCHAR(40), l1 VARCHAR(10) CHARACTER SET latin1, b VARBINARY(8), n INT NULL, big BIGINT)`;

const fx = e2eFixture('e2e_hit_bytes', {
  async schema(db) {
    other = await freshDatabase('e2e_hit_bytes_other');
    for (const d of [db, other]) await d.admin.query(TABLE);
    await db.admin.query(`INSERT INTO fr VALUES
      (1, 18446744073709551615, -12.5, 1e-300, 1.5, '2024-02-29', '2024-02-29 01:02:03.450', '-100:00:01', 'héllo ✓', 'café', 0x00ff10, NULL, 1),
      (2, 0, 0, 0.1, -3.25, '1970-01-01', '2000-01-01 00:00:00', '00:00:00', '', '', '', 7, -9223372036854775808)`);
    await other.admin.query(`INSERT INTO fr VALUES
      (1, 5, 1, 2, 3, '2001-01-01', '2001-01-01 00:00:00', '01:00:00', 'the other database', 'x', 0x01, 1, 2)`);
  },
  async arrange() {
    cacheId = await fx.rotor.register(PREPARED_SQL);
  },
});

after(async () => {
  await other?.drop();
});

async function exchange(client: RawClient, payload: Buffer, kind: ResponseKind): Promise<Buffer> {
  const scanner = new ResponseScanner({ onOk: () => undefined, onEof: () => undefined, onErr: () => undefined, onPrepareOk: () => undefined });
  scanner.begin(kind, true);
  client.send(0, payload);
  const out: Buffer[] = [];
  for (;;) {
    const p = await client.read();
    out.push(p.raw);
    if (scanner.feed(p.raw) >= 0) return Buffer.concat(out);
  }
}

const query = (sql: string): Buffer => Buffer.from([Com.QUERY, ...Buffer.from(sql)]);

/** A raw session to `port` with the statement prepared; its executions by id. */
async function preparedSession(port: number, database = fx.db.name): Promise<{ client: RawClient; execute(id: number): Promise<Buffer> }> {
  const { client } = await RawClient.login(port, fx.db.user, fx.db.password, database);
  const prep = await exchange(client, Buffer.from([Com.STMT_PREPARE, ...Buffer.from(PREPARED_SQL)]), 'prepare');
  const statementId = decodePrepareOk(prep.subarray(4)).statementId;
  let typesSent = false;
  return {
    client,
    execute: (id) => {
      const types = typesSent ? null : [Type.LONGLONG];
      typesSent = true;
      return exchange(client, encodeExecutePayload(statementId, [id], types), 'execute');
    },
  };
}

test('prepared hits are MariaDB\'s bytes: the first hit of a key, the next ones, and after a write to it', async () => {
  const direct = await preparedSession(fx.db.port);
  const through = await preparedSession(fx.rotor.rotor.listen.port);
  try {
    // The first execution of each key fills it; the others are hits.
    const before = await fx.rotor.hits(cacheId);
    for (let round = 0; round < 3; round++) {
      for (const id of [1, 2, 3]) assert.deepEqual(await through.execute(id), await direct.execute(id), `id ${id}, round ${round + 1}`);
    }
    assert.ok((await fx.rotor.hits(cacheId)) - before >= 6, 'answered from the cache');
    await fx.db.admin.query("UPDATE fr SET s = 'changed ✓', n = 42, big = 9223372036854775807 WHERE id = 1");
    await fx.rotor.caughtUp();
    const hits = await fx.rotor.hits(cacheId);
    for (let round = 0; round < 2; round++) assert.deepEqual(await through.execute(1), await direct.execute(1), `id 1 after the write, round ${round + 1}`);
    assert.equal(await fx.rotor.hits(cacheId), hits + 2, 'the changed key is still served from the cache');
  } finally {
    direct.client.end();
    through.client.end();
  }
});

test('text hits are MariaDB\'s bytes, read after read, whatever prepared reads did to the key', async () => {
  const direct = await RawClient.login(fx.db.port, fx.db.user, fx.db.password, fx.db.name);
  const through = await RawClient.login(fx.rotor.rotor.listen.port, fx.db.user, fx.db.password, fx.db.name);
  try {
    const before = await fx.rotor.hits(cacheId);
    for (let round = 0; round < 3; round++) {
      for (const sql of [`SELECT ${COLUMNS} FROM fr WHERE id = 2`, `select ${COLUMNS} from fr where id=1`]) {
        assert.deepEqual(await exchange(through.client, query(sql), 'query'), await exchange(direct.client, query(sql), 'query'), `${sql}, round ${round + 1}`);
      }
    }
    assert.ok((await fx.rotor.hits(cacheId)) - before >= 4, 'answered from the cache');
  } finally {
    direct.client.end();
    through.client.end();
  }
});

test('a statement text routed to a cache in one database is not answered from it in another', async () => {
  const session = await fx.rotor.connect({ database: fx.db.name });
  const read = async (sql: string): Promise<unknown> => (await session.query({ sql, rowsAsArray: true }))[0];
  const sql = 'SELECT s FROM fr WHERE id = 1';
  const spelling = await fx.rotor.register(sql.replace('1', '?'));
  try {
    for (let i = 0; i < 3; i++) await read(sql);
    const hits = await fx.rotor.hits(spelling);
    assert.ok(hits >= 1, 'the statement is served from the cache');
    await session.query(`USE \`${other.name}\``);
    assert.deepEqual(await read(sql), [['the other database']]);
    assert.deepEqual(await read(sql), [['the other database']]);
    assert.equal(await fx.rotor.hits(spelling), hits, 'the other database\'s table is read upstream');
    await session.query(`USE \`${fx.db.name}\``);
    const [current] = await fx.db.admin.query({ sql, rowsAsArray: true });
    assert.deepEqual(await read(sql), current);
    assert.equal(await fx.rotor.hits(spelling), hits + 1, 'back in the cache\'s database, served again');
  } finally {
    await session.end();
  }
});

test('a statement text whose cache was dropped is not answered from it, and a cache registered again serves it', async () => {
  const session = await fx.rotor.connect({ database: fx.db.name });
  const read = async (sql: string): Promise<unknown> => (await session.query({ sql, rowsAsArray: true }))[0];
  const sql = 'SELECT n FROM fr WHERE id = 2';
  const first = await fx.rotor.register('SELECT n FROM fr WHERE id = ?');
  try {
    for (let i = 0; i < 3; i++) assert.deepEqual(await read(sql), [[7]]);
    assert.ok((await fx.rotor.hits(first)) >= 1);
    assert.ok((await fx.rotor.api('DELETE', `/api/caches/${first}`)).status < 300);
    // The dropped cache follows the binlog no more: an answer from it would still say 7.
    await fx.db.admin.query('UPDATE fr SET n = 8 WHERE id = 2');
    await fx.rotor.caughtUp();
    assert.deepEqual(await read(sql), [[8]]);
    const again = await fx.rotor.register('SELECT n FROM fr WHERE id = ?');
    for (let i = 0; i < 3; i++) assert.deepEqual(await read(sql), [[8]]);
    assert.ok((await fx.rotor.hits(again)) >= 1, 'the new cache serves the statement');
  } finally {
    await session.end();
  }
});

test('a remembered statement text goes upstream inside a transaction', async () => {
  const session = await fx.rotor.connect({ database: fx.db.name });
  const sql = 'SELECT s, dt FROM fr WHERE id = 2';
  const spelling = await fx.rotor.register('SELECT s, dt FROM fr WHERE id = ?');
  try {
    for (let i = 0; i < 3; i++) await session.query(sql);
    const hits = await fx.rotor.hits(spelling);
    assert.ok(hits >= 1, 'served from the cache');
    await session.beginTransaction();
    // REPEATABLE READ: the transaction's first read takes its snapshot, after this write; the
    // binlog may not have brought it to the cache yet.
    await fx.db.admin.query("UPDATE fr SET s = 'in the transaction' WHERE id = 2");
    const [rows] = await session.query({ sql, rowsAsArray: true, dateStrings: true });
    assert.deepEqual(rows, [['in the transaction', '1970-01-01']]);
    assert.equal(await fx.rotor.hits(spelling), hits, 'not from the cache');
    await session.commit();
  } finally {
    await session.end();
  }
});
