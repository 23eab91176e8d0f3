/**
 * The join and union shapes of issue 17 end to end through mysql2, text and prepared: self-joins
 * ([note: self-join]), `a = ? OR b = ?` across columns ([note: or-union]), UNION branches over two
 * tables ([note: union-branches]) and comparisons across the tables in ON ([note: join-residual]).
 * Each answer and its column definitions are compared with MariaDB's own, with writes between
 * reads; each cache MUST serve hits (its grants checked through the session's own account).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnDefs, e2eFixture } from '../support/e2e-fixture.js';

const fx = e2eFixture('e2e_join_shapes', {
  schema: `
    CREATE TABLE category (id INT PRIMARY KEY, parent_id INT, name VARCHAR(40));
    CREATE TABLE article (id INT PRIMARY KEY, author INT, editor INT, title VARCHAR(40), created DATETIME, INDEX (author), INDEX (editor));
    CREATE TABLE note (id INT PRIMARY KEY, article_id INT, body VARCHAR(40), created DATETIME, INDEX (article_id));
    INSERT INTO category VALUES (1, NULL, 'root'), (2, 1, 'books'), (3, 3, 'self');
    INSERT INTO article VALUES (1, 1, 2, 'same', '2024-01-01 00:00:00'), (2, 2, 1, 'same', '2024-01-02 00:00:00'), (3, 1, 1, 'both', '2024-01-03 00:00:00');
    INSERT INTO note VALUES (1, 1, 'early', '2023-12-31 00:00:00'), (2, 1, 'late', '2024-02-01 00:00:00'), (3, 3, 'n3', '2024-01-04 00:00:00');
  `,
});
const { register, hits } = fx;

const meta = (fs: unknown) => columnDefs(fs, ['name', 'columnType', 'flags', 'decimals', 'characterSet']);
const sorted = (rows: unknown) => (rows as object[]).map((r) => JSON.stringify(r)).sort();

/** The statement through Rotor and straight to MariaDB, text and prepared, three times each. */
async function same(sql: string, params: unknown[]): Promise<void> {
  await fx.rotor.caughtUp();
  const literal = sql.split('?').map((part, i) => (i === 0 ? part : `${typeof params[i - 1] === 'string' ? `'${params[i - 1] as string}'` : String(params[i - 1])}${part}`)).join('');
  const [direct, fieldsD] = await fx.db.admin.query(literal);
  const [directP] = await fx.db.admin.execute(sql, params as Array<string | number>);
  for (let i = 0; i < 3; i++) {
    const [viaRotor, fieldsR] = await fx.viaRotor.query(literal);
    assert.deepEqual(sorted(viaRotor), sorted(direct), literal);
    assert.deepEqual(meta(fieldsR), meta(fieldsD), `column definitions of ${literal}`);
    const [viaRotorP] = await fx.viaRotor.execute(sql, params as Array<string | number>);
    assert.deepEqual(sorted(viaRotorP), sorted(directP), `${sql} prepared`);
  }
}

test('a self-join, a row that is its own parent, and a change on both sides at once', async () => {
  const sql = 'SELECT c.name, p.name AS parent FROM category c JOIN category p ON c.parent_id = p.id WHERE c.id = ?';
  const id = await register(sql);
  for (const k of [2, 3]) await same(sql, [k]);
  await fx.db.admin.query("UPDATE category SET parent_id = 2, name = 'Books' WHERE id = 2");
  for (const k of [2, 3]) await same(sql, [k]);
  assert.ok((await hits(id)) >= 4, 'answers came from the view');
});

test('`a = ? OR b = ?` keeps a row matching both once and equal titles apart', async () => {
  const sql = 'SELECT title FROM article WHERE author = ? OR editor = ?';
  const id = await register(sql);
  await same(sql, [1, 1]);
  await fx.db.admin.query("INSERT INTO article VALUES (4, 9, 1, 'same', NULL); UPDATE article SET editor = 9 WHERE id = 2");
  await same(sql, [1, 1]);
  assert.ok((await hits(id)) >= 4);
});

test('a UNION over two tables, and a later reply by a comparison across the tables in ON', async () => {
  const union = 'SELECT id, title FROM article WHERE author = ? UNION ALL SELECT id, body FROM note WHERE article_id = ?';
  const residual = 'SELECT a.title, n.body FROM article a JOIN note n ON n.article_id = a.id AND n.created > a.created WHERE a.id = ?';
  const ids = [await register(union), await register(residual)];
  await same(union, [1, 1]);
  await same(residual, [1]);
  await fx.db.admin.query("UPDATE note SET created = '2025-01-01 00:00:00' WHERE id = 1; INSERT INTO note VALUES (4, 1, 'n4', '2020-01-01 00:00:00')");
  await same(union, [1, 1]);
  await same(residual, [1]);
  for (const id of ids) assert.ok((await hits(id)) >= 4);
});
