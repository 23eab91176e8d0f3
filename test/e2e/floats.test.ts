/**
 * [note: float-exact] [note: float-sum] FLOAT and DOUBLE through Rotor, byte for byte: SUM/AVG
 * of FLOAT/DOUBLE columns, FLOAT/DOUBLE compared with constants (WHERE, BETWEEN, IN, HAVING) and
 * looked up by a parameter, in the text and the binary protocol, before and after inserts,
 * updates and deletes reach Rotor through the binlog. MariaDB widens a FLOAT's float32 to a
 * double to compare and to add, and adds doubles in the order it reads the rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnDefs, e2eFixture } from '../support/e2e-fixture.js';

const fx = e2eFixture('e2e_floats', {
  schema: `
    CREATE TABLE m (id INT PRIMARY KEY, k INT, g INT, f FLOAT, d DOUBLE, f3 FLOAT(9,3), INDEX (k));
    INSERT INTO m VALUES
      (1, 1, 1, 0.1, 0.1, 0.1), (2, 1, 1, 0.2, 0.2, 0.2), (3, 1, 2, 0.3, 0.3, 1.0005),
      (4, 1, 2, 1/3, 1/3, 2.5), (5, 2, 1, 3.4e38, 1.7e308, NULL), (6, 2, 1, -1e-40, 1e-300, NULL);
  `,
});
const { register } = fx;

async function served(id: string): Promise<number> {
  const s = (await fx.rotor.api<{ stats: { hits: number; misses: number } }>('GET', `/api/caches/${id}`)).body.stats;
  return s.hits + s.misses;
}

// Flags and lengths are left out: with GROUP BY, MariaDB's own differ between the `LIMIT 0`
// answer Rotor registers and one made through a temporary table (GROUP_FLAG, BINARY_FLAG on SUM,
// MIN/MAX lengths): another issue than the values'.
const meta = (fs: unknown) => columnDefs(fs, ['name', 'columnType', 'decimals']);

/** The statement through Rotor and straight to MariaDB, text (twice: fill, then hit) and binary. */
async function same(sql: string, prepared?: { sql: string; params: number[] }): Promise<void> {
  await fx.rotor.caughtUp();
  await fx.sameTextAndBinary(sql, meta, prepared ?? { sql, params: [] });
}

const SUMS = 'SELECT SUM(f), AVG(f), SUM(d), AVG(d), COUNT(*) FROM m WHERE k = ?';
const GROUPS = 'SELECT g, SUM(f), SUM(d), AVG(f3), MIN(f), MAX(d) FROM m WHERE k = ? GROUP BY g ORDER BY g';
const BELOW = 'SELECT id, f FROM m WHERE k = ? AND f <= 0.1 ORDER BY id';
const PICKED = 'SELECT id FROM m WHERE k = ? AND (f = 0.1 OR f IN (0.2, 0.5) OR f BETWEEN 0.3 AND 0.33 OR d = 0.1) ORDER BY id';
const HAVING = 'SELECT k, SUM(f) FROM m WHERE k = ? GROUP BY k HAVING SUM(f) > 0.6';
const BY_FLOAT = 'SELECT id, f, f3 FROM m WHERE f = ? ORDER BY id';
const BY_DOUBLE = 'SELECT id FROM m WHERE d = ? ORDER BY id';

async function checkAggregatesAndConditions(): Promise<void> {
  for (const k of [1, 2, 3]) {
    await same(SUMS.replace('?', String(k)), { sql: SUMS, params: [k] });
    await same(GROUPS.replace('?', String(k)));
    await same(BELOW.replace('?', String(k)));
    await same(PICKED.replace('?', String(k)));
    await same(HAVING.replace('?', String(k)));
  }
}

async function checkLookups(): Promise<void> {
  await same('SELECT id, f, f3 FROM m WHERE f = 0.1 ORDER BY id');
  await same('SELECT id, f, f3 FROM m WHERE f = 0.10000000149011612 ORDER BY id', { sql: BY_FLOAT, params: [Math.fround(0.1)] });
  await same("SELECT id, f, f3 FROM m WHERE f = '0.30000001192092896' ORDER BY id");
  await same('SELECT id FROM m WHERE d = 0.10000000000000000001 ORDER BY id', { sql: BY_DOUBLE, params: [0.1] });
}

/** Writes that reach Rotor through the binlog, each followed by `check`. */
async function underWrites(check: () => Promise<void>): Promise<void> {
  await check();
  await fx.db.admin.query('DELETE FROM m WHERE id > 6');
  await fx.db.admin.query('INSERT INTO m VALUES (7, 1, 1, 0.7, 0.7, 0.7), (8, 1, 2, NULL, NULL, NULL), (9, 3, 1, 0.1, 0.1, 0.1)');
  await check();
  await fx.db.admin.query('UPDATE m SET f = f * 3, d = d * 3 WHERE id IN (2, 9)');
  await check();
  await fx.db.admin.query('DELETE FROM m WHERE id IN (1, 5)');
  await check();
  await fx.db.admin.query('UPDATE m SET g = 2 WHERE id = 7');
  await check();
  await fx.db.admin.query('REPLACE INTO m VALUES (1, 1, 1, 0.1, 0.1, 0.1), (2, 1, 1, 0.2, 0.2, 0.2), (5, 2, 1, 3.4e38, 1.7e308, NULL)');
  await check();
}

test('SUM/AVG of FLOAT/DOUBLE and FLOAT/DOUBLE conditions equal MariaDB\'s, text and binary, under writes', async () => {
  const ids = [];
  for (const sql of [SUMS, GROUPS, BELOW, PICKED, HAVING]) ids.push(await register(sql));
  await underWrites(checkAggregatesAndConditions);
  for (const id of ids) assert.ok((await served(id)) > 0, `cache ${id} answered from Rotor`);
});

test('point lookups on FLOAT/DOUBLE columns compare as MariaDB does (a FLOAT holding 0.1 is not 0.1)', async () => {
  const ids = [await register(BY_FLOAT), await register(BY_DOUBLE)];
  await underWrites(checkLookups);
  for (const id of ids) assert.ok((await served(id)) > 0, `cache ${id} answered from Rotor`);
});

test('SUM/AVG of a FLOAT/DOUBLE column over a join is refused with the reason', async () => {
  await fx.db.admin.query('CREATE TABLE owner (id INT PRIMARY KEY, name VARCHAR(20))');
  const res = await fx.rotor.api<{ reason: { detail: string } }>('POST', '/api/caches', {
    sql: 'SELECT o.name, SUM(m.d) FROM m JOIN owner o ON o.id = m.k WHERE o.id = ? GROUP BY o.name', database: fx.db.name,
  });
  assert.equal(res.status, 422);
  assert.match(res.body.reason.detail, /SUM of FLOAT\/DOUBLE column d over a join/);
});
