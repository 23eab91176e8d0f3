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
import { until } from '../support/until.js';

const fx = e2eFixture('e2e_memfill_review', {
  rotor: { completeRows: '1000', missPolicy: 'relay' },
  schema: `
    CREATE TABLE s (id INT PRIMARY KEY, k INT, big BIGINT UNSIGNED, d DECIMAL(10,3), name VARCHAR(10) COLLATE utf8mb4_general_ci, x INT, KEY (k), KEY (big), KEY (d), KEY (name));
    INSERT INTO s VALUES (1, 1, 9007199254740993, 1.500, 'Bob', 5), (2, 1, 18446744073709551615, 2.000, 'bob', 7), (3, 2, 5, NULL, 'Ann', NULL);
  `,
});

interface Stats { hits: number; misses: number; relayedMisses: number; memoryFills: number; upqueries: number }
interface Info { complete: boolean; wholeFill: string; plan: string[]; stats: Stats }
const info = async (id: string): Promise<Info> => (await fx.rotor.api<Info>('GET', `/api/caches/${id}`)).body;
const whole = (id: string): Promise<Info> => until(`cache ${id} filled whole`, 20_000, async () => {
  const i = await info(id);
  return i.wholeFill !== 'filling' && i;
});

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
