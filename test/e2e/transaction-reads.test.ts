/**
 * [note: transaction-reads] Reads inside a transaction, through Rotor in front of the private
 * MariaDB: upstream by default; from a `CREATE CACHE ALWAYS` cache (or every cache under
 * `--transaction-reads cache`) while the transaction has changed no rows and does not run
 * SERIALIZABLE; a transaction that wrote reads its own uncommitted writes upstream, text and
 * prepared, with autocommit off too; locking reads always go upstream.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { e2eFixture } from '../support/e2e-fixture.js';
import { startTestRotor, type TestRotor } from '../support/rotor.js';
import { until } from '../support/until.js';

async function last(c: mysql.Connection = fx.viaRotor): Promise<unknown[]> {
  return ((await c.query({ sql: 'EXPLAIN LAST STATEMENT', rowsAsArray: true }))[0] as unknown[][])[0];
}

async function read(c: mysql.Connection, sql: string): Promise<{ rows: unknown; route: unknown[] }> {
  const [rows] = await c.query(sql);
  return { rows, route: await last(c) };
}

const PLAIN = 'SELECT v FROM kv WHERE k = 1';
const ALWAYS = 'SELECT k, v FROM kv WHERE k = 1';

const fx = e2eFixture('e2e_tx_reads', {
  schema: `CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(20) NOT NULL); INSERT INTO kv VALUES (1, 'one'), (2, 'two')`,
  async arrange() {
    await fx.viaRotor.query('CREATE CACHE plain FROM SELECT v FROM kv WHERE k = ?');
    await fx.viaRotor.query('CREATE CACHE ALWAYS alw FROM SELECT k, v FROM kv WHERE k = ?');
    // Filled outside any transaction.
    await fx.viaRotor.query(PLAIN);
    await fx.viaRotor.query(ALWAYS);
  },
});

describe('by default', () => {
  test('inside a transaction only an ALWAYS cache answers', async () => {
    await fx.viaRotor.query('BEGIN');
    assert.deepEqual(await read(fx.viaRotor, PLAIN), { rows: [{ v: 'one' }], route: ['upstream', null, 'inside a transaction'] });
    assert.deepEqual(await read(fx.viaRotor, ALWAYS), { rows: [{ k: 1, v: 'one' }], route: ['cache', 'alw', null] });
    await fx.viaRotor.query('COMMIT');
  });

  test('a transaction that changed rows reads its own writes upstream, until it ends', async () => {
    await fx.viaRotor.query('BEGIN');
    await fx.viaRotor.query(`UPDATE kv SET v = 'mine' WHERE k = 1`);
    const mine = await read(fx.viaRotor, ALWAYS);
    assert.deepEqual(mine.rows, [{ k: 1, v: 'mine' }]);
    assert.equal(mine.route[0], 'upstream');
    assert.match(String(mine.route[2]), /changed rows/);
    await fx.viaRotor.query('ROLLBACK');
    await fx.viaRotor.query('BEGIN');
    assert.deepEqual(await read(fx.viaRotor, ALWAYS), { rows: [{ k: 1, v: 'one' }], route: ['cache', 'alw', null] });
    await fx.viaRotor.query('COMMIT');
    // A committed write reaches the cache through the binlog.
    await fx.viaRotor.query('BEGIN');
    await fx.viaRotor.query(`UPDATE kv SET v = 'uno' WHERE k = 1`);
    await fx.viaRotor.query('COMMIT');
    await until('the write in the cache', 10_000, async () => {
      await fx.viaRotor.query('BEGIN');
      const r = await read(fx.viaRotor, ALWAYS);
      await fx.viaRotor.query('COMMIT');
      return r.route[0] === 'cache' && JSON.stringify(r.rows) === JSON.stringify([{ k: 1, v: 'uno' }]);
    });
  });

  test('prepared statements: served while the transaction is clean, upstream once an execution may write', async () => {
    await fx.viaRotor.query('BEGIN');
    const [a] = await fx.viaRotor.execute('SELECT k, v FROM kv WHERE k = ?', [1]);
    assert.deepEqual(a, [{ k: 1, v: 'uno' }]);
    assert.deepEqual(await last(), ['cache', 'alw', null]);
    await fx.viaRotor.execute('UPDATE kv SET v = ? WHERE k = ?', ['prepared', 1]);
    const [b] = await fx.viaRotor.execute('SELECT k, v FROM kv WHERE k = ?', [1]);
    assert.deepEqual(b, [{ k: 1, v: 'prepared' }]);
    assert.equal((await last())[0], 'upstream');
    await fx.viaRotor.query('ROLLBACK');
  });

  test('with autocommit off: from the cache until a write, again after COMMIT', async () => {
    const c = await fx.rotor.connect();
    try {
      await c.query('SET autocommit = 0');
      assert.deepEqual((await read(c, ALWAYS)).route, ['cache', 'alw', null]);
      assert.equal((await read(c, PLAIN)).route[0], 'upstream');
      await c.query(`INSERT INTO kv VALUES (3, 'three')`);
      const own = await read(c, 'SELECT k, v FROM kv WHERE k = 3');
      assert.deepEqual(own.rows, [{ k: 3, v: 'three' }]);
      assert.equal(own.route[0], 'upstream');
      await c.query('COMMIT');
      await until('key 3 in the cache', 10_000, async () => {
        const r = await read(c, 'SELECT k, v FROM kv WHERE k = 3');
        return r.route[0] === 'cache' && JSON.stringify(r.rows) === JSON.stringify([{ k: 3, v: 'three' }]);
      });
    } finally {
      await c.end();
    }
  });

  test('locking reads and SERIALIZABLE sessions go upstream', async () => {
    await fx.viaRotor.query('BEGIN');
    const locked = await read(fx.viaRotor, `${ALWAYS} FOR UPDATE`);
    assert.deepEqual(locked.rows, [{ k: 1, v: 'uno' }]);
    assert.equal(locked.route[0], 'upstream');
    await fx.viaRotor.query('COMMIT');
    const c = await fx.rotor.connect();
    try {
      await c.query('SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE');
      await c.query('BEGIN');
      const r = await read(c, ALWAYS);
      assert.equal(r.route[0], 'upstream');
      assert.match(String(r.route[2]), /SERIALIZABLE/);
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
  });

  test('a write in a multi-statement after a statement outside the transaction still keeps its reads upstream', async () => {
    // The first statement's status (no transaction open) arrives after the whole text was noted:
    // it must not wipe out the write that follows it. DELETE … RETURNING answers a result set, no
    // OK with affected rows, so only the text says it wrote.
    const c = await fx.rotor.connect({ multipleStatements: true });
    try {
      await c.query('SELECT 1; BEGIN; DELETE FROM kv WHERE k = 1 RETURNING k');
      const own = await read(c, ALWAYS);
      assert.deepEqual(own.rows, [], 'the transaction sees its own delete');
      assert.equal(own.route[0], 'upstream');
      await c.query('ROLLBACK');
      await c.query('SET autocommit = 0; DELETE FROM kv WHERE k = 1 RETURNING k');
      const again = await read(c, ALWAYS);
      assert.deepEqual(again.rows, []);
      assert.equal(again.route[0], 'upstream');
      await c.query('ROLLBACK');
    } finally {
      await c.end();
    }
  });

  test('SERIALIZABLE named any way MariaDB takes it keeps reads upstream', async () => {
    for (const set of [
      'SET SESSION tx_isolation = 3',
      "SET SESSION tx_isolation = 'SERIAL' 'IZABLE'",
      'SET SESSION tx_isolation = 0x53455249414c495a41424c45',
      "SET @lvl = CONCAT('SERIAL', 'IZABLE')",
    ]) {
      const c = await fx.rotor.connect();
      try {
        await c.query(set);
        if (set.startsWith('SET @lvl')) await c.query('SET SESSION tx_isolation = @lvl');
        const [[level]] = (await c.query({ sql: 'SELECT @@tx_isolation', rowsAsArray: true }))[0] as unknown as string[][];
        assert.equal(level, 'SERIALIZABLE', set);
        await c.query('BEGIN');
        const r = await read(c, ALWAYS);
        assert.equal(r.route[0], 'upstream', set);
        await c.query('COMMIT');
      } finally {
        await c.end();
      }
    }
    // Other levels keep transaction reads.
    const c = await fx.rotor.connect();
    try {
      await c.query("SET SESSION tx_isolation = 'READ-COMMITTED'");
      await c.query('SELECT @@tx_isolation');
      await c.query('BEGIN');
      assert.equal((await read(c, ALWAYS)).route[0], 'cache');
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
  });

  test('ALWAYS is shown, and registering the same query otherwise is refused', async () => {
    const [rows] = await fx.viaRotor.query({ sql: 'SHOW CACHES', rowsAsArray: false });
    const shown = Object.fromEntries((rows as Array<{ name: string; always: string }>).map((r) => [r.name, r.always]));
    assert.deepEqual(shown, { plain: 'no', alw: 'yes' });
    await assert.rejects(fx.viaRotor.query('CREATE CACHE ALWAYS FROM SELECT v FROM kv WHERE k = ?'), (e: { errno?: number; message?: string }) => e.errno === 1050 && /plain, without ALWAYS/.test(String(e.message)));
    const http = await fx.rotor.api<{ code: string }>('POST', '/api/caches', { sql: 'SELECT k, v FROM kv WHERE k = ?', database: fx.db.name });
    assert.equal(http.status, 409);
    assert.equal(http.body.code, 'ERR_CACHE_ALWAYS_DIFFERS');
    const same = await fx.rotor.api<{ name: string; always: boolean }>('POST', '/api/caches', { sql: 'SELECT k, v FROM kv WHERE k = ?', database: fx.db.name, always: true });
    assert.equal(same.status, 200);
    assert.deepEqual([same.body.name, same.body.always], ['alw', true]);
    const bad = await fx.rotor.api('POST', '/api/caches', { sql: 'SELECT v FROM kv WHERE k = ?', database: fx.db.name, always: 'yes' });
    assert.equal(bad.status, 400);
  });
});

describe('--transaction-reads cache', () => {
  let every: TestRotor;
  before(async () => { every = await startTestRotor(fx.db, { transactionReads: 'cache' }); });
  after(async () => { await every?.stop(); });

  test('every cache answers reads inside a clean transaction', async () => {
    const c = await every.connect();
    try {
      await c.query('CREATE CACHE FROM SELECT v FROM kv WHERE k = ?');
      await c.query('SELECT v FROM kv WHERE k = 2');
      await c.query('BEGIN');
      const r = await read(c, 'SELECT v FROM kv WHERE k = 2');
      assert.deepEqual(r.rows, [{ v: 'two' }]);
      assert.equal(r.route[0], 'cache');
      await c.query(`DELETE FROM kv WHERE k = 2`);
      const own = await read(c, 'SELECT v FROM kv WHERE k = 2');
      assert.deepEqual(own.rows, []);
      assert.equal(own.route[0], 'upstream');
      await c.query('ROLLBACK');
    } finally {
      await c.end();
    }
  });
});
