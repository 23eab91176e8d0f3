/**
 * [note: collations] Text compares, keys and orders in Rotor exactly as under MariaDB's collation:
 * the weights read from the server reproduce its `=` and `<` over strings made of every kind of
 * character in use (letters, accents, ß, spaces, tabs, CJK, emoji), and caches over text columns
 * answer as MariaDB does for the cases a look-alike folding got wrong.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { loadCollation } from '../../src/upstream/collations.js';
import type { Collation } from '../../src/dataflow/collation.js';
import { RotorError } from '../../src/errors.js';
import { EngineFixture } from './support.js';

/** Characters whose weights differ between collations in ways that matter. */
const ALPHABET = ['a', 'A', 'b', 'z', 'Z', 'ä', 'Ä', 'å', 'é', 'e', 'E', 'ß', 's', 'S', 'ss', 'æ', 'ø', 'o', 'ö', ' ', '\t', '_', '[', '-', '0', '9', '€', 'ÿ', '中', '文', '😀', '🙂', '𝐀', '𐌰', '𠀀', 'ǅ', 'ı', 'İ', 'ﬁ'];

/** Deterministic pseudo-random strings over the alphabet, with trailing spaces and empties among them. */
function strings(n: number, latin1: boolean): string[] {
  const alphabet = latin1 ? ALPHABET.filter((c) => [...c].every((ch) => ch.codePointAt(0)! < 256 || ch === '€')) : ALPHABET;
  let seed = 12345;
  const next = (k: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff; return (seed >>> 8) % k; };
  const out = new Set<string>(['', ' ', 'a', 'a ', 'A', 'a\t', 'abc', 'abc ', 'ABC']);
  while (out.size < n) {
    let s = '';
    const len = 1 + next(4);
    for (let i = 0; i < len; i++) s += alphabet[next(alphabet.length)];
    out.add(next(5) === 0 ? s + ' ' : s);
  }
  return [...out];
}

describe('collations read from MariaDB', () => {
  let f: EngineFixture;
  let conn: mysql.Connection;

  before(async () => {
    f = await EngineFixture.create('views_collations', `
      CREATE TABLE person (id INT PRIMARY KEY, name VARCHAR(20) COLLATE utf8mb4_general_ci, INDEX (name));
      INSERT INTO person VALUES (1, 'bob'), (2, 'BOB'), (3, 's'), (4, 'ß'), (5, 'ss'), (6, 'Bob '), (7, '_x'), (8, 'zed');
      CREATE TABLE place (id INT PRIMARY KEY, name VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_swedish_ci, INDEX (name));
      INSERT INTO place VALUES (1, 'a'), (2, 'ä'), (3, 'A'), (4, 'å'), (5, 'o'), (6, 'ö');
      CREATE TABLE code (id INT PRIMARY KEY, c VARCHAR(20) COLLATE utf8mb4_bin, INDEX (c));
      INSERT INTO code VALUES (1, 'abc'), (2, 'ABC'), (3, 'abc '), (4, '\u{1F600}'), (5, '\u{FF5E}');
      CREATE TABLE word (id INT PRIMARY KEY, w VARCHAR(20) COLLATE utf8mb4_unicode_ci);
      INSERT INTO word VALUES (1, 'ss'), (2, 'ß'), (3, 'Straße'), (4, 'strasse'), (5, '_under'), (6, 'zeta');
      CREATE TABLE slovak (id INT PRIMARY KEY, w VARCHAR(20) COLLATE utf8mb4_slovak_ci);
    `);
    conn = await mysql.createConnection({ uri: f.db.url, charset: 'utf8mb4' });
  });

  after(async () => {
    await conn.end();
    await f.close();
  });

  const query = async (sql: string, values?: ReadonlyArray<unknown>): Promise<unknown[][]> =>
    (await conn.query({ sql, values: values as unknown[], rowsAsArray: true }))[0] as unknown[][];

  for (const [name, charset] of [['utf8mb4_general_ci', 'utf8mb4'], ['utf8mb4_unicode_ci', 'utf8mb4'], ['utf8mb4_unicode_520_ci', 'utf8mb4'], ['utf8mb4_bin', 'utf8mb4'], ['utf8mb4_nopad_bin', 'utf8mb4'], ['latin1_swedish_ci', 'latin1'], ['latin1_german2_ci', 'latin1'], ['latin1_bin', 'latin1']] as const) {
    it(`${name}: = and < agree with MariaDB over every pair of test strings`, async () => {
      const entry = await loadCollation(query, name);
      assert.ok(!('refused' in entry), `${name} refused: ${'refused' in entry ? entry.refused : ''}`);
      const c = entry as Collation;
      const values = strings(120, charset === 'latin1');
      await query(`CREATE TEMPORARY TABLE s_${name} (id INT PRIMARY KEY, s VARCHAR(20) CHARACTER SET ${charset} COLLATE ${name})`);
      await query(`INSERT INTO s_${name} VALUES ${values.map(() => '(?, ?)').join(', ')}`, values.flatMap((v, i) => [i, v]));
      const rows = await query(`SELECT a.id, b.id, STRCMP(a.s, b.s) FROM s_${name} a JOIN s_${name} b`);
      assert.equal(rows.length, values.length ** 2);
      let checked = 0;
      for (const [ia, ib, cmp] of rows) {
        const a = values[Number(ia)], b = values[Number(ib)];
        const ours = c.compare(a, b);
        assert.equal(ours, Number(cmp), `${name}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
        assert.equal(c.key(a) === c.key(b), Number(cmp) === 0, `${name}: keys of ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
        checked++;
      }
      assert.equal(checked, values.length ** 2);
    });
  }

  it('refuses what it cannot reproduce, with the reason', async () => {
    for (const name of ['utf8mb4_slovak_ci', 'cp1250_czech_cs', 'big5_chinese_ci']) {
      const entry = await loadCollation(query, name);
      assert.ok('refused' in entry, name);
    }
    await assert.rejects(f.engine.register({ sql: 'SELECT id FROM slovak WHERE w = ?' }), (e: unknown) =>
      e instanceof RotorError && e.code === 'ERR_CACHE_UNSUPPORTED' && /utf8mb4_slovak_ci/.test(e.message));
    // A column only shown, never compared, needs no collation.
    await f.engine.register({ sql: 'SELECT w FROM slovak WHERE id = ?' });
  });

  const same = async (sql: string, ordered = false): Promise<void> => {
    const ours = await f.ask(sql);
    const theirs = (await f.upstream(sql)).rows;
    const sort = (rows: ReadonlyArray<ReadonlyArray<unknown>>): string[] => {
      const t = rows.map((r) => JSON.stringify(r));
      return ordered ? t : t.sort();
    };
    assert.deepEqual(sort(ours.rows ?? []), sort(theirs), sql);
  };

  it('keys point lookups by the collation: ß = s under general_ci, ä <> a under latin1_swedish_ci, PAD SPACE _bin', async () => {
    await f.engine.register({ sql: 'SELECT id, name FROM person WHERE name = ?' });
    await f.engine.register({ sql: 'SELECT id, name FROM place WHERE name = ?' });
    await f.engine.register({ sql: 'SELECT id, c FROM code WHERE c = ?' });
    for (const v of ['ß', 's', 'S', 'ss', 'bob', 'BOB ', 'x']) await same(`SELECT id, name FROM person WHERE name = '${v}'`);
    for (const v of ['a', 'ä', 'Ä', 'å', 'o', 'ö', 'A ']) await same(`SELECT id, name FROM place WHERE name = '${v}'`);
    for (const v of ['abc', 'abc ', 'abc  ', 'ABC', '\u{1F600}']) await same(`SELECT id, c FROM code WHERE c = '${v}'`);
    // Served from the cache, not upstream.
    assert.equal((await f.ask("SELECT id, name FROM person WHERE name = 'ß'")).source, 'hit');
    // Writes through the binlog land under the same keys.
    await f.db.admin.query("INSERT INTO person VALUES (9, 'S'); INSERT INTO place VALUES (7, 'Ä'); INSERT INTO code VALUES (6, 'abc  ')");
    await f.drain();
    for (const v of ['ß', 's']) await same(`SELECT id, name FROM person WHERE name = '${v}'`);
    for (const v of ['a', 'ä']) await same(`SELECT id, name FROM place WHERE name = '${v}'`);
    await same("SELECT id, c FROM code WHERE c = 'abc'");
  });

  it('sends a literal the column\'s character set cannot hold upstream, for MariaDB\'s own error', async () => {
    const r = await f.ask("SELECT id, name FROM place WHERE name = '中'");
    assert.equal(r.source, 'upstream');
  });

  it('counts distinct values, groups and orders under the collation', async () => {
    await f.engine.register({ sql: 'SELECT COUNT(DISTINCT name) FROM person' });
    await same('SELECT COUNT(DISTINCT name) FROM person');
    await f.engine.register({ sql: 'SELECT COUNT(*) FROM person GROUP BY name HAVING COUNT(*) > 1' });
    await same('SELECT COUNT(*) FROM person GROUP BY name HAVING COUNT(*) > 1');
    await f.engine.register({ sql: 'SELECT w FROM word ORDER BY w, id LIMIT 10' });
    await same('SELECT w FROM word ORDER BY w, id LIMIT 10', true);
    await f.engine.register({ sql: 'SELECT MIN(name), MAX(name) FROM person' });
    await same('SELECT MIN(name), MAX(name) FROM person');
    await f.engine.register({ sql: "SELECT id FROM word WHERE w >= 'S' AND w < 'T'" });
    await same("SELECT id FROM word WHERE w >= 'S' AND w < 'T'");
  });
});
