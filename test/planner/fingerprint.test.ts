import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fingerprint, replacePlaceholders } from '../../src/planner/fingerprint.js';

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

  it('replaces placeholders outside quotes', () => {
    assert.equal(replacePlaceholders("SELECT '?' FROM t WHERE a = ? AND b IN (?, ?)", 'NULL'), "SELECT '?' FROM t WHERE a = NULL AND b IN (NULL, NULL)");
  });
});
