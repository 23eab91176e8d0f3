import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement } from '../../src/planner/parse.js';
import { lowerPlan, planStatement, tablesRead, type PassContext, type ViewDefinition } from '../../src/planner/index.js';
import { flattenJoins } from '../../src/planner/passes/views.js';
import { checkSlots } from '../../src/views/statement-plan.js';
import { fingerprint } from '../../src/planner/fingerprint.js';
import { Graph } from '../../src/dataflow/graph.js';
import type { ColumnInfo, TableSchema } from '../../src/planner/schema.js';
import '../support/collations.js';

const int = (name: string, primary = false): ColumnInfo => ({ name, dataType: 'int', scale: 0, collation: null, ...(primary ? { primary: true } : {}) });
const tables: Record<string, TableSchema> = {
  story: { database: 'd', table: 'story', columns: [int('id', true), int('author_id'), int('score')] },
  user: { database: 'd', table: 'user', columns: [int('id', true), int('team_id'), int('active')] },
  vote: { database: 'd', table: 'vote', columns: [int('story_id'), int('user_id')] },
};

/** Views as MariaDB's information_schema.VIEWS writes them. */
const view = (name: string, definition: string, db = 'd'): ViewDefinition => ({ database: db, name, definition, algorithm: 'UNDEFINED', security: 'DEFINER' });
const VIEWS: ViewDefinition[] = [
  view('active_user', 'select `d`.`user`.`id` AS `uid`,`d`.`user`.`team_id` AS `team_id` from `d`.`user` where `d`.`user`.`active` = 1'),
  view('story_author', 'select `d`.`story`.`id` AS `id`,`d`.`story`.`score` AS `score`,`d`.`user`.`team_id` AS `team_id` from (`d`.`story` join `d`.`user` on(`d`.`user`.`id` = `d`.`story`.`author_id`)) where `d`.`user`.`active` = 1'),
  view('votes', 'select `d`.`vote`.`story_id` AS `story_id`,count(0) AS `n` from `d`.`vote` group by `d`.`vote`.`story_id`'),
  view('team_of', 'select `active_user`.`uid` AS `uid`,`active_user`.`team_id` AS `team_id` from `d`.`active_user`'),
  { ...view('temp_user', 'select `d`.`user`.`id` AS `id`,`d`.`user`.`team_id` AS `team_id` from `d`.`user`'), algorithm: 'TEMPTABLE' },
  view('active_user', 'select `o`.`user`.`id` AS `uid` from `o`.`user`', 'o'),
];
const ctx: PassContext = { views: VIEWS, database: 'd' };

const plan = (sql: string, c: PassContext = ctx) => {
  const statement = parseStatement(sql);
  const p = planStatement(statement, tablesRead(statement, c).map((t) => tables[t.table]), c);
  const fp = fingerprint(sql);
  assert.ok(fp !== null);
  checkSlots(p, fp);
  return p;
};
const describe_ = (sql: string, c: PassContext = ctx) => lowerPlan(new Graph(), plan(sql, c), 'c').nodes.map((n) => n.describe());

describe('views pass [note: view-expansion]', () => {
  it('reads a view as its tables, nested views too, and any other name as a table', () => {
    const read = (sql: string) => tablesRead(parseStatement(sql), ctx).map((t) => `${t.db}.${t.table}`);
    assert.deepEqual(read('SELECT team_id FROM active_user WHERE uid = ?'), ['d.user']);
    assert.deepEqual(read('SELECT team_id FROM d.team_of WHERE uid = ?'), ['d.user']);
    assert.deepEqual(read('SELECT id FROM story_author WHERE team_id = ?'), ['d.story', 'd.user']);
    // Unqualified names resolve in the context's database; another database's view of the same name is its own.
    assert.deepEqual(read('SELECT uid FROM o.active_user WHERE uid = ?'), ['o.user']);
    assert.deepEqual(tablesRead(parseStatement('SELECT uid FROM active_user WHERE uid = ?'), { views: VIEWS, database: 'x' }).map((t) => t.table), ['active_user']);
    // Without the definitions the view is a name like any table's.
    assert.deepEqual(tablesRead(parseStatement('SELECT team_id FROM active_user WHERE uid = ?')).map((t) => t.table), ['active_user']);
  });

  it('plans a view read alone as the SELECT over its table, with the view\'s conditions and column names', () => {
    assert.deepEqual(describe_('SELECT team_id FROM active_user WHERE uid = ?'), describe_('SELECT team_id FROM user WHERE active = 1 AND id = ?', { views: [], database: 'd' }));
    assert.deepEqual(describe_('SELECT team_id FROM team_of WHERE uid = ?'), describe_('SELECT team_id FROM active_user WHERE uid = ?'));
    const p = plan('SELECT * FROM active_user AS a WHERE a.uid = ?');
    assert.ok(p.kind === 'select');
    assert.deepEqual(p.select.map((c) => c.name), ['uid', 'team_id']);
    // ALGORITHM=TEMPTABLE changes how MariaDB runs the view, not its rows.
    assert.deepEqual(describe_('SELECT team_id FROM temp_user WHERE id = ?'), describe_('SELECT team_id FROM user WHERE id = ?', { views: [], database: 'd' }));
  });

  it('merges a view over a join read alone into that join', () => {
    const p = plan('SELECT id, score FROM story_author WHERE team_id = ? ORDER BY score DESC, id LIMIT 5');
    assert.ok(p.kind === 'join');
    assert.deepEqual(p.join.sources.map((s) => s.schema.table), ['story', 'user']);
    assert.deepEqual(describe_('SELECT id, score FROM story_author WHERE team_id = ?'),
      describe_('SELECT story.id, story.score FROM story JOIN user ON user.id = story.author_id WHERE user.active = 1 AND user.team_id = ?', { views: [], database: 'd' }));
  });

  it('plans a view in a join as a derived table: a projection, or grouped and joined on its GROUP BY column (count(0) is COUNT(*))', () => {
    const p = plan('SELECT s.id, a.team_id FROM story s JOIN active_user a ON a.uid = s.author_id WHERE s.id = ?');
    assert.ok(p.kind === 'join');
    assert.deepEqual(p.join.sources.map((s) => s.name), ['s', 'a']);
    assert.deepEqual(describe_('SELECT s.id, v.n FROM story s LEFT JOIN votes v ON v.story_id = s.id WHERE s.id = ?'),
      describe_('SELECT s.id, v.n FROM story s LEFT JOIN (SELECT story_id, COUNT(*) AS n FROM vote GROUP BY story_id) AS v ON v.story_id = s.id WHERE s.id = ?', { views: [], database: 'd' }));
  });

  it('keeps the statement\'s literals as its slots: a view\'s constants are part of the plan, not of the key', () => {
    const p = plan("SELECT team_id FROM active_user WHERE uid = ? AND team_id <> 7");
    assert.deepEqual(p.slots.map((s) => s.kind), ['param', 'const']);
  });

  it('plans a grouped view read alone as its GROUP BY with the conditions pushed below it', () => {
    assert.deepEqual(describe_('SELECT n FROM votes WHERE story_id = ?'), describe_('SELECT COUNT(*) AS n FROM vote WHERE story_id = ? GROUP BY story_id', { views: [], database: 'd' }));
  });

  it('refuses a view whose rows a merge would change, read alone, and views nested too deep', () => {
    assert.throws(() => plan('SELECT SUM(n) FROM votes WHERE story_id = ?'), /derived table alone|view/);
    const deep = Array.from({ length: 10 }, (_, i) => view(`v${i}`, i === 0 ? 'select `d`.`user`.`id` AS `id` from `d`.`user`' : `select \`v${i - 1}\`.\`id\` AS \`id\` from \`d\`.\`v${i - 1}\``));
    assert.throws(() => plan('SELECT id FROM v9 WHERE id = ?', { views: deep, database: 'd' }), /nested more than/);
    assert.throws(() => plan('SELECT id FROM u WHERE id = ?', { views: [view('u', 'select 1 AS `id` union select 2 AS `id`')], database: 'd' }), /UNION/);
  });

  it('refuses a view whose rows depend on who reads it, whatever the planner can evaluate', () => {
    for (const fn of ['substring_index(user(),\'@\',1)', 'current_user()', 'current_role()', 'database()', 'connection_id()', 'now()']) {
      const mine = view('mine', `select \`d\`.\`user\`.\`id\` AS \`id\` from \`d\`.\`user\` where \`d\`.\`user\`.\`team_id\` = ${fn}`);
      assert.throws(() => plan('SELECT id FROM mine WHERE id = ?', { views: [mine], database: 'd' }), /gives each reader/, fn);
    }
  });

  it('flattens MariaDB\'s parenthesized joins, leaving quoted text and subqueries as they are', () => {
    assert.equal(flattenJoins('select 1 from ((`a` join `b` on(`b`.`x` = `a`.`x`)) left join `c` on(`c`.`y` = `b`.`y`)) where `a`.`s` = \'(x\''),
      'select 1 from `a` join `b` on(`b`.`x` = `a`.`x`) left join `c` on(`c`.`y` = `b`.`y`) where `a`.`s` = \'(x\'');
    assert.equal(flattenJoins('select 1 from (select 1) `d`'), 'select 1 from (select 1) `d`');
    assert.equal(flattenJoins("select 'from ((`x`' from `t`"), "select 'from ((`x`' from `t`");
  });
});
