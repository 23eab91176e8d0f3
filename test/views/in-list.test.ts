/**
 * [note: in-list-union] A cache of `col = ?` answers `col IN (…)` (an ORM's `whereIn`) as the union
 * of its keys' answers, and a cache of `col IN (?, …)` answers `col = ?`, where that union is the
 * answer: always without aggregates, and with them only when grouped by the column.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { planStatement } from '../../src/planner/index.js';
import { fingerprint, scopedKey } from '../../src/planner/fingerprint.js';
import { alternateForms } from '../../src/views/statement-plan.js';
import type { TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const t: TableSchema = {
  database: 'd', table: 'article',
  columns: [
    { name: 'id', dataType: 'int', scale: 0, collation: null, primary: true },
    { name: 'author', dataType: 'int', scale: 0, collation: null },
    { name: 'title', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci' },
  ],
};

const author: TableSchema = { database: 'd', table: 'author', columns: [{ name: 'id', dataType: 'int', scale: 0, collation: null, primary: true }] };

/** The routing keys of the spellings a cache of `sql` answers besides its own. */
function alternates(sql: string): string[] {
  const fp = fingerprint(sql)!;
  return alternateForms(fp, planSelect(parseStatement(sql), t, true)).map((a) => scopedKey(a.fp, 'd')!);
}

/** The routing key a read of `sql` is looked up by. */
const keyOf = (sql: string): string => scopedKey(fingerprint(sql)!, 'd')!;

describe('IN lists against equality caches [note: in-list-union]', () => {
  it('marks a parameter listable without aggregates, or with them when grouped by its column', () => {
    const listable = (sql: string) => planSelect(parseStatement(sql), t, true).params.map((p) => p.listable);
    assert.deepEqual(listable('SELECT title FROM article WHERE id = ?'), [true]);
    assert.deepEqual(listable('SELECT DISTINCT title FROM article WHERE author = ? AND id = ?'), [true, true]);
    assert.deepEqual(listable('SELECT author, COUNT(*) FROM article WHERE author = ? GROUP BY author'), [true]);
    assert.deepEqual(listable('SELECT COUNT(*) FROM article WHERE author = ?'), [false], 'a total over several keys is not a union');
    assert.deepEqual(listable('SELECT title, COUNT(*) FROM article WHERE author = ? GROUP BY title'), [false]);
  });

  it('answers `col IN (…)` of any length from a cache of `col = ?`, and `col = ?` from one of `col IN (?, …)`', () => {
    assert.deepEqual(alternates('SELECT title FROM article WHERE id = ?'), [keyOf('SELECT title FROM article WHERE id IN (1, 2, 3)')]);
    assert.equal(keyOf('SELECT title FROM article WHERE id IN (7)'), keyOf('SELECT title FROM article WHERE id IN (?, ?)'));
    assert.deepEqual(alternates('SELECT title FROM article WHERE id IN (?, ?)'), [keyOf('SELECT title FROM article WHERE id = 5')]);
  });

  it('respells every combination of a few parameters, constants and LIMIT ? kept', () => {
    const got = alternates('SELECT title FROM article WHERE author = ? AND title <> \'x\' AND id = ? ORDER BY id LIMIT ?');
    assert.deepEqual(got.sort(), [
      keyOf('SELECT title FROM article WHERE author IN (1, 2) AND title <> \'x\' AND id = 3 ORDER BY id LIMIT 5'),
      keyOf('SELECT title FROM article WHERE author = 1 AND title <> \'x\' AND id IN (3, 4) ORDER BY id LIMIT 5'),
      keyOf('SELECT title FROM article WHERE author IN (1) AND title <> \'x\' AND id IN (3, 4) ORDER BY id LIMIT 5'),
    ].sort());
  });

  it('moves the offsets of tables named after a respelled place, so they resolve as in the statement', () => {
    const sql = 'SELECT title FROM article WHERE id = ? AND author IN (SELECT id FROM author)';
    const plan = planStatement(parseStatement(sql), [t, author]);
    const forms = alternateForms(fingerprint(sql)!, plan);
    assert.deepEqual(forms.map((f) => scopedKey(f.fp, 'd')), [keyOf('SELECT title FROM article WHERE id IN (1, 2) AND author IN (SELECT id FROM author)')]);
  });

  it('respells no aggregate over the keys together, no `? = col`, no UNION', () => {
    assert.deepEqual(alternates('SELECT COUNT(*) FROM article WHERE author = ?'), []);
    assert.deepEqual(alternates('SELECT title FROM article WHERE ? = id'), []);
    const union = 'SELECT title FROM article WHERE id = ? UNION SELECT title FROM article WHERE author = ?';
    const fp = fingerprint(union)!;
    assert.equal(fp.literals.length, 2);
  });
});
