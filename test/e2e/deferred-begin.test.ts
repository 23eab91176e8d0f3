/**
 * [note: deferred-begin] `--defer-begin on`, through Rotor in front of the private MariaDB, with a
 * TCP tap on each side: a plain BEGIN is answered at once with the bytes MariaDB sends, and goes
 * upstream in one write with the next command; what the session then does (commit, roll back, a
 * failing statement, ping, a prepared statement, a cached read, quit) behaves as without Rotor;
 * a BEGIN the upstream answers differently closes the session and leaves nothing behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { startTestRotor, type TestRotor } from '../support/rotor.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { tcpTap, type TappedConnection, type TcpTap } from '../support/tcp-tap.js';
import { until } from '../support/until.js';

let db: TestDatabase;
let rotor: TestRotor;
/** Between Rotor and MariaDB. */
let upstreamTap: TcpTap;
/** Between clients and MariaDB, and between clients and Rotor: what a client reads. */
let directTap: TcpTap;
let rotorTap: TcpTap;
let markers = 0;

interface Tapped {
  readonly conn: mysql.Connection;
  /** What the client side of this connection read. */
  readonly client: TappedConnection;
  /** Rotor's upstream connection for it (null: a direct connection). */
  readonly upstream: TappedConnection | null;
}

async function open(via: 'rotor' | 'direct', extra: mysql.ConnectionOptions = {}): Promise<Tapped> {
  const tap = via === 'rotor' ? rotorTap : directTap;
  const conn = await mysql.createConnection({ host: '127.0.0.1', port: tap.port, user: db.user, password: db.password, database: db.name, ...extra });
  const marker = `marker-${++markers}`;
  await conn.query(`SELECT '${marker}'`);
  const client = tap.find(marker);
  assert.ok(client);
  return { conn, client, upstream: via === 'rotor' ? upstreamTap.find(marker) ?? null : null };
}

/** The bytes the client read while `f` ran. */
async function readBy(t: Tapped, f: () => Promise<unknown>): Promise<Buffer> {
  const from = t.client.received.length;
  await f();
  return t.client.received.subarray(from);
}

/** The chunks Rotor wrote to the upstream session while `f` ran. */
async function upstreamWrites(t: Tapped, f: () => Promise<unknown>): Promise<string[]> {
  const up = t.upstream as TappedConnection;
  const from = up.sent.length;
  await f();
  return up.sent.slice(from).map(commands);
}

/** The commands of one chunk, each as its text (COM_QUERY) or `#` and its command byte, joined by `|`. */
function commands(chunk: Buffer): string {
  const out: string[] = [];
  for (let at = 0; at + 4 <= chunk.length;) {
    const end = at + 4 + chunk.readUIntLE(at, 3);
    out.push(chunk[at + 4] === 0x03 ? chunk.toString('utf8', at + 5, end) : `#${chunk[at + 4]}`);
    at = end;
  }
  return out.join('|');
}

async function rows(sql: string): Promise<unknown[]> {
  return (await db.admin.query(sql))[0] as unknown[];
}

/**
 * A session through Rotor whose BEGIN was learned (its next one is deferred), that the test
 * expects to be cut (errors ignored), and its upstream session's id.
 */
async function cutSession(): Promise<{ t: Tapped; id: number }> {
  const t = await open('rotor');
  t.conn.on('error', () => undefined);
  await t.conn.query('BEGIN');
  await t.conn.query('COMMIT');
  const id = ((await t.conn.query('SELECT CONNECTION_ID() AS id'))[0] as Array<{ id: number }>)[0].id;
  return { t, id };
}

/** Waits until MariaDB no longer lists upstream session `id`. */
async function upstreamGone(id: number): Promise<void> {
  await until('the upstream session is gone', 10_000, async () => (await rows(`SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ${id}`)).length === 0);
}

async function inTransaction(conn: mysql.Connection): Promise<number> {
  return ((await conn.query('SELECT @@in_transaction AS t'))[0] as Array<{ t: number }>)[0].t;
}

before(async () => {
  db = await freshDatabase('e2e_defer_begin');
  await db.admin.query('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)');
  await db.admin.query(`INSERT INTO t VALUES (1, 'one')`);
  upstreamTap = await tcpTap(db.host, db.port);
  directTap = await tcpTap(db.host, db.port);
  const url = new URL(db.url);
  url.port = String(upstreamTap.port);
  rotor = await startTestRotor({ ...db, url: url.href }, { deferBegin: 'on' });
  rotorTap = await tcpTap(rotor.rotor.listen.host, rotor.rotor.listen.port);
});

after(async () => {
  await rotorTap?.close();
  await rotor?.stop();
  await directTap?.close();
  await upstreamTap?.close();
  await db?.drop();
});

describe('the OK Rotor answers', () => {
  for (const multipleStatements of [false, true]) {
    test(`is MariaDB's own, byte for byte, for each plain form (multipleStatements ${multipleStatements})`, async () => {
      const direct = await open('direct', { multipleStatements });
      const proxied = await open('rotor', { multipleStatements });
      try {
        for (const form of ['BEGIN', 'begin;', ' Start \t TRANSACTION ', 'START TRANSACTION ;\n', 'BEGIN; ']) {
          // The first of each form in a session is relayed and learned; the next is deferred.
          await proxied.conn.query(form);
          await proxied.conn.query('COMMIT');
          const want = await readBy(direct, () => direct.conn.query(form));
          let got: Buffer = Buffer.alloc(0);
          const writes = await upstreamWrites(proxied, async () => {
            got = await readBy(proxied, () => proxied.conn.query(form));
          });
          assert.deepEqual(writes, [], `${JSON.stringify(form)} went upstream at once`);
          assert.equal(got.toString('hex'), want.toString('hex'), JSON.stringify(form));
          await direct.conn.query('COMMIT');
          await proxied.conn.query('COMMIT');
        }
      } finally {
        await direct.conn.end();
        await proxied.conn.end();
      }
    });
  }

  test('a session that tracks its state has BEGIN relayed, and reads MariaDB\'s own answer', async () => {
    const direct = await open('direct');
    const proxied = await open('rotor');
    try {
      for (const t of [direct, proxied]) await t.conn.query(`SET SESSION session_track_transaction_info = 'STATE'`);
      const want = await readBy(direct, () => direct.conn.query('BEGIN'));
      let got: Buffer = Buffer.alloc(0);
      const writes = await upstreamWrites(proxied, async () => {
        got = await readBy(proxied, () => proxied.conn.query('BEGIN'));
      });
      assert.equal(writes.length, 1);
      assert.equal(got.toString('hex'), want.toString('hex'));
      // Tracked: the OK is more than Rotor would make.
      assert.ok(want.length > 11);
    } finally {
      await direct.conn.end();
      await proxied.conn.end();
    }
  });
});

describe('what follows a deferred BEGIN', () => {
  let s: Tapped;
  before(async () => {
    s = await open('rotor');
    await s.conn.query('BEGIN');
    await s.conn.query('COMMIT');
  });
  after(() => s.conn.end());

  test('BEGIN, INSERT, COMMIT: two writes upstream, the BEGIN in the INSERT\'s, and the row is there', async () => {
    const writes = await upstreamWrites(s, async () => {
      await s.conn.query('BEGIN');
      await s.conn.query(`INSERT INTO t VALUES (10, 'ten')`);
      await s.conn.query('COMMIT');
    });
    assert.deepEqual(writes, ['BEGIN|INSERT INTO t VALUES (10, \'ten\')', 'COMMIT']);
    assert.deepEqual(await rows('SELECT v FROM t WHERE id = 10'), [{ v: 'ten' }]);
  });

  test('BEGIN, INSERT, ROLLBACK: the row is not there', async () => {
    await s.conn.query('BEGIN');
    await s.conn.query(`INSERT INTO t VALUES (11, 'eleven')`);
    assert.equal(await inTransaction(s.conn), 1);
    await s.conn.query('ROLLBACK');
    assert.deepEqual(await rows('SELECT v FROM t WHERE id = 11'), []);
  });

  test('BEGIN then COMMIT or ROLLBACK at once: answered as MariaDB answers them', async () => {
    const direct = await open('direct');
    try {
      for (const end of ['COMMIT', 'ROLLBACK']) {
        await direct.conn.query('BEGIN');
        const want = await readBy(direct, () => direct.conn.query(end));
        let got: Buffer = Buffer.alloc(0);
        const writes = await upstreamWrites(s, async () => {
          await s.conn.query('BEGIN');
          got = await readBy(s, () => s.conn.query(end));
        });
        assert.deepEqual(writes, [`BEGIN|${end}`]);
        assert.equal(got.toString('hex'), want.toString('hex'));
        assert.equal(await inTransaction(s.conn), 0);
      }
    } finally {
      await direct.conn.end();
    }
  });

  test('a failing statement inside the transaction (duplicate key) leaves it open, as MariaDB does', async () => {
    await s.conn.query('BEGIN');
    await assert.rejects(s.conn.query(`INSERT INTO t VALUES (1, 'again')`), (e: { errno?: number }) => e.errno === 1062);
    assert.equal(await inTransaction(s.conn), 1);
    await s.conn.query(`INSERT INTO t VALUES (12, 'twelve')`);
    await s.conn.query('COMMIT');
    assert.deepEqual(await rows('SELECT id, v FROM t WHERE id IN (1, 12) ORDER BY id'), [{ id: 1, v: 'one' }, { id: 12, v: 'twelve' }]);
  });

  test('a failed statement before BEGIN: the BEGIN after it is relayed (its status flags are not fresh)', async () => {
    await assert.rejects(s.conn.query(`INSERT INTO t VALUES (1, 'again')`));
    const writes = await upstreamWrites(s, () => s.conn.query('BEGIN'));
    assert.deepEqual(writes, ['BEGIN']);
    await s.conn.query('ROLLBACK');
  });

  test('COM_PING goes with the BEGIN, and the transaction is open after it', async () => {
    const writes = await upstreamWrites(s, async () => {
      await s.conn.query('BEGIN');
      await s.conn.ping();
    });
    assert.equal(writes.length, 1);
    assert.equal(writes[0], 'BEGIN|#14');
    assert.equal(await inTransaction(s.conn), 1);
    await s.conn.query('ROLLBACK');
  });

  test('a prepared statement runs inside the transaction', async () => {
    await s.conn.query('BEGIN');
    await s.conn.execute('INSERT INTO t VALUES (?, ?)', [13, 'thirteen']);
    await s.conn.query('ROLLBACK');
    assert.deepEqual(await rows('SELECT v FROM t WHERE id = 13'), []);
    await s.conn.query('START TRANSACTION');
    await s.conn.query('START TRANSACTION');
    await s.conn.execute('INSERT INTO t VALUES (?, ?)', [14, 'fourteen']);
    await s.conn.query('COMMIT');
    assert.deepEqual(await rows('SELECT v FROM t WHERE id = 14'), [{ v: 'fourteen' }]);
  });

  test('a read an ALWAYS cache serves leaves the BEGIN waiting; any other read goes upstream, inside the transaction', async () => {
    await s.conn.query('CREATE CACHE ALWAYS always_t FROM SELECT id, v FROM t WHERE id = ?');
    await s.conn.query('CREATE CACHE plain_t FROM SELECT v FROM t WHERE id = ?');
    await s.conn.query('SELECT id, v FROM t WHERE id = 1');
    await s.conn.query('SELECT v FROM t WHERE id = 1');
    const last = async (): Promise<unknown[]> => ((await s.conn.query({ sql: 'EXPLAIN LAST STATEMENT', rowsAsArray: true }))[0] as unknown[][])[0];
    await s.conn.query('BEGIN');
    const writes = await upstreamWrites(s, async () => {
      assert.deepEqual((await s.conn.query('SELECT id, v FROM t WHERE id = 1'))[0], [{ id: 1, v: 'one' }]);
    });
    assert.deepEqual(writes, []);
    assert.deepEqual((await last()).slice(0, 2), ['cache', 'always_t']);
    const relayed = await upstreamWrites(s, async () => {
      assert.deepEqual((await s.conn.query('SELECT v FROM t WHERE id = 1'))[0], [{ v: 'one' }]);
    });
    assert.deepEqual(relayed, ['BEGIN|SELECT v FROM t WHERE id = 1']);
    assert.deepEqual(await last(), ['upstream', null, 'inside a transaction']);
    await s.conn.query('COMMIT');
  });
});

describe('sessions that end or fail around a deferred BEGIN', () => {
  test('COM_QUIT: the BEGIN is never sent', async () => {
    const t = await open('rotor');
    await t.conn.query('BEGIN');
    await t.conn.query('COMMIT');
    const up = t.upstream as TappedConnection;
    const from = up.sent.length;
    await t.conn.query('BEGIN');
    await t.conn.end();
    await until('the upstream connection ends', 5000, () => Promise.resolve(up.sent.slice(from).some((b) => b[4] === 0x01)));
    assert.ok(!up.sent.slice(from).some((b) => b.includes('BEGIN')));
  });

  test('COM_CHANGE_USER: the BEGIN goes with it, and the new login is outside a transaction', async () => {
    const t = await open('rotor');
    try {
      await t.conn.query('BEGIN');
      await t.conn.query('COMMIT');
      await t.conn.query('BEGIN');
      const writes = await upstreamWrites(t, () => t.conn.changeUser({ user: db.user, password: db.password, database: db.name }));
      assert.match(writes.join('|'), /^BEGIN\|#17/);
      assert.equal(await inTransaction(t.conn), 0);
      // Learned again after the new login, then deferred.
      await t.conn.query('BEGIN');
      await t.conn.query('ROLLBACK');
      assert.deepEqual(await upstreamWrites(t, () => t.conn.query('BEGIN')), []);
      await t.conn.query(`INSERT INTO t VALUES (22, 'twenty-two')`);
      await t.conn.query('ROLLBACK');
      assert.deepEqual(await rows('SELECT v FROM t WHERE id = 22'), []);
    } finally {
      await t.conn.end();
    }
  });

  test('COM_RESET_CONNECTION goes with the BEGIN and ends the transaction; BEGIN is learned again after it', async () => {
    const t = await open('rotor');
    try {
      await t.conn.query('BEGIN');
      await t.conn.query('COMMIT');
      await t.conn.query('BEGIN');
      await t.conn.query(`INSERT INTO t VALUES (24, 'twenty-four')`);
      await t.conn.query('COMMIT');
      await t.conn.query('BEGIN');
      const writes = await upstreamWrites(t, () => t.conn.reset());
      assert.deepEqual(writes, ['BEGIN|#31']);
      assert.equal(await inTransaction(t.conn), 0);
      assert.deepEqual(await upstreamWrites(t, () => t.conn.query('BEGIN')), ['BEGIN']);
      await t.conn.query('ROLLBACK');
      assert.deepEqual(await rows('SELECT v FROM t WHERE id = 24'), [{ v: 'twenty-four' }]);
    } finally {
      await t.conn.end();
    }
  });

  test('a client that disconnects right after its statement leaves nothing', async () => {
    const { t, id } = await cutSession();
    await t.conn.query('BEGIN');
    t.conn.query(`INSERT INTO t VALUES (23, 'twenty-three')`).catch(() => undefined);
    t.conn.destroy();
    await upstreamGone(id);
    assert.deepEqual(await rows('SELECT v FROM t WHERE id = 23'), []);
  });

  test('a statement that names what changes BEGIN\'s answer stops deferral for the session', async () => {
    const t = await open('rotor');
    try {
      await t.conn.query('BEGIN');
      await t.conn.query('COMMIT');
      await t.conn.query('SELECT @@session.tx_read_only');
      assert.deepEqual(await upstreamWrites(t, () => t.conn.query('BEGIN')), ['BEGIN']);
      await t.conn.query('COMMIT');
    } finally {
      await t.conn.end();
    }
  });

  test('a BEGIN answered differently upstream (tracking turned on out of sight) closes the session, and what went with it is rolled back', async () => {
    await db.admin.query(`CREATE FUNCTION track_quietly() RETURNS INT DETERMINISTIC BEGIN SET SESSION session_track_transaction_info = 'STATE'; RETURN 1; END`);
    const { t, id } = await cutSession();
    await t.conn.query('SELECT track_quietly()');
    await t.conn.query('BEGIN');
    await assert.rejects(t.conn.query(`INSERT INTO t VALUES (20, 'twenty')`), (e: { errno?: number; message: string }) => e.errno === 1105 && /deferred BEGIN/.test(e.message));
    await upstreamGone(id);
    assert.deepEqual(await rows('SELECT v FROM t WHERE id = 20'), []);
  });

  test('an upstream session killed while its BEGIN waits: the next statement fails and leaves nothing', async () => {
    const { t, id } = await cutSession();
    await t.conn.query('BEGIN');
    await db.admin.query(`KILL ${id}`);
    await upstreamGone(id);
    await assert.rejects(t.conn.query(`INSERT INTO t VALUES (21, 'twenty-one')`));
    assert.deepEqual(await rows('SELECT v FROM t WHERE id = 21'), []);
  });
});
