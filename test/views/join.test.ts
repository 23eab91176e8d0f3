import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineFixture, canonical, route } from './support.js';
import { Engine } from '../../src/views/engine.js';
import { RotorError } from '../../src/errors.js';

/** The tables both suites start from. */
const SCHEMA = `
  CREATE TABLE article (id INT PRIMARY KEY, title VARCHAR(100));
  CREATE TABLE vote (article_id INT, user_id INT, PRIMARY KEY (article_id, user_id));
  CREATE TABLE user (id INT PRIMARY KEY, name VARCHAR(50));
  CREATE TABLE story (id INT PRIMARY KEY, title VARCHAR(100), author_id INT);
`;

const VOTE = 'SELECT a.id, a.title, vc.votes FROM article a LEFT JOIN (SELECT article_id, COUNT(user_id) AS votes FROM vote GROUP BY article_id) AS vc ON a.id = vc.article_id WHERE a.id = ?';
const STORY = 'SELECT s.id, s.title, u.name FROM story s JOIN user u ON u.id = s.author_id WHERE s.id = ?';

describe('Engine serving join caches', () => {
  let f: EngineFixture;

  before(async () => {
    f = await EngineFixture.create('views_join', `
      ${SCHEMA}
      INSERT INTO article VALUES (1, 'one'), (2, 'two'), (3, 'three');
      INSERT INTO vote VALUES (1, 10), (1, 11), (2, 10);
      INSERT INTO user VALUES (10, 'ann'), (11, 'bob');
      INSERT INTO story VALUES (1, 's1', 10), (2, 's2', 11), (3, 's3', 99);
    `);
  });
  after(async () => { await f.close(); });

  async function same(sql: string, source?: string): Promise<void> {
    const a = await f.ask(sql);
    assert.notEqual(a.source, 'upstream', String(a.reason));
    if (source !== undefined) assert.equal(a.source, source, sql);
    const u = await f.upstream(sql);
    assert.equal(canonical(a.rows ?? [], false), canonical(u.rows, false), sql);
  }

  it('serves the vote query from memory and follows votes and titles', async () => {
    const info = await f.engine.register({ sql: VOTE });
    assert.deepEqual(info.parameters, [{ table: 'article', column: 'id' }]);
    for (const id of [1, 2, 3, 4]) await same(VOTE.replace('?', String(id)));
    const first = await f.ask(VOTE.replace('?', '3'));
    assert.equal(first.source, 'hit');
    assert.deepEqual(first.rows, [[3, 'three', null]]);
    assert.equal(first.columns?.[2].name, 'votes');
    await f.db.admin.query("INSERT INTO vote VALUES (3, 10), (1, 12); UPDATE article SET title = 'ONE' WHERE id = 1; DELETE FROM vote WHERE article_id = 2");
    await f.drain();
    for (const id of [1, 2, 3, 4]) await same(VOTE.replace('?', String(id)), 'hit');
    await f.db.admin.query("INSERT INTO article VALUES (4, 'four')");
    await f.drain();
    await same(VOTE.replace('?', '4'), 'hit');
  });

  it('answers with the column definitions MariaDB sends for the join', async () => {
    const sql = VOTE.replace('?', '1');
    const a = await f.ask(sql);
    const u = await f.upstream(sql);
    assert.deepEqual(a.columns?.map((c) => [c.name, c.orgName, c.table, c.orgTable, c.type, c.flags, c.columnLength]),
      u.fields.map((c) => [c.name, c.orgName, c.table, c.orgTable, c.columnType, c.flags, c.columnLength]));
  });

  it('refuses joins it cannot keep exact (422) and unknown tables or columns (404)', async () => {
    const status = async (sql: string): Promise<number> => {
      try {
        await f.engine.register({ sql });
        return 200;
      } catch (e) {
        assert.ok(e instanceof RotorError, String(e));
        return e.http;
      }
    };
    assert.equal(await status('SELECT a.id FROM article a FULL JOIN vote v ON v.article_id = a.id WHERE a.id = ?'), 422);
    assert.equal(await status('SELECT a.id FROM article a JOIN vote v ON v.article_id > a.id WHERE a.id = ?'), 422);
    assert.equal(await status('SELECT a.id FROM article a JOIN vote v ON v.article_id = a.id + 1 WHERE a.id = ?'), 422);
    // [note: anti-join] NOT IN over a column that may be NULL (story.author_id); over two NOT NULL ones it is cached.
    assert.equal(await status('SELECT id FROM user WHERE id NOT IN (SELECT author_id FROM story) AND name = ?'), 422);
    assert.equal(await status('SELECT id FROM article WHERE id NOT IN (SELECT article_id FROM vote) AND title = ?'), 200);
    for (const c of f.engine.list()) if (c.sql.includes('NOT IN')) await f.engine.drop(c.id);
    assert.equal(await status('SELECT a.id FROM article a JOIN nope n ON n.id = a.id WHERE a.id = ?'), 404);
    assert.equal(await status('SELECT a.id FROM article a JOIN vote v ON v.nope = a.id WHERE a.id = ?'), 404);
  });

  it('serves a join whose parameter is not the join key while the joined row changes', async () => {
    await f.engine.register({ sql: STORY });
    for (const id of [1, 2, 3]) await same(STORY.replace('?', String(id)));
    await f.db.admin.query("UPDATE user SET name = 'ann2' WHERE id = 10; UPDATE story SET author_id = 10 WHERE id = 2; INSERT INTO user VALUES (99, 'zed')");
    await f.drain();
    for (const id of [1, 2, 3]) await same(STORY.replace('?', String(id)));
  });
});

describe('Engine serving join caches under concurrent writes', () => {
  let f: EngineFixture;
  before(async () => {
    f = await EngineFixture.create('views_join_writes', `
      ${SCHEMA}
      INSERT INTO article SELECT seq, CONCAT('a', seq) FROM seq_1_to_20;
      INSERT INTO vote SELECT seq % 7 + 1, seq FROM seq_1_to_40;
      INSERT INTO user SELECT seq, CONCAT('u', seq) FROM seq_1_to_5;
      INSERT INTO story SELECT seq, CONCAT('s', seq), seq % 6 + 1 FROM seq_1_to_20;
    `);
  });
  after(async () => { await f.close(); });

  it('equals MariaDB for every key after votes, titles, authors and users change under reads', async () => {
    await f.engine.register({ sql: VOTE });
    await f.engine.register({ sql: STORY });
    let writing = true;
    let n = 1000;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const a = 1 + (i * 7) % 20, u = 1 + (i * 3) % 6;
        const sql = [
          `INSERT IGNORE INTO vote VALUES (${a}, ${n++})`,
          `DELETE FROM vote WHERE article_id = ${1 + (i * 11) % 20} ORDER BY user_id LIMIT 1`,
          `UPDATE article SET title = 't${i}' WHERE id = ${a}`,
          `UPDATE story SET author_id = ${u} WHERE id = ${1 + (i * 13) % 20}`,
          i % 3 === 0 ? `UPDATE user SET name = 'n${i}' WHERE id = ${u}` : `DELETE FROM user WHERE id = ${u}`,
          `INSERT INTO user VALUES (${1 + (i * 5) % 6}, 'r${i}') ON DUPLICATE KEY UPDATE name = 'd${i}'`,
          `START TRANSACTION; INSERT IGNORE INTO vote VALUES (${a}, ${n++}); UPDATE article SET title = 'x${i}' WHERE id = ${a}; COMMIT`,
        ][i % 7];
        await f.db.admin.query(sql);
      }
    })();
    try {
      for (let i = 0; i < 200; i++) {
        const k = 1 + (i * 17) % 22;
        const a = await f.ask((i % 2 === 0 ? VOTE : STORY).replace('?', String(k)));
        assert.notEqual(a.source, 'upstream', String(a.reason));
        if (i % 50 === 49) f.engine.evict(f.engine.list()[i % 2].id, 'all');
      }
    } finally {
      writing = false;
      await writer;
    }
    await f.drain();
    for (const q of [VOTE, STORY]) {
      for (let k = 1; k <= 22; k++) {
        const sql = q.replace('?', String(k));
        const a = await f.ask(sql);
        assert.notEqual(a.source, 'upstream', String(a.reason));
        assert.equal(canonical(a.rows ?? [], false), canonical((await f.upstream(sql)).rows, false), sql);
      }
    }
  });
});

describe('join caches across restarts and DDL', () => {
  let f: EngineFixture;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rotor-join-caches-'));
    f = await EngineFixture.create('views_join_ddl', `
      CREATE TABLE user (id INT PRIMARY KEY, name VARCHAR(50));
      CREATE TABLE story (id INT PRIMARY KEY, title VARCHAR(100), author_id INT);
      INSERT INTO user VALUES (10, 'ann'), (11, 'bob');
      INSERT INTO story VALUES (1, 's1', 10), (2, 's2', 11);
    `, { dataDir: dir });
  });
  after(async () => {
    await f.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('persists a join cache with every table it reads and serves it after a restart', async () => {
    await f.engine.register({ sql: STORY, name: 'story_author' });
    const again = new Engine({ upstreamUrl: f.db.url, defaultDatabase: f.db.name, dataDir: dir, missPolicy: 'fill' });
    await again.start();
    try {
      const a = await route(again.router, STORY.replace('?', '2'), f.session);
      assert.equal(a.source, 'fill');
      assert.deepEqual(a.rows, [[2, 's2', 'bob']]);
    } finally {
      await again.close();
    }
  });

  it('drops state on DDL of the second table and serves again once it is re-learned', async () => {
    const sql = STORY.replace('?', '1');
    assert.deepEqual((await f.ask(sql)).rows, [[1, 's1', 'ann']]);
    await f.db.admin.query('ALTER TABLE user ADD COLUMN extra INT');
    await f.drain();
    const id = f.engine.get('story_author')!.id;
    for (let i = 0; i < 100 && f.engine.get(id)?.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(f.engine.get('story_author')?.status, 'ready');
    await f.db.admin.query("UPDATE user SET name = 'ANN' WHERE id = 10");
    await f.drain();
    const a = await f.ask(sql);
    assert.notEqual(a.source, 'upstream', String(a.reason));
    assert.deepEqual(a.rows, [[1, 's1', 'ANN']]);
  });
});
