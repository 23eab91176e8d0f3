import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fingerprint, replacePlaceholders, scopedKey } from '../../src/planner/fingerprint.js';
import { SqlMode, sqlModeBits } from '../../src/planner/tokenizer.js';

describe('fingerprint', () => {
  it('gives a statement with literals the key of the same statement registered with ?', () => {
    const a = fingerprint("select  fans from fan_count where item_id=42 -- trailing\n");
    const b = fingerprint('SELECT fans FROM fan_count WHERE item_id = ?;');
    assert.equal(a?.key, b?.key);
    assert.deepEqual(a?.literals, [{ kind: 'value', value: 42 }]);
    assert.deepEqual(b?.literals, [{ kind: 'param' }]);
  });

  it('folds IN lists of any length into one list literal', () => {
    const a = fingerprint('SELECT * FROM t WHERE id IN (1, 2, 3, 4)');
    const b = fingerprint('SELECT * FROM t WHERE id IN (?,?)');
    assert.equal(a?.key, b?.key);
    assert.equal(a?.key, 'SELECT * FROM t WHERE id IN (?+)');
    assert.equal(a?.literals[0].kind === 'list' && a.literals[0].items.length, 4);
  });

  it('unescapes string literals, removes comments and drops backticks around plain identifiers', () => {
    const f = fingerprint("SELECT /* c */ `a` FROM `t` WHERE s = 'it''s' AND u = 'a\\'b' # x");
    assert.equal(f?.key, 'SELECT a FROM t WHERE s = ? AND u = ?');
    assert.deepEqual(f?.literals, [{ kind: 'value', value: "it's" }, { kind: 'value', value: "a'b" }]);
  });

  it('keeps identifier case (table names are case-sensitive) but upper-cases keywords', () => {
    assert.notEqual(fingerprint('SELECT a FROM T')?.key, fingerprint('select a from t')?.key);
    assert.equal(fingerprint('select a from t')?.key, 'SELECT a FROM t');
  });

  it('[note: hot-path] knows keywords in any case without upper-casing every word, as toUpperCase would read them', () => {
    assert.equal(fingerprint('SeLeCt a FrOm t WhErE b = 1 lock in share mode')?.key, 'SELECT a FROM t WHERE b = ? LOCK IN SHARE MODE');
    assert.equal(fingerprint('select Selected, fromage, _from, from_, `from` from t')?.key, 'SELECT Selected, fromage, _from, from_, `from` FROM t');
    // A word with other characters is read by toUpperCase: `ſ` (long s) upper-cases to S; the
    // Kelvin sign stays itself.
    assert.equal(fingerprint('ſelect a from t')?.key, 'SELECT a FROM t');
    assert.equal(fingerprint('select a from t loc\u212A in share mode')?.key, 'SELECT a FROM t loc\u212A IN SHARE MODE');
    assert.equal(scopedKey(fingerprint('select x from t cross join u')!, 'd'), '\0SELECT x FROM d.t cross JOIN d.u', 'a word the table scan knows keeps its case in the key');
    assert.equal(scopedKey(fingerprint('select x from t Straight_Join u')!, 'd'), 'd\0SELECT x FROM t Straight_Join u');
  });

  it('reads integers as Number would, and operators of two and three characters whole', () => {
    assert.deepEqual(fingerprint('SELECT 007, 123456789012345, 1234567890123456, 0.5 FROM t')?.literals,
      [{ kind: 'value', value: 7 }, { kind: 'value', value: 123456789012345 }, { kind: 'value', value: 1234567890123456 }, { kind: 'value', value: '0.5', number: true }]);
    assert.equal(fingerprint('SELECT a FROM t WHERE a<=>b AND c<>d AND e!=f AND g<<1 AND h>>2 AND i||j AND k&&l AND @m:=1 AND n<=o AND p>=q AND r<s')?.key,
      'SELECT a FROM t WHERE a <=> b AND c <> d AND e != f AND g << ? AND h >> ? AND i || j AND k && l AND @ m := ? AND n <= o AND p >= q AND r < s');
  });

  it('keeps exact numbers exact and hex literals in the key', () => {
    const f = fingerprint('SELECT a FROM t WHERE b = 12345678901234567890 AND c = 1.50 AND d = 0xFF');
    assert.deepEqual(f?.literals, [{ kind: 'value', value: 12345678901234567890n }, { kind: 'value', value: '1.50', number: true }]);
    assert.ok(f?.key.endsWith('d = 0xFF'));
  });

  it('refuses executable comments and several statements', () => {
    assert.equal(fingerprint('SELECT /*!50000 a */ FROM t'), null);
    assert.equal(fingerprint('SELECT 1; SELECT 2'), null);
  });

  it('locates the select list, which names the result columns', () => {
    const sql = 'SELECT COUNT(*) AS n, g FROM t WHERE g = 1';
    const f = fingerprint(sql);
    assert.equal(sql.slice(f?.selectStart, f?.selectEnd), 'COUNT(*) AS n, g');
  });

  it('[note: sql-mode-quoting] reads backslashes and double quotes as the sql_mode says', () => {
    const sql = "SELECT id FROM t WHERE name = 'a\\' OR name = 'b'";
    assert.equal(fingerprint(sql), null, "default: the backslash escapes the quote, and the last ' opens a string that never ends");
    const nbe = fingerprint(sql, SqlMode.NoBackslashEscapes);
    assert.equal(nbe?.key, 'SELECT id FROM t WHERE name = ? OR name = ?');
    assert.deepEqual(nbe?.literals, [{ kind: 'value', value: 'a\\' }, { kind: 'value', value: 'b' }]);
    assert.equal(fingerprint("SELECT id FROM t WHERE name = _latin1'x\\' OR 1 = 1 -- '")?.key.endsWith("-- '"), true, 'an introducer string ends where the server ends it (the -- is inside it)');
    assert.equal(fingerprint('SELECT id FROM t WHERE name = "x"'), null, 'a string, or an identifier under ANSI_QUOTES: never guessed');
    assert.deepEqual(fingerprint(`SELECT id FROM t WHERE name = 'say "x"'`)?.literals, [{ kind: 'value', value: 'say "x"' }]);
    assert.equal(fingerprint('SELECT v FROM /*M! pub AS */ secret WHERE id = 1'), null, 'MariaDB runs what /*M! holds');
    assert.equal(fingerprint('SELECT v FROM secret WHERE id = 1 /*!50000 OR 1 */'), null);
    assert.deepEqual(fingerprint("SELECT id FROM t WHERE v = 'a\\_b' AND w = 'c\\%'")?.literals, [{ kind: 'value', value: 'a\\_b' }, { kind: 'value', value: 'c\\%' }], 'LIKE escapes keep their backslash, as in MariaDB');
    assert.equal(fingerprint('SELECT id FROM t WHERE id = 1 --\u0001 AND 0')?.key, 'SELECT id FROM t WHERE id = ?', '-- before a control character is a comment');
    assert.equal(sqlModeBits('STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES'), SqlMode.NoBackslashEscapes);
    assert.equal(sqlModeBits('PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI'), SqlMode.AnsiQuotes);
  });

  it('[note: hot-path] a repeated text is answered from memory, per sql_mode', () => {
    const sql = "SELECT v FROM kv WHERE k = 'a\\' OR k = 'b'";
    const once = "SELECT v FROM kv WHERE k = 'seen once'";
    assert.notEqual(fingerprint(once), fingerprint(once), 'a text seen once is not kept: the second sighting tokenizes it again');
    assert.equal(fingerprint(once), fingerprint(once), 'from then on, the same object');
    fingerprint(sql);
    assert.equal(fingerprint(sql), fingerprint(sql), 'the same object');
    assert.equal(fingerprint(sql), null, 'a backslash escapes the quote: never ends');
    assert.equal(fingerprint(sql, SqlMode.NoBackslashEscapes)?.key, 'SELECT v FROM kv WHERE k = ? OR k = ?', 'another sql_mode reads it anew');
    const long = `SELECT v FROM kv WHERE k = ${'1'.repeat(2000)}`;
    assert.notEqual(fingerprint(long), fingerprint(long), 'a long text is not kept');
    assert.deepEqual(fingerprint(long), fingerprint(long));
  });

  it('replaces placeholders outside quotes', () => {
    assert.equal(replacePlaceholders("SELECT '?' FROM t WHERE a = ? AND b IN (?, ?)", 'NULL'), "SELECT '?' FROM t WHERE a = NULL AND b IN (NULL, NULL)");
  });

  describe('[note: scoped-key] routing keys', () => {
    const scoped = (sql: string, db: string | null): string | null => {
      const f = fingerprint(sql);
      assert.ok(f !== null, sql);
      return scopedKey(f, db);
    };

    it('writes out the database of every table, so a qualified spelling meets the unqualified one', () => {
      assert.equal(scoped('SELECT v FROM kv WHERE k = 1', 'shop'), '\0SELECT v FROM shop.kv WHERE k = ?');
      assert.equal(scoped('SELECT v FROM shop.kv WHERE k = ?', 'other'), scoped('SELECT v FROM kv WHERE k = ?', 'shop'));
      assert.equal(scoped('SELECT v FROM `shop`.`kv` WHERE k = ?', null), scoped('select v from kv where k = ?', 'shop'));
      assert.notEqual(scoped('SELECT v FROM kv WHERE k = 1', 'a'), scoped('SELECT v FROM kv WHERE k = 1', 'b'), 'the same text in two databases reads two tables');
      assert.equal(scoped('SELECT v FROM kv WHERE k = 1', null), null, 'no database: an unqualified table names nothing');
      assert.equal(scoped('SELECT `weird-db`.kv.v FROM kv', 'weird-db'), '\0SELECT `weird-db`.kv.v FROM `weird-db`.kv');
    });

    it('finds the tables of joins, comma lists, derived tables, subqueries and unions', () => {
      assert.equal(scoped('SELECT a.x FROM t a JOIN u AS b ON a.id = b.id LEFT OUTER JOIN w USING (id), z WHERE a.k = ?', 'd'),
        '\0SELECT a.x FROM d.t a JOIN d.u AS b ON a.id = b.id LEFT OUTER JOIN d.w USING(id), d.z WHERE a.k = ?');
      assert.equal(scoped('SELECT n FROM (SELECT COUNT(*) AS n FROM t WHERE g = ?) s', 'd'), '\0SELECT n FROM (SELECT COUNT(*) AS n FROM d.t WHERE g = ?) s');
      assert.equal(scoped('SELECT x FROM t WHERE k IN (SELECT k FROM o.u WHERE EXISTS (SELECT 1 FROM w)) UNION ALL SELECT x FROM v', 'd'),
        '\0SELECT x FROM d.t WHERE k IN (SELECT k FROM o.u WHERE EXISTS (SELECT ? FROM d.w)) UNION ALL SELECT x FROM d.v');
      assert.equal(scoped('SELECT EXTRACT(YEAR FROM d), TRIM(LEADING ? FROM s), LEFT(s, 2) FROM t WHERE k = ?', 'd'),
        '\0SELECT EXTRACT(YEAR FROM d), TRIM(LEADING ? FROM s), LEFT(s, ?) FROM d.t WHERE k = ?', 'a FROM inside a function names no table');
      assert.equal(scoped('SELECT x FROM t JOIN u ON LEFT(t.s, 1) = u.s WHERE t.k = ?', 'd'), '\0SELECT x FROM d.t JOIN d.u ON LEFT(t.s, ?) = u.s WHERE t.k = ?');
    });

    it('keys by the database and the text where it cannot locate every table', () => {
      for (const sql of [
        'SELECT x FROM t STRAIGHT_JOIN u WHERE k = ?',
        'SELECT x FROM t a STRAIGHT_JOIN u WHERE k = ?',
        'SELECT x FROM t JOIN u ON t.a = u.a STRAIGHT_JOIN w ON w.b = u.b',
        'SELECT x FROM (t, u) WHERE k = ?',
        'SELECT x FROM t USE INDEX (i) WHERE k = ?',
        'SELECT x FROM t FORCE INDEX (i) WHERE k = ?',
        'SELECT x FROM t PARTITION (p0) WHERE k = ?',
        'SELECT x FROM t, LATERAL (SELECT 1) l',
      ]) {
        assert.equal(scoped(sql, 'd'), `d\0${fingerprint(sql)?.key}`, sql);
        assert.equal(scoped(sql, null), null, sql);
      }
    });
  });
});
