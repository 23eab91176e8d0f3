/**
 * [note: range-state] Range caches through mysql2, text and prepared: keyset pagination page by
 * page (ascending and descending), a time window inside a key on a DATETIME(3), BETWEEN on a
 * DECIMAL; every answer equal to MariaDB's own (values and column definitions), read again from
 * the cache, before and after writes inside and outside the intervals Rotor holds reach it
 * through the binlog. Bounds MariaDB would convert (a string with a fraction against an INT,
 * NULL) are relayed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { startTestRotor } from '../support/rotor.js';
import { columnDefs, e2eFixture, rawText } from '../support/e2e-fixture.js';

const fx = e2eFixture('e2e_ranges', {
  schema: `
    CREATE TABLE story (id INT PRIMARY KEY, author INT NOT NULL, title VARCHAR(40), price DECIMAL(8,2), created_at DATETIME(3), INDEX (author, created_at));
    INSERT INTO story VALUES
      (1, 1, 'one', 1.00, '2024-01-01 09:00:00.000'), (2, 1, 'two', 2.50, '2024-01-01 12:00:00.500'),
      (3, 2, 'three', 3.75, '2024-01-02 00:00:00.000'), (4, 1, 'four', 4.00, '2024-01-02 08:30:00.250'),
      (5, 1, 'five', 5.10, '2024-01-03 00:00:00.000'), (6, 2, 'six', 6.00, NULL), (7, 1, 'seven', 7.70, '2024-01-04 23:59:59.999'),
      (8, 1, 'eight', 8.00, '2024-01-05 00:00:00.001'), (9, 3, 'nine', 9.99, '2024-01-05 10:00:00.000'), (10, 1, 'ten', 10.00, '2024-01-06 00:00:00.000');
  `,
});
const { register, hits } = fx;

const meta = (fs: unknown) => columnDefs(fs, ['name', 'columnType', 'decimals', 'characterSet']);

/** The statement with `params` in its `?`, through Rotor and straight to MariaDB: text twice, then prepared twice. */
async function same(id: string, sql: string, params: Array<number | string>): Promise<void> {
  await fx.rotor.caughtUp();
  let i = 0;
  const text = sql.replace(/\?/g, () => { const p = params[i++]; return typeof p === 'number' ? String(p) : `'${p}'`; });
  const before = await hits(id);
  await fx.sameTextAndBinary(text, meta, { sql, params });
  assert.ok(await hits(id) >= before + 2, `${text}: answered from the cache`);
}

const PAGE = 'SELECT id, title FROM story WHERE id > ? ORDER BY id LIMIT 3';
const BACK = 'SELECT id, title FROM story WHERE id < ? ORDER BY id DESC LIMIT 3';
const WINDOW = 'SELECT id, title, created_at FROM story WHERE author = ? AND created_at >= ? AND created_at < ? ORDER BY created_at, id';
const PRICES = 'SELECT id, price FROM story WHERE price BETWEEN ? AND ? ORDER BY price';

let ids: Record<string, string>;

async function pages(): Promise<void> {
  // Forward: each page starts after the last id of the one before, until a short page.
  let last = 0;
  for (let n = 0; n < 6; n++) {
    await same(ids.page, PAGE, [last]);
    const [rows] = await fx.direct.query<mysql.RowDataPacket[]>(`SELECT id FROM story WHERE id > ${last} ORDER BY id LIMIT 3`);
    if (rows.length < 3) break;
    last = rows[rows.length - 1].id as number;
  }
  for (const from of [100, 9, 5, 2]) await same(ids.back, BACK, [from]);
}

async function windows(): Promise<void> {
  await same(ids.window, WINDOW, [1, '2024-01-01', '2024-01-03']);
  await same(ids.window, WINDOW, [1, '2024-01-01 12:00:00.5', '2024-01-05 00:00:00.001']);
  await same(ids.window, WINDOW, [1, '2024-01-02', '2024-12-31 23:59:59']);
  await same(ids.window, WINDOW, [2, '2000-01-01', '2030-01-01']);
  await same(ids.prices, PRICES, ['2.5', '7.7']);
  await same(ids.prices, PRICES, [4, 100]);
}

test('range caches answer as MariaDB does, page by page and window by window, under writes', async () => {
  ids = { page: await register(PAGE), back: await register(BACK), window: await register(WINDOW), prices: await register(PRICES) };
  await pages();
  await windows();
  // Writes inside held intervals (new rows between pages, a row moved across a window's end,
  // deletes), and outside them.
  await fx.db.admin.query(`
    INSERT INTO story VALUES (11, 1, 'eleven', 2.75, '2024-01-02 08:30:00.250'), (12, 2, 'twelve', 0.50, '2024-01-01 00:00:00.000');
    DELETE FROM story WHERE id IN (4, 9);
    UPDATE story SET created_at = '2024-01-03 00:00:00.000', price = 7.70 WHERE id = 2;
    UPDATE story SET author = 1 WHERE id = 6;
    UPDATE story SET id = 40 WHERE id = 8;
  `);
  await pages();
  await windows();
});

test('bounds MariaDB would convert go upstream', async () => {
  await fx.rotor.caughtUp();
  for (const [sql, params] of [[PAGE, ['2.5']], [WINDOW, [1, null, '2024-01-03']], [WINDOW, [1, '2023-02-29', '2024-01-03']]] as const) {
    const [want] = await fx.direct.execute({ sql, rowsAsArray: true }, params as unknown as string[]);
    const [got] = await fx.viaRotor.execute({ sql, rowsAsArray: true }, params as unknown as string[]);
    assert.deepEqual(got, want, `${sql} ${JSON.stringify(params)}`);
  }
});

test('under --miss-policy relay, keyset pages read once each are served from the cache after the second', async () => {
  const relay = await startTestRotor(fx.db, { missPolicy: 'relay' });
  const conn = await relay.connect();
  try {
    const res = await relay.api<{ id: string }>('POST', '/api/caches', { sql: PAGE, database: fx.db.name });
    assert.equal(res.status, 201);
    await relay.caughtUp();
    let last = 0;
    for (let n = 0; n < 5; n++) {
      const sql = PAGE.replace('?', String(last));
      const [want] = await fx.direct.query({ sql, rowsAsArray: true, ...rawText });
      const [got] = await conn.query({ sql, rowsAsArray: true, ...rawText });
      assert.deepEqual(got, want, sql);
      const rows = want as string[][];
      if (rows.length < 3) break;
      last = Number(rows[rows.length - 1][0]);
      // The fill behind the second page's miss is off the client's path: let it land.
      await new Promise((r) => setTimeout(r, 100));
    }
    const stats = (await relay.api<{ stats: { hits: number; relayedMisses: number } }>('GET', `/api/caches/${res.body.id}`)).body.stats;
    assert.ok(stats.hits >= 1, `pages served from the cache: ${JSON.stringify(stats)}`);
  } finally {
    await conn.end();
    await relay.stop();
  }
});
