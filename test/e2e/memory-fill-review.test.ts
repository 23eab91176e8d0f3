/**
 * Memory fills ([note: memory-fill]) and aggregates without GROUP BY filled whole
 * ([note: complete-state]) under attack, every answer compared with MariaDB's own (rows, and in
 * the text and binary protocols the column definitions too): keys held and not held, of every
 * aggregate, of types that convert; first reads racing writers; a complete state turning partial
 * under keys read from memory; top-k, `LIMIT ?` and DISTINCT below complete states; a session
 * reading its own writes from memory; memory pressure; IN lists and transactions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eFixture, rawText, columnDefs } from '../support/e2e-fixture.js';
import { lagTheStream } from '../support/lag.js';
import { startTestRotor } from '../support/rotor.js';
import { until } from '../support/until.js';
import type { CacheInfo } from '../../src/views/cache.js';

const fx = e2eFixture('e2e_memfill_review', {
  rotor: { completeRows: '1000', missPolicy: 'relay', memoryLimit: '1MiB' },
  schema: `
    CREATE TABLE s (id INT PRIMARY KEY, k INT, big BIGINT UNSIGNED, d DECIMAL(10,3), name VARCHAR(10) COLLATE utf8mb4_general_ci, x INT, KEY (k), KEY (big), KEY (d), KEY (name));
    INSERT INTO s VALUES (1, 1, 9007199254740993, 1.500, 'Bob', 5), (2, 1, 18446744073709551615, 2.000, 'bob', 7), (3, 2, 5, NULL, 'Ann', NULL);
    CREATE TABLE ok (id INT PRIMARY KEY, i INT, s VARCHAR(10), dt DATETIME, y YEAR, KEY (i), KEY (s), KEY (dt), KEY (y));
    INSERT INTO ok VALUES (1, 1, '1', '2024-01-01 00:00:00', 2024), (2, -1, 'a ', '2024-01-01 10:00:00', 1999), (3, 0, '', NULL, NULL);
    CREATE TABLE w (id INT AUTO_INCREMENT PRIMARY KEY, k INT, v INT, KEY (k));
    INSERT INTO w (k, v) SELECT seq % 50, seq FROM seq_1_to_200;
    CREATE TABLE wa (id INT PRIMARY KEY, title VARCHAR(20));
    INSERT INTO wa SELECT seq, CONCAT('t', seq) FROM seq_1_to_50;
    CREATE TABLE mm (id INT PRIMARY KEY, k INT, v INT, KEY (k));
    INSERT INTO mm VALUES (1, 1, 5), (2, 1, 3), (3, 2, 8);
    CREATE TABLE pr (id INT PRIMARY KEY, shop INT, kind VARCHAR(5), amount INT, KEY (shop));
    INSERT INTO pr VALUES (1, 1, 'a', 5), (2, 1, 'b', 3), (3, 1, 'b', 2), (4, 1, 'c', 1), (5, 2, 'a', 1);
    CREATE TABLE sh (id INT PRIMARY KEY, owner INT);
    INSERT INTO sh VALUES (1, 10), (2, 10), (3, 11);
    CREATE TABLE ua (id INT PRIMARY KEY, k INT, v INT, KEY (k));
    CREATE TABLE ub (id INT PRIMARY KEY, k INT, v INT, KEY (k));
    INSERT INTO ua VALUES (1, 1, 10), (2, 1, 20), (3, 2, 30);
    INSERT INTO ub VALUES (1, 1, 1), (2, 3, 2);
    CREATE TABLE u (id INT PRIMARY KEY, team INT, name VARCHAR(10), KEY (team));
    CREATE TABLE tm (id INT PRIMARY KEY, org INT, KEY (org));
    CREATE TABLE og (id INT PRIMARY KEY, title VARCHAR(10));
    INSERT INTO u VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c');
    INSERT INTO tm VALUES (1, 10), (2, 11);
    INSERT INTO og VALUES (10, 'x'), (11, 'y');
    CREATE TABLE mp (id INT AUTO_INCREMENT PRIMARY KEY, k INT, KEY (k));
    INSERT INTO mp (k) SELECT seq % 150 FROM seq_1_to_450;
    CREATE TABLE filler (id INT PRIMARY KEY, payload VARCHAR(600));
    INSERT INTO filler SELECT seq, REPEAT(CHAR(65 + seq % 26), 600) FROM seq_1_to_1000;
    CREATE TABLE il (id INT PRIMARY KEY, k INT, KEY (k));
    INSERT INTO il VALUES (1, 1), (2, 1), (3, 2);
  `,
});

const info = (id: string): Promise<CacheInfo> => fx.rotor.cache(id);
const whole = (id: string): Promise<CacheInfo> => fx.rotor.wholeFillEnded(id);

/** Registers `sql` and waits for its whole fill to end; asserts how it ended. */
async function registered(sql: string, wholeFill = 'complete'): Promise<string> {
  const id = await fx.register(sql);
  assert.equal((await whole(id)).wholeFill, wholeFill, sql);
  return id;
}

/** `sql` with `params` through Rotor and from MariaDB (text protocol): the rows as JSON. */
async function both(sql: string, params: ReadonlyArray<string | number> = []): Promise<{ got: string; want: string }> {
  const [got] = await fx.viaRotor.query(sql, [...params]);
  const [want] = await fx.direct.query(sql, [...params]);
  return { got: JSON.stringify(got), want: JSON.stringify(want) };
}

/** Every one of `sqls` with each of `keys` as its parameters, through Rotor and from MariaDB. */
async function check(sqls: ReadonlyArray<string>, keys: ReadonlyArray<ReadonlyArray<string | number>>, when: string): Promise<void> {
  for (const k of keys) for (const sql of sqls) {
    const r = await both(sql, k);
    assert.equal(r.got, r.want, `${sql} ${JSON.stringify(k)} ${when}`);
  }
}

/** `sql` with `params`, through Rotor and from MariaDB, in the text and the binary protocol: rows and column definitions. */
async function same(sql: string, params: ReadonlyArray<string | number>, what: string): Promise<void> {
  for (const prepared of [false, true]) {
    const run = async (c: typeof fx.direct): Promise<string> => {
      const [rows, fields] = prepared ? await c.execute({ sql, rowsAsArray: true }, [...params]) : await c.query({ sql, rowsAsArray: true, ...rawText }, [...params]);
      return JSON.stringify([rows, columnDefs(fields, ['name', 'type', 'decimals', 'length', 'flags', 'characterSet'])]);
    };
    assert.equal(await run(fx.viaRotor), await run(fx.direct), `${what} ${JSON.stringify(params)}${prepared ? ' prepared' : ''}`);
  }
}

test('a column beside aggregates without GROUP BY shows MariaDB\'s NULL where no row matches, not the key', async () => {
  const sql = 'SELECT k, COUNT(*) FROM s WHERE k = ?';
  const id = await fx.register(sql);
  await whole(id);
  assert.ok(!(await info(id)).plan.some((n) => n.startsWith('γ')), 'not an aggregate whose group would show the key');
  for (const k of [1, 9, 1, 9]) await same(sql, [k], sql);
  const having = 'SELECT k, COUNT(*) AS n FROM s WHERE k = ? HAVING k > 0';
  await whole(await fx.register(having));
  for (const k of [1, 9, 9]) await same(having, [k], having);
});

test('aggregates without GROUP BY of every kind, keys held and not, and keys that convert: MariaDB\'s rows and column definitions', async () => {
  const sqls = [
    'SELECT COUNT(*), SUM(x), AVG(d), MIN(name), MAX(d), COUNT(x) FROM s WHERE k = ?',
    'SELECT GROUP_CONCAT(name ORDER BY id) FROM s WHERE k = ?',
    'SELECT COUNT(DISTINCT name) FROM s WHERE k = ?',
    'SELECT SUM(d), AVG(x) FROM s WHERE k = ?',
    'SELECT COUNT(*) AS c FROM s WHERE k = ? HAVING COUNT(*) > 0',
    'SELECT COUNT(*) AS c FROM s WHERE k = ? HAVING COUNT(*) = 0',
  ];
  for (const sql of sqls) await registered(sql, sql.includes('DISTINCT') ? 'off' : 'complete');
  const byType: Array<[string, ReadonlyArray<string | number>]> = [
    ['big', ['9007199254740993', '9007199254740992', '18446744073709551615', 5, '6']],
    ['d', [1.5, '1.50', '1.5000', 2, '2.0001', 7]],
    ['name', ['bob', 'BOB', 'zed', 'ZED', 'ann ', 'nobody']],
  ];
  for (const [col] of byType) await registered(`SELECT COUNT(*) AS n, MIN(id) FROM s WHERE ${col} = ?`);
  const all = async (when: string): Promise<void> => {
    for (const sql of sqls) for (const k of [1, 2, 3, 9, '1', '1.0', '9']) await same(sql, [k], `${sql} ${when}`);
    for (const [col, keys] of byType) for (const k of keys) await same(`SELECT COUNT(*) AS n, MIN(id) FROM s WHERE ${col} = ?`, [k], `${col} ${when}`);
  };
  await all('at first');
  await fx.direct.query("INSERT INTO s VALUES (10, 9, 9007199254740992, 0.125, 'Zed', 3), (11, 3, 6, 2.0001, 'NOBODY', NULL)");
  await fx.direct.query('DELETE FROM s WHERE id = 3');
  await fx.rotor.caughtUp();
  await all('after writes');
});

test('odd spellings of the keys of a complete COUNT, text and prepared', async () => {
  const cases: Array<[string, ReadonlyArray<string | number>]> = [
    ['i', ['1', ' 1', '1 ', '1e0', '1.0', '1.4', '0x1', '-0', 0, '', 'a', '2147483648', -1, '-1.0']],
    ['s', ['1', 1, 'a', 'a ', 'A', '', ' ']],
    ['dt', ['2024-01-01', '2024-01-01 00:00:00', '2024-01-01 00:00:00.000', '2024-01-01 10:00', '20240101']],
    ['y', [2024, '2024', 24, '24', 99, '1999', 0]],
  ];
  for (const [col] of cases) await registered(`SELECT COUNT(*) AS n FROM ok WHERE ${col} = ?`);
  const bad: string[] = [];
  const all = async (when: string): Promise<void> => {
    for (const [col, keys] of cases) for (const k of keys) for (const prepared of [false, true]) {
      const sql = `SELECT COUNT(*) AS n FROM ok WHERE ${col} = ?`;
      const run = async (c: typeof fx.direct): Promise<string> => JSON.stringify(prepared ? (await c.execute(sql, [k]))[0] : (await c.query(sql, [k]))[0]);
      const got = await run(fx.viaRotor);
      const want = await run(fx.direct);
      if (got !== want) bad.push(`${when} ${col} = ${JSON.stringify(k)}${prepared ? ' prepared' : ''}: ${got}, MariaDB ${want}`);
    }
  };
  await all('at first');
  await fx.direct.query("INSERT INTO ok VALUES (4, 1, 'A', '2024-01-01', 24), (5, 2, ' ', '2024-01-01 10:00:00', 99)");
  await fx.rotor.caughtUp();
  await all('after writes');
  assert.deepEqual(bad, []);
});

test('writers racing first reads of keys never seen, of a COUNT and of a join over aggregated groups', async () => {
  const count = 'SELECT COUNT(*) AS n, SUM(v) AS s, MAX(v) AS m FROM w WHERE k = ?';
  const join = 'SELECT a.id, a.title, c.n FROM wa a LEFT JOIN (SELECT k, COUNT(*) AS n FROM w GROUP BY k) c ON a.id = c.k WHERE a.id = ?';
  for (const sql of [count, join]) await registered(sql);
  let stop = false;
  const writers = await Promise.all([0, 1, 2].map(() => fx.connectDirect()));
  const writing = writers.map(async (c, w) => {
    for (let n = 0; !stop; n++) {
      const k = (n * 7 + w * 13) % 120;
      await c.query('INSERT INTO w (k, v) VALUES (?, ?)', [k, n]);
      if (n % 3 === 0) await c.query('DELETE FROM w WHERE k = ? ORDER BY id LIMIT 1', [(k + 5) % 120]);
      if (n % 4 === 0) await c.query('UPDATE w SET k = ? WHERE k = ? ORDER BY id LIMIT 1', [(k + 11) % 120, k]);
      if (n % 5 === 0) await c.query("INSERT IGNORE INTO wa VALUES (?, 'new')", [50 + ((n + w) % 70)]);
    }
  });
  const readers = await Promise.all([0, 1].map(() => fx.connect()));
  await Promise.all(readers.map(async (c, r) => {
    for (let k = r; k < 130; k += 2) for (const sql of [count, join]) await c.query(sql, [k]);
    for (let k = 129 - r; k >= 0; k -= 3) for (const sql of [count, join]) await c.execute(sql, [k]);
  }));
  stop = true;
  await Promise.all(writing);
  for (const c of writers) await c.end();
  await fx.rotor.caughtUp();
  await check([count, join], Array.from({ length: 130 }, (_, k) => [k]), 'after the writers');
});

test('a complete MIN without GROUP BY turned partial by a deleted minimum, then TRUNCATE: keys read from memory follow the writes', async () => {
  const sql = 'SELECT MIN(v) AS m, COUNT(*) AS n FROM mm WHERE k = ?';
  const id = await registered(sql);
  const keys = [[1], [2], [3], [4], [5]];
  await check([sql, sql], keys, 'at first');
  await fx.direct.query('DELETE FROM mm WHERE id = 2');
  await fx.rotor.caughtUp();
  await fx.direct.query('INSERT INTO mm VALUES (4, 3, 1), (5, 4, 2), (6, 2, 1)');
  await fx.rotor.caughtUp();
  await check([sql], keys, 'after the minimum went');
  await fx.direct.query('TRUNCATE TABLE mm');
  await fx.rotor.caughtUp();
  await check([sql], keys, 'after TRUNCATE');
  await fx.direct.query('INSERT INTO mm VALUES (7, 5, 9)');
  await fx.rotor.caughtUp();
  await until('the cache is ready again', 10_000, async () => (await fx.rotor.api<{ status: string }>('GET', `/api/caches/${id}`)).body.status === 'ready');
  await check([sql], keys, 'after TRUNCATE and a write');
});

test('LIMIT ?, ORDER BY … LIMIT and DISTINCT below complete states', async () => {
  const lim = 'SELECT kind, COUNT(*) AS c FROM pr WHERE shop = ? GROUP BY kind ORDER BY c DESC, kind LIMIT ?';
  const top = 'SELECT kind, SUM(amount) AS s FROM pr WHERE shop = ? GROUP BY kind ORDER BY s DESC, kind LIMIT 2';
  const dis = 'SELECT DISTINCT p.kind FROM sh s JOIN pr p ON p.shop = s.id WHERE s.owner = ? ORDER BY p.kind';
  for (const sql of [lim, top, dis]) await registered(sql);
  const all = async (when: string): Promise<void> => {
    const keys = [1, 2, 3, 10, 11, 12];
    await check([lim], keys.flatMap((k) => [[k, 1], [k, 2], [k, 3]]), when);
    await check([top, dis], keys.map((k) => [k]), when);
  };
  await all('at first');
  await all('again');
  await fx.direct.query("INSERT INTO pr VALUES (6, 3, 'z', 4), (7, 1, 'c', 9), (8, 2, 'q', 2)");
  await fx.direct.query('INSERT INTO sh VALUES (4, 12)');
  await fx.direct.query('UPDATE pr SET shop = 4 WHERE id = 1');
  await fx.rotor.caughtUp();
  await all('after writes');
});

test('UNION caches over aggregates that complete caches hold', async () => {
  const singles = ['SELECT COUNT(*) AS n FROM ua WHERE k = ?', 'SELECT COUNT(*) AS n FROM ub WHERE k = ?', 'SELECT k, SUM(v) AS s FROM ua WHERE k = ? GROUP BY k'];
  for (const sql of singles) await registered(sql);
  const unions = [
    'SELECT COUNT(*) AS n FROM ua WHERE k = ? UNION ALL SELECT COUNT(*) AS n FROM ub WHERE k = ? ORDER BY n',
    'SELECT k, SUM(v) AS s FROM ua WHERE k = ? GROUP BY k UNION SELECT k, SUM(v) AS s FROM ub WHERE k = ? GROUP BY k ORDER BY k, s',
  ];
  for (const sql of unions) await registered(sql, 'off');
  const keys = [1, 2, 3, 9].flatMap((x) => [1, 3, 8].map((y) => [x, y]));
  await check(unions, keys, 'at first');
  await check(unions, keys, 'again');
  await fx.direct.query('INSERT INTO ua VALUES (4, 9, 1), (5, 3, 2)');
  await fx.direct.query('INSERT INTO ub VALUES (3, 8, 1), (4, 9, 5)');
  await fx.direct.query('DELETE FROM ua WHERE id = 3');
  await fx.rotor.caughtUp();
  await check(unions, keys, 'after writes');
});

test('joins of three tables, self-joins, semi- and anti-joins over complete sides', async () => {
  const sqls = [
    'SELECT u.id, tm.org, og.title FROM u JOIN tm ON u.team = tm.id JOIN og ON tm.org = og.id WHERE u.id = ?',
    'SELECT u.id, u.name FROM og JOIN tm ON tm.org = og.id JOIN u ON u.team = tm.id WHERE og.id = ? ORDER BY u.id',
    'SELECT a.id, b.id AS mate FROM u a JOIN u b ON a.team = b.team WHERE a.id = ? ORDER BY b.id',
    'SELECT id, name FROM u WHERE team = ? AND NOT EXISTS (SELECT 1 FROM tm WHERE tm.id = u.team AND tm.org = 11) ORDER BY id',
    'SELECT id FROM u WHERE team = ? AND id IN (SELECT id FROM tm) ORDER BY id',
  ];
  for (const sql of sqls) await registered(sql);
  const keys = [1, 2, 3, 4, 10, 11, 12].map((k) => [k]);
  await check(sqls, keys, 'at first');
  await check(sqls, keys, 'again');
  await fx.direct.query("INSERT INTO u VALUES (4, 3, 'd'), (10, 2, 'e')");
  await fx.direct.query('INSERT INTO tm VALUES (3, 12)');
  await fx.direct.query("INSERT INTO og VALUES (12, 'z')");
  await fx.direct.query('UPDATE tm SET org = 11 WHERE id = 1');
  await fx.direct.query('UPDATE u SET team = 2 WHERE id = 2');
  await fx.rotor.caughtUp();
  await check(sqls, keys, 'after writes');
  await fx.direct.query('DELETE FROM og WHERE id = 11');
  await fx.direct.query('UPDATE tm SET id = 5 WHERE id = 2');
  await fx.rotor.caughtUp();
  await check(sqls, keys, 'after more writes');
});

test('under the memory limit: keys read from memory, complete states evicted, writes between', async () => {
  const count = 'SELECT COUNT(*) AS n, MAX(id) AS m FROM mp WHERE k = ?';
  const grouped = 'SELECT k, COUNT(*) AS n FROM mp WHERE k = ? GROUP BY k';
  for (const sql of [count, grouped]) await registered(sql);
  await registered('SELECT payload FROM filler WHERE id = ?', 'too large');
  for (let k = 0; k < 200; k++) {
    for (const sql of [count, grouped]) await fx.viaRotor.query(sql, [k]);
    for (let f = 0; f < 5; f++) await fx.viaRotor.query('SELECT payload FROM filler WHERE id = ?', [1 + ((k * 5 + f) % 1000)]);
    if (k % 10 === 0) await fx.direct.query('INSERT INTO mp (k) VALUES (?)', [(k * 3) % 210]);
    if (k % 25 === 0) await fx.direct.query('DELETE FROM mp WHERE k = ? ORDER BY id DESC LIMIT 1', [k % 150]);
  }
  const evicted = await fx.rotor.api<{ memory: { evictions: number } }>('GET', '/api/status');
  assert.ok(evicted.body.memory.evictions > 0, 'the limit evicted keys');
  await fx.rotor.caughtUp();
  await check([count, grouped], Array.from({ length: 210 }, (_, k) => [k]), 'after writes under pressure');
});

test('IN lists over a complete grouped aggregate; a transaction that wrote reads its own rows upstream', async () => {
  const sql = 'SELECT k, COUNT(*) AS n FROM il WHERE k IN (?, ?, ?) GROUP BY k ORDER BY k';
  await registered(sql.replace('IN (?, ?, ?)', '= ?'));
  await check([sql], [[1, 2, 3], [3, 4, 5], [1, 4, 6]], 'at first');
  await fx.direct.query('INSERT INTO il VALUES (4, 4), (5, 6)');
  await fx.rotor.caughtUp();
  await check([sql], [[1, 2, 3], [3, 4, 5], [1, 4, 6], [7, 8, 9]], 'after writes');
  const c = await fx.connect();
  try {
    await c.query('START TRANSACTION');
    await c.query('INSERT INTO il VALUES (6, 9)');
    const [got] = await c.query('SELECT k, COUNT(*) AS n FROM il WHERE k = 9 GROUP BY k');
    assert.deepEqual(got, [{ k: 9, n: 1 }]);
  } finally {
    await c.query('ROLLBACK').catch(() => undefined);
    await c.end();
  }
});

test('--consistency session, the stream lagging: a session reads its own write of a key it never read, from memory', async () => {
  await fx.db.admin.query(`CREATE TABLE \`${fx.db.name}\`.rw (id INT AUTO_INCREMENT PRIMARY KEY, k INT, KEY (k))`);
  await fx.db.admin.query(`INSERT INTO \`${fx.db.name}\`.rw (k) VALUES (1), (1), (2)`);
  const rotor = await startTestRotor(fx.db, { consistency: 'session', completeRows: '1000', missPolicy: 'relay' });
  try {
    lagTheStream(rotor.rotor.engine, 30);
    const sql = 'SELECT COUNT(*) AS n FROM rw WHERE k = ?';
    const id = await rotor.register(sql);
    assert.equal((await rotor.wholeFillEnded(id)).wholeFill, 'complete');
    const c = await rotor.connect();
    try {
      for (let k = 100; k < 140; k++) {
        await c.query('INSERT INTO rw (k) VALUES (?)', [k]);
        const [rows] = k % 2 === 0 ? await c.execute({ sql, rowsAsArray: true }, [k]) : await c.query({ sql, rowsAsArray: true }, [k]);
        assert.equal(Number((rows as unknown[][])[0][0]), 1, `key ${k}`);
      }
    } finally {
      await c.end();
    }
    const s = (await rotor.cache(id)).stats;
    assert.ok(s.memoryFills >= 30, `answered from memory: ${JSON.stringify(s)}`);
  } finally {
    await rotor.stop();
  }
});
