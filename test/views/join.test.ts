import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFixture, canonical } from './support.js';

const VOTE = 'SELECT a.id, a.title, vc.votes FROM article a LEFT JOIN (SELECT article_id, COUNT(user_id) AS votes FROM vote GROUP BY article_id) AS vc ON a.id = vc.article_id WHERE a.id = ?';
const STORY = 'SELECT s.id, s.title, u.name FROM story s JOIN user u ON u.id = s.author_id WHERE s.id = ?';

describe('Engine serving join caches', () => {
  let f: EngineFixture;

  before(async () => {
    f = await EngineFixture.create('views_join', `
      CREATE TABLE article (id INT PRIMARY KEY, title VARCHAR(100));
      CREATE TABLE vote (article_id INT, user_id INT, PRIMARY KEY (article_id, user_id));
      CREATE TABLE user (id INT PRIMARY KEY, name VARCHAR(50));
      CREATE TABLE story (id INT PRIMARY KEY, title VARCHAR(100), author_id INT);
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
    assert.deepEqual(info.parameters, [{ table: 'a', column: 'id' }]);
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

  it('serves a join whose parameter is not the join key while the joined row changes', async () => {
    await f.engine.register({ sql: STORY });
    for (const id of [1, 2, 3]) await same(STORY.replace('?', String(id)));
    await f.db.admin.query("UPDATE user SET name = 'ann2' WHERE id = 10; UPDATE story SET author_id = 10 WHERE id = 2; INSERT INTO user VALUES (99, 'zed')");
    await f.drain();
    for (const id of [1, 2, 3]) await same(STORY.replace('?', String(id)));
  });
});
