import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { planSelect } from '../../src/planner/plan.js';
import { buildCache } from '../../src/planner/build.js';
import { fingerprint } from '../../src/planner/fingerprint.js';
import { Graph } from '../../src/dataflow/graph.js';
import type { TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const story: TableSchema = {
  database: 'd', table: 'story',
  columns: [
    { name: 'id', dataType: 'int', scale: 0, collation: null, primary: true },
    { name: 'author_id', dataType: 'int', scale: 0, collation: null },
    { name: 'title', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci' },
    { name: 'created_at', dataType: 'datetime', scale: 0, collation: null },
  ],
};
const noKey: TableSchema = { ...story, table: 'log', columns: story.columns.map((c) => ({ ...c, primary: false })) };

const plan = (sql: string, schema = story) => planSelect(parseStatement(sql), schema, true);
const describeAll = (sql: string, schema = story) => buildCache(new Graph(), plan(sql, schema), 'c').nodes.map((n) => n.describe());

describe('planner: top-k and DISTINCT', () => {
  it('reads LIMIT k, LIMIT n, k and LIMIT k OFFSET n', () => {
    assert.deepEqual(plan('SELECT id FROM story ORDER BY id LIMIT 10').limit, { count: 10, offset: 0 });
    assert.deepEqual(plan('SELECT id FROM story ORDER BY id LIMIT 5, 10').limit, { count: 10, offset: 5 });
    assert.deepEqual(plan('SELECT id FROM story ORDER BY id LIMIT 10 OFFSET 5').limit, { count: 10, offset: 5 });
  });

  it('makes the order total by appending the primary key', () => {
    const p = plan('SELECT id, title FROM story WHERE author_id = ? ORDER BY created_at DESC LIMIT 10');
    assert.deepEqual(p.orderBy, [{ stage: 3, desc: true }, { stage: 0, desc: false }]);
    assert.deepEqual(describeAll('SELECT id, title FROM story WHERE author_id = ? ORDER BY created_at DESC LIMIT 10'), [
      'd.story', 'π[id, title, author_id, created_at]', 'top-k[author_id] order by created_at DESC, id limit 10 (+10)',
      'reader[author_id = ?] order by created_at DESC, id limit 10',
    ]);
  });

  it('appends every column when the table has no primary key', () => {
    assert.deepEqual(plan('SELECT title FROM log ORDER BY created_at LIMIT 3', noKey).orderBy.map((o) => o.stage), [3, 0, 1, 2]);
  });

  it('breaks ties of aggregate results by the group columns', () => {
    const p = plan('SELECT author_id, COUNT(*) FROM story GROUP BY author_id ORDER BY COUNT(*) DESC LIMIT 5');
    assert.deepEqual(p.orderBy, [{ stage: 1, desc: true }, { stage: 0, desc: false }]);
    assert.deepEqual(describeAll('SELECT author_id, COUNT(*) FROM story GROUP BY author_id ORDER BY COUNT(*) DESC LIMIT 5').slice(1), [
      'γ[author_id] COUNT(*)', 'π[author_id, COUNT(*)]', 'top-k[] order by COUNT(*) DESC, author_id limit 5 (+8)', 'reader[] order by COUNT(*) DESC, author_id limit 5',
    ]);
  });

  it('plans DISTINCT as a counting node keyed by the parameters, ties broken by the selected columns', () => {
    assert.deepEqual(describeAll('SELECT DISTINCT title FROM story WHERE author_id = ?').slice(1), ['π[title, author_id]', 'δ[author_id] title, author_id', 'reader[author_id = ?]']);
    assert.deepEqual(plan('SELECT DISTINCT title, created_at FROM story WHERE author_id = ? ORDER BY created_at LIMIT 2').orderBy.map((o) => o.stage), [3, 2]);
  });

  it('lists LIMIT numbers as constants: a statement with LIMIT 10 does not bind to a cache with LIMIT 5', () => {
    const p = plan('SELECT id FROM story WHERE author_id = ? ORDER BY id LIMIT 5');
    assert.deepEqual(p.slots.map((s) => s.kind), ['param', 'const']);
    const cached = fingerprint('SELECT id FROM story WHERE author_id = ? ORDER BY id LIMIT 5');
    const ten = fingerprint('SELECT id FROM story WHERE author_id = 3 ORDER BY id LIMIT 10');
    const five = fingerprint('select id from story where author_id = 3 order by id limit 5');
    assert.equal(ten?.key, cached?.key, 'one fingerprint key: the constant decides');
    assert.deepEqual(ten?.literals[1], { kind: 'value', value: 10 });
    assert.deepEqual(five?.literals[1], { kind: 'value', value: 5 });
    assert.equal(cached?.limitStart, 'SELECT id FROM story WHERE author_id = ? ORDER BY id '.length);
  });
});

describe('planner: LIMIT ? [note: limit-param]', () => {
  it('reads the places of LIMIT ?, LIMIT ?, ? and LIMIT ? OFFSET ? as slots, not as constants', () => {
    const one = plan('SELECT id FROM story WHERE author_id = ? ORDER BY id LIMIT ?');
    assert.equal(one.limit, null);
    assert.deepEqual(one.limitParam, { parts: ['count'] });
    assert.deepEqual(one.slots, [{ kind: 'param', param: 0 }, { kind: 'limit', part: 'count' }]);
    assert.deepEqual(plan('SELECT id FROM story ORDER BY id LIMIT ?, ?').limitParam, { parts: ['offset', 'count'] });
    assert.deepEqual(plan('SELECT id FROM story ORDER BY id LIMIT ? OFFSET ?').limitParam, { parts: ['count', 'offset'] });
    // A constant beside a placeholder is read from each statement too.
    assert.deepEqual(plan('SELECT id FROM story ORDER BY id LIMIT 10 OFFSET ?').slots, [{ kind: 'limit', part: 'count' }, { kind: 'limit', part: 'offset' }]);
  });

  it('builds a top-k of its own whose K starts small, with the order made total', () => {
    const p = plan('SELECT id, title FROM story WHERE author_id = ? ORDER BY created_at DESC LIMIT ?');
    assert.deepEqual(p.orderBy, [{ stage: 3, desc: true }, { stage: 0, desc: false }]);
    const built = buildCache(new Graph(), p, 'c');
    assert.ok(built.limitNode !== null);
    assert.equal(built.limitNode.need, 1);
    assert.deepEqual(built.nodes.slice(2).map((n) => n.describe()), [
      'top-k[author_id] order by created_at DESC, id limit ? (1) (+8)',
      'reader[author_id = ?] order by created_at DESC, id',
    ]);
  });

  it('never shares a LIMIT ? top-k between caches, as its K grows with its own reads', () => {
    const g = new Graph();
    const sql = 'SELECT id FROM story WHERE author_id = ? ORDER BY id LIMIT ?';
    const a = buildCache(g, plan(sql), 'a'), b = buildCache(g, plan(sql), 'b');
    assert.notEqual(a.limitNode, b.limitNode);
    assert.equal(a.nodes[1], b.nodes[1], 'the nodes above it are shared');
  });

  it('refuses LIMIT ? without ORDER BY, negative or fractional constants beside it, and in a UNION', () => {
    assert.throws(() => plan('SELECT id FROM story WHERE author_id = ? LIMIT ?'), /LIMIT without ORDER BY/);
    assert.throws(() => plan('SELECT id FROM story ORDER BY id LIMIT 1.5 OFFSET ?'), /non-negative integer/);
  });
});

describe('[note: unique-limit] LIMIT without ORDER BY on a unique key', () => {
  const withEmail: TableSchema = { ...story, table: 'story', columns: [...story.columns, { name: 'slug', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci', unique: true }] };
  const pair: TableSchema = {
    database: 'd', table: 'member',
    columns: [
      { name: 'team', dataType: 'int', scale: 0, collation: null, primary: true },
      { name: 'user', dataType: 'int', scale: 0, collation: null, primary: true },
      { name: 'role', dataType: 'varchar', scale: 0, collation: 'utf8mb4_general_ci' },
    ],
  };

  it('is planned when every primary key column, or a UNIQUE column, is bound to one value', () => {
    assert.deepEqual(plan('SELECT * FROM story WHERE id = ? LIMIT 1').limit, { count: 1, offset: 0 });
    assert.deepEqual(plan("SELECT id FROM story WHERE slug = ? AND title <> 'x' LIMIT 1", withEmail).limit, { count: 1, offset: 0 });
    assert.deepEqual(plan("SELECT id FROM story WHERE slug = 'home' LIMIT 1", withEmail).limit, { count: 1, offset: 0 });
    assert.deepEqual(plan('SELECT role FROM member WHERE team = ? AND user = ? LIMIT 21', pair).limit, { count: 21, offset: 0 });
    assert.deepEqual(plan('SELECT title FROM story WHERE id = ? LIMIT ? OFFSET ?').limitParam, { parts: ['count', 'offset'] });
  });

  it('keeps its parameters from being read as lists (several keys: the LIMIT would choose)', () => {
    assert.ok(plan('SELECT * FROM story WHERE id = ? LIMIT 1').params.every((p) => !p.listable));
    assert.ok(plan('SELECT * FROM story WHERE id = ?').params.every((p) => p.listable), 'without a LIMIT they are');
  });

  it('is refused when a row is not pinned: part of the key, a list, another column, a range', () => {
    assert.throws(() => plan('SELECT role FROM member WHERE team = ? LIMIT 1', pair), /LIMIT without ORDER BY/);
    assert.throws(() => plan('SELECT id FROM story WHERE id IN (?, ?) LIMIT 1'), /LIMIT without ORDER BY/);
    assert.throws(() => plan('SELECT id FROM story WHERE author_id = ? LIMIT 1'), /LIMIT without ORDER BY/);
    assert.throws(() => plan('SELECT id FROM story WHERE id = ? OR author_id = ? LIMIT 1'));
    assert.throws(() => plan('SELECT id FROM log WHERE id = ? LIMIT 1', noKey), /LIMIT without ORDER BY/);
  });
});
