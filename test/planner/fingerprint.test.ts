import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fingerprint, replacePlaceholders, SqlMode, sqlModeBits } from '../../src/planner/fingerprint.js';

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

  it('keeps exact numbers exact and hex literals in the key', () => {
    const f = fingerprint('SELECT a FROM t WHERE b = 12345678901234567890 AND c = 1.50 AND d = 0xFF');
    assert.deepEqual(f?.literals, [{ kind: 'value', value: 12345678901234567890n }, { kind: 'value', value: '1.50' }]);
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

  it('replaces placeholders outside quotes', () => {
    assert.equal(replacePlaceholders("SELECT '?' FROM t WHERE a = ? AND b IN (?, ?)", 'NULL'), "SELECT '?' FROM t WHERE a = NULL AND b IN (NULL, NULL)");
  });
});
