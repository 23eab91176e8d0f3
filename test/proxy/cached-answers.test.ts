import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { CLIENT_CAPS, RawClient, startProxy, type RunningProxy } from './support.js';
import { Cap, Com, Type } from '../../src/proxy/protocol/constants.js';
import { decodeColumnDefinition } from '../../src/proxy/protocol/column-codec.js';
import type { ColumnDefinition } from '../../src/proxy/protocol/column-definition.js';
import { ResponseScanner, type ResponseKind } from '../../src/proxy/protocol/response-scanner.js';
import { decodePrepareOk } from '../../src/proxy/protocol/result-set.js';
import { encodeExecutePayload } from '../../src/proxy/protocol/statement-execute.js';
import { normalizeMysql2Row, upqueryConnectionOptions } from '../../src/upstream/mysql2-values.js';
import type { ReadRouter, SessionView } from '../../src/proxy/read-router.js';
import type { Value } from '../../src/values.js';

let db: TestDatabase;
let rotor: RunningProxy;

const COLUMNS = 'id, u, d, dbl, f, dt, dtt, tm, s, l1, b, n';
const TEXT_SQL = `SELECT ${COLUMNS} FROM fr WHERE id IN (1, 2) ORDER BY id`;
const PREPARED_SQL = `SELECT ${COLUMNS} FROM fr WHERE id = ?`;
const PENDING_RELAY_SQL = 'SELECT id FROM fr WHERE id = 2';

let columns: ColumnDefinition[] = [];
const rowsById = new Map<number, Value[]>();
const seen: SessionView[] = [];

const fakeRouter: ReadRouter = {
  routeQuery(sql, session) {
    seen.push({ ...session, inTransaction: session.inTransaction, cacheBlocker: session.cacheBlocker });
    // A wait that ends in a relay (a miss relayed after the session's grants were checked).
    if (sql === PENDING_RELAY_SQL || sql === 'USE information_schema') return { kind: 'pending', answer: Promise.resolve({ kind: 'upstream', reason: 'relayed after a wait' }) };
    if (sql !== TEXT_SQL || session.inTransaction || session.cacheBlocker) return { kind: 'upstream', reason: sql === TEXT_SQL ? 'session state' : null };
    return { kind: 'answer', answer: { kind: 'rows', columns, rows: [rowsById.get(1) as Value[], rowsById.get(2) as Value[]], cache: 'fake' } };
  },
  matchPrepared: (sql) => (sql === PREPARED_SQL ? { cacheId: 'fr-by-id' } : null),
  forgetUnlogged: () => undefined,
  routeExecute(_match, params) {
    const row = rowsById.get(Number(params[0]));
    if (params[0] === 50) return { kind: 'upstream', reason: 'not in the cache' };
    if (params[0] === 77) {
      const broken = [...(rowsById.get(1) as Value[])];
      broken[5] = 'not a date';
      return { kind: 'answer', answer: { kind: 'rows', columns, rows: [broken], cache: 'fake' } };
    }
    if (params[0] === 99) {
      return { kind: 'pending', answer: Promise.resolve({ kind: 'rows' as const, columns, rows: [], cache: 'fake' }) };
    }
    return { kind: 'answer', answer: { kind: 'rows', columns, rows: row ? [row] : [], cache: 'fake' } };
  },
};

before(async () => {
  db = await freshDatabase('proxy_cached');
  await db.admin.query(`CREATE TABLE fr (
    id INT PRIMARY KEY, u BIGINT UNSIGNED, d DECIMAL(12,4), dbl DOUBLE, f FLOAT, dt DATE, dtt DATETIME(3), tm TIME,
    s VARCHAR(40), l1 VARCHAR(10) CHARACTER SET latin1, b VARBINARY(8), n INT NULL)`);
  await db.admin.query(`INSERT INTO fr VALUES
    (1, 18446744073709551615, -12.5, 1e-300, 1.1, '2024-02-29', '2024-02-29 01:02:03.450', '-100:00:01', 'héllo ✓', 'café', 0x00ff10, NULL),
    (2, 0, 0, 0.1, -3.25, '1970-01-01', '2000-01-01 00:00:00', '00:00:00', '', '', '', 7)`);
  // The answer's column definitions and values, captured the way the engine does it.
  const { client } = await RawClient.login(db.port, db.user, db.password, db.name);
  const packets = await exchange(client, Buffer.from([Com.QUERY, ...Buffer.from(TEXT_SQL)]), 'query');
  columns = packets.slice(1, 13).map((p) => decodeColumnDefinition(p.subarray(4)));
  assert.equal(columns.length, 12);
  assert.equal(columns[0].type, Type.LONG);
  client.end();
  const up = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.name, ...upqueryConnectionOptions });
  const [rows, fields] = await up.query(TEXT_SQL);
  for (const row of rows as Value[][]) rowsById.set(Number(row[0]), normalizeMysql2Row(fields, [...row]));
  await up.end();
  rotor = await startProxy({ host: db.host, port: db.port }, { router: fakeRouter });
});

after(async () => {
  await rotor?.close();
  await db?.drop();
});

/** Sends one command and returns the raw packets of its whole response. */
async function exchange(client: RawClient, payload: Buffer, kind: ResponseKind, deprecateEof = true): Promise<Buffer[]> {
  const scanner = new ResponseScanner({ onOk: () => undefined, onEof: () => undefined, onErr: () => undefined, onPrepareOk: () => undefined });
  scanner.begin(kind, deprecateEof);
  client.send(0, payload);
  const out: Buffer[] = [];
  for (;;) {
    const p = await client.read();
    out.push(p.raw);
    if (scanner.feed(p.raw) >= 0) return out;
  }
}

for (const deprecateEof of [true, false]) {
  test(`a cached text answer is byte-identical to MariaDB's own response (${deprecateEof ? 'with DEPRECATE_EOF' : 'with EOF packets'})`, async () => {
    const caps = deprecateEof ? CLIENT_CAPS : (CLIENT_CAPS & ~Cap.DEPRECATE_EOF) >>> 0;
    const direct = await RawClient.login(db.port, db.user, db.password, db.name, 'mysql_native_password', caps);
    const viaRotor = await RawClient.login(rotor.port, db.user, db.password, db.name, 'mysql_native_password', caps);
    const query = Buffer.from([Com.QUERY, ...Buffer.from(TEXT_SQL)]);
    const before = rotor.proxy.stats().servedFromCache;
    const a = Buffer.concat(await exchange(direct.client, query, 'query', deprecateEof));
    const b = Buffer.concat(await exchange(viaRotor.client, query, 'query', deprecateEof));
    assert.equal(rotor.proxy.stats().servedFromCache, before + 1);
    assert.deepEqual(b, a);
    direct.client.end();
    viaRotor.client.end();
  });
}

test('a cached binary (prepared) answer is byte-identical to MariaDB\'s own, also when the types are not re-sent', async () => {
  const direct = await RawClient.login(db.port, db.user, db.password, db.name);
  const viaRotor = await RawClient.login(rotor.port, db.user, db.password, db.name);
  const responses: Buffer[][] = [];
  for (const { client } of [direct, viaRotor]) {
    const prep = await exchange(client, Buffer.from([Com.STMT_PREPARE, ...Buffer.from(PREPARED_SQL)]), 'prepare');
    const id = decodePrepareOk(prep[0].subarray(4)).statementId;
    const out: Buffer[] = [];
    out.push(Buffer.concat(await exchange(client, encodeExecutePayload(id, [1], [Type.LONGLONG]), 'execute')));
    out.push(Buffer.concat(await exchange(client, encodeExecutePayload(id, [2], null), 'execute')));
    out.push(Buffer.concat(await exchange(client, encodeExecutePayload(id, [3], null), 'execute')));
    responses.push(out);
  }
  assert.deepEqual(responses[1], responses[0]);
  direct.client.end();
  viaRotor.client.end();
});

test('mysql2 query() and execute() see the same rows and fields from a cached answer as from MariaDB', async () => {
  const run = async (port: number): Promise<unknown[]> => {
    const c = await mysql.createConnection({ host: '127.0.0.1', port, user: db.user, password: db.password, database: db.name, supportBigNumbers: true });
    try {
      const out: unknown[] = [];
      const pick = (fields: unknown): unknown => (fields as Array<Record<string, unknown>>).map((f) => [f.name, f.orgTable, f.columnType, f.flags, f.characterSet, f.columnLength, f.decimals]);
      const [r1, f1] = await c.query(TEXT_SQL);
      out.push(r1, pick(f1));
      for (const id of [1, 2, 3]) {
        const [r2, f2] = await c.execute(PREPARED_SQL, [id]);
        out.push(r2, pick(f2));
      }
      return out;
    } finally {
      await c.end();
    }
  };
  assert.deepEqual(await run(rotor.port), await run(db.port));
});

test('a pending answer is awaited; an answer that cannot be encoded and an unmatched statement are relayed upstream', async () => {
  const c = await mysql.createConnection({ host: '127.0.0.1', port: rotor.port, user: db.user, password: db.password, database: db.name });
  try {
    assert.deepEqual((await c.execute(PREPARED_SQL, [99]))[0], []);
    assert.deepEqual((await c.execute(PREPARED_SQL, [77]))[0], [], 'upstream has no row 77');
    assert.equal(rotor.proxy.stats().notCachedReasons['answer not encodable'], 1);
    assert.deepEqual((await c.query('SELECT COUNT(*) AS n FROM fr'))[0], [{ n: 2 }]);
  } finally {
    await c.end();
  }
});

test('a pending answer that ends in a relay sends the statement upstream with its reason, and the session notes it', async () => {
  const c = await mysql.createConnection({ host: '127.0.0.1', port: rotor.port, user: db.user, password: db.password, database: db.name });
  try {
    const before = rotor.proxy.stats().notCachedReasons['relayed after a wait'] ?? 0;
    assert.deepEqual((await c.query(PENDING_RELAY_SQL))[0], [{ id: 2 }]);
    assert.equal(rotor.proxy.stats().notCachedReasons['relayed after a wait'], before + 1);
    assert.equal(rotor.proxy.stats().notCachedReasons['fill failed'], undefined);
    // Relayed through the command table's callback: the USE it ran moves the session's database.
    await c.query('USE information_schema');
    seen.length = 0;
    await c.query('SELECT 1');
    assert.equal(seen[0]?.database, 'information_schema');
  } finally {
    await c.end();
  }
});

test('the router sees the session\'s database, transaction state and cache blockers', async () => {
  const c = await mysql.createConnection({ host: '127.0.0.1', port: rotor.port, user: db.user, password: db.password, database: db.name });
  try {
    seen.length = 0;
    await c.query('SELECT 1');
    await c.query('BEGIN');
    await c.query('SELECT 2');
    await c.query('COMMIT');
    await c.query('SET autocommit = 0');
    await c.query('SELECT 3');
    await c.query('SET autocommit = 1');
    await c.query('USE mysql');
    await c.query('SELECT 4');
    await c.query("SET time_zone = '+02:00'");
    await c.query('SELECT 5');
    const views = seen;
    const at = (n: number): SessionView => views[[0, 2, 5, 8, 10][n]];
    assert.equal(at(0).database, db.name);
    assert.equal(at(0).user, db.user);
    assert.equal(at(0).inTransaction, false);
    assert.equal(at(1).inTransaction, true);
    assert.equal(at(2).inTransaction, true, 'autocommit off');
    assert.equal(at(3).database, 'mysql');
    assert.equal(at(3).inTransaction, false);
    assert.equal(at(3).cacheBlocker, null);
    assert.equal(at(4).cacheBlocker, 'time_zone changed');
    // A blocked session's cached query goes upstream, counted under the router's reason.
    await c.query(`USE ${db.name}`);
    await c.query(TEXT_SQL);
    assert.equal(rotor.proxy.stats().notCachedReasons['session state'], 1);
  } finally {
    await c.end();
  }
});

test('an execution relayed after a cached one carries the parameter types upstream never saw', async () => {
  const transcript = async (port: number): Promise<Buffer[]> => {
    const { client } = await RawClient.login(port, db.user, db.password, db.name);
    const prep = await exchange(client, Buffer.from([Com.STMT_PREPARE, ...Buffer.from(PREPARED_SQL)]), 'prepare');
    const id = decodePrepareOk(prep[0].subarray(4)).statementId;
    const out = [Buffer.concat(await exchange(client, encodeExecutePayload(id, [1], [Type.LONGLONG]), 'execute'))];
    // Through Rotor this one goes upstream, without types in the client's packet.
    out.push(Buffer.concat(await exchange(client, encodeExecutePayload(id, [50], null), 'execute')));
    out.push(Buffer.concat(await exchange(client, encodeExecutePayload(id, [2], null), 'execute')));
    client.end();
    return out;
  };
  const relayedBefore = rotor.proxy.stats().notCachedReasons['not in the cache'] ?? 0;
  assert.deepEqual(await transcript(rotor.port), await transcript(db.port));
  assert.equal(rotor.proxy.stats().notCachedReasons['not in the cache'], relayedBefore + 1);
});
