import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseCorpus, reasonFamily, reasonGroup, refusalGroups, schemaNames, sharesBySource } from '../../bench/lib/coverage.js';

const corpus = readFileSync(new URL('../../bench/corpus/app-queries.sql', import.meta.url), 'utf8');
const schema = readFileSync(new URL('../../bench/corpus/schema.sql', import.meta.url), 'utf8');

test('every corpus entry has a source, a shape and one SELECT', () => {
  const entries = parseCorpus(corpus);
  assert.ok(entries.length >= 150, `${entries.length} entries`);
  for (const e of entries) {
    assert.match(e.source, /^[a-z-]+$/, `line ${e.line}`);
    assert.ok(e.shape.length > 0, `line ${e.line}`);
    assert.match(e.sql, /^(select|with)\b/i, `line ${e.line}`);
    assert.ok(!e.sql.includes(';'), `line ${e.line}: one statement`);
  }
  assert.ok(new Set(entries.map((e) => e.source)).size >= 10);
});

test('most of the corpus is what apps send most: point, IN and ordered reads of one table', () => {
  const entries = parseCorpus(corpus);
  const simple = entries.filter((e) => !/\bjoin\b|\(\s*select\b|\bunion\b|^with\b/i.test(e.sql));
  assert.ok(simple.length / entries.length > 0.6, `${simple.length} of ${entries.length}`);
});

test('a corpus entry spans lines up to its ;, and comments between entries are skipped', () => {
  const entries = parseCorpus('-- a section\n-- @rails: point pk\nSELECT *\n  FROM posts\n  WHERE id = ?;\n\n-- notes\n-- @knex: first()\nselect 1 from t limit ?;\n');
  assert.deepEqual(entries, [
    { source: 'rails', shape: 'point pk', sql: 'SELECT * FROM posts WHERE id = ?', line: 2 },
    { source: 'knex', shape: 'first()', sql: 'select 1 from t limit ?', line: 8 },
  ]);
});

test('a malformed corpus is refused with its line', () => {
  assert.throws(() => parseCorpus('SELECT 1;\n'), /line 1: a statement without/);
  assert.throws(() => parseCorpus('-- @rails: a\n-- @rails: b\nSELECT 1;\n'), /line 1: no statement/);
  assert.throws(() => parseCorpus('-- @rails: a\nSELECT 1\n'), /line 1: statement not ended/);
});

test('the schema\'s tables, views and columns are names to group by', () => {
  const names = schemaNames(schema);
  for (const n of ['posts', 'wp_postmeta', 'published_posts', 'deleted_at', 'post_date', 'lifetime_value']) assert.ok(names.has(n), n);
  assert.ok(!names.has('select'));
});

test('reasons that differ only in tables, columns and numbers group together', () => {
  const names = new Set(['posts', 'comments', 'created_at', 'deleted_at', 'app']);
  const g = (r: string | null) => reasonGroup(r, names);
  assert.equal(g('The query cannot be cached: comparisons with DATE/TIME column deleted_at (in WHERE)'), 'comparisons with DATE/TIME column … (in WHERE)');
  assert.equal(g('The query cannot be cached: comparisons with DATE/TIME column created_at (in WHERE)'), g('comparisons with DATE/TIME column `deleted_at` (in WHERE)'));
  assert.equal(g('table posts read twice (self-joins) (in FROM)'), g('table comments read twice (self-joins) (in FROM)'));
  assert.equal(g('app.posts: a view (in FROM)'), '…: a view (in FROM)');
  assert.equal(g('LIMIT with offset + count above 10000'), 'LIMIT with offset + count above N');
  assert.equal(g("Unknown column 'bucket' in 'group statement'"), "Unknown column '…' in '…'");
  // Words of the message itself stay, backticked code included.
  assert.equal(g('a parameter outside `column = ?` conditions (in statement)'), 'a parameter outside `column = ?` conditions (in statement)');
  assert.equal(g('joining posts.id with comments.post_id, comments.id'), 'joining … with …');
  assert.equal(g(null), null);
});

test('grouped reasons fall into the families of issue 17', () => {
  assert.equal(reasonFamily('LIMIT without ORDER BY (which rows MariaDB returns is not defined) (in LIMIT)'), 'LIMIT without ORDER BY');
  assert.equal(reasonFamily('a parameter inside OR/NOT or a non-equality condition (in WHERE)'), 'range, OR and other non-equality parameters');
  assert.equal(reasonFamily('unary operator NOT EXISTS (in WHERE)'), 'subqueries (EXISTS, NOT EXISTS, IN, scalar)');
  assert.equal(reasonFamily('the expression function COALESCE() (only columns and aggregates are cached) (in SELECT)'), 'expressions and functions');
  assert.equal(reasonFamily('table … read twice (self-joins) (in FROM)'), 'self-joins');
  assert.equal(reasonFamily('something new'), 'other');
});

test('shares count per source and overall; refusals group largest first', () => {
  const entries = parseCorpus('-- @a: x\nSELECT 1;\n-- @a: y\nSELECT 2;\n-- @b: z\nSELECT 3;\n-- @b: w\nSELECT 4;\n');
  const outcomes = [
    { cacheable: true, reason: null },
    { cacheable: false, reason: 'table posts read twice' },
    { cacheable: false, reason: 'table comments read twice' },
    { cacheable: false, reason: 'WITH RECURSIVE' },
  ];
  const { overall, bySource } = sharesBySource(entries, outcomes);
  assert.deepEqual(overall, { registrable: 1, total: 4 });
  assert.deepEqual(bySource.get('a'), { registrable: 1, total: 2 });
  assert.deepEqual(bySource.get('b'), { registrable: 0, total: 2 });
  const groups = refusalGroups(entries, outcomes, new Set(['posts', 'comments']));
  assert.deepEqual(groups.map((g) => [g.group, g.entries.map((e) => e.shape)]), [['table … read twice', ['y', 'z']], ['WITH RECURSIVE', ['w']]]);
  assert.deepEqual(refusalGroups(entries, outcomes, new Set(), true).map((g) => [g.group, g.entries.length]), [['other', 2], ['WITH RECURSIVE', 1]]);
});
