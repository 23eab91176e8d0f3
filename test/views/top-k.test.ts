/**
 * Top-k caches on a live stream: a news site's story query (an author's 10 newest stories) under
 * concurrent deletes and updates inside each author's top 10, compared with MariaDB once the
 * binlog is drained. The cache's `ORDER BY created_at DESC` has ties; Rotor breaks them by the
 * primary key, so MariaDB is asked with `ORDER BY created_at DESC, id`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { EngineFixture, canonical } from './support.js';

const AUTHORS = 4;
const CACHED = (a: number | string) => `SELECT id, title FROM story WHERE author_id = ${a} ORDER BY created_at DESC LIMIT 10`;
const TRUTH = (a: number) => `SELECT id, title FROM story WHERE author_id = ${a} ORDER BY created_at DESC, id LIMIT 10`;

describe('top-k cache under concurrent deletes inside the top', () => {
  let f: EngineFixture;
  before(async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `(${i + 1}, ${(i % AUTHORS) + 1}, 't${i + 1}', '2024-01-01 00:00:00' + INTERVAL ${Math.floor(i / 3)} MINUTE)`);
    f = await EngineFixture.create('views_topk', `
      CREATE TABLE story (id INT PRIMARY KEY, author_id INT, title VARCHAR(40), created_at DATETIME, INDEX (author_id, created_at));
      INSERT INTO story VALUES ${rows.join(', ')};
    `);
  });
  after(async () => { await f.close(); });

  it('serves the same list as MariaDB after writers delete and update rows of the top 10', async () => {
    const info = await f.engine.register({ sql: CACHED('?') });
    for (let a = 1; a <= AUTHORS; a++) assert.equal((await f.ask(CACHED(a))).source, 'fill');
    const writers = await Promise.all([1, 2, 3].map(() => mysql.createConnection({ uri: f.db.url })));
    let next = 1000;
    const write = async (w: mysql.Connection, sql: string) => {
      try {
        await w.query(sql);
      } catch (e) {
        // Concurrent `… ORDER BY … LIMIT 1` writes on one index can deadlock; the loser is skipped.
        if (!/deadlock|lock wait/i.test(String(e))) throw e;
      }
    };
    try {
      await Promise.all(writers.map(async (w, wi) => {
        for (let i = 0; i < 40; i++) {
          const a = 1 + ((i + wi) % AUTHORS);
          const op = (i * 7 + wi) % 5;
          if (op < 3) await write(w, `DELETE FROM story WHERE author_id = ${a} ORDER BY created_at DESC, id LIMIT 1`);
          else if (op === 3) await write(w, `UPDATE story SET created_at = created_at - INTERVAL 1 DAY WHERE author_id = ${a} ORDER BY created_at DESC, id LIMIT 1`);
          else await write(w, `INSERT INTO story VALUES (${next++}, ${a}, 'new', '2024-01-01 00:30:00')`);
          // Reads in between, some filling, some hitting the view.
          await f.ask(CACHED(1 + ((i + wi + 1) % AUTHORS)));
        }
      }));
    } finally {
      await Promise.all(writers.map((w) => w.end()));
    }
    await f.drain();
    for (let a = 1; a <= AUTHORS; a++) {
      const truth = (await f.upstream(TRUTH(a))).rows;
      assert.equal(truth.length, 10);
      const got = await f.ask(CACHED(a));
      assert.notEqual(got.source, 'upstream', got.reason ?? '');
      assert.equal(canonical(got.rows ?? [], true), canonical(truth, true), `author ${a}`);
    }
    assert.ok((f.engine.get(info.id)?.stats.hits ?? 0) > 0);
  });

  it('answers with the column definitions MariaDB sends for the statement', async () => {
    const got = await f.ask(CACHED(2));
    const { fields } = await f.upstream(CACHED(2));
    assert.deepEqual(got.columns?.map((c) => [c.name, c.type, c.orgTable]), fields.map((x) => [x.name, x.columnType, x.orgTable]));
  });

  it('does not answer a statement with another LIMIT from the cache', async () => {
    const other = await f.ask('SELECT id, title FROM story WHERE author_id = 1 ORDER BY created_at DESC LIMIT 5');
    assert.equal(other.source, 'upstream');
    assert.equal(other.reason, 'the statement matches a cache except for a constant');
  });

  it('merges the top of several keys of an IN list, then applies the limit once', async () => {
    const sql = 'SELECT id, author_id FROM story WHERE author_id IN (?, ?) ORDER BY created_at DESC, id LIMIT 2, 5';
    await f.engine.register({ sql });
    await f.drain();
    const ask = sql.replace('IN (?, ?)', 'IN (1, 3)');
    const truth = canonical((await f.upstream(ask)).rows, true);
    assert.equal(canonical((await f.ask(ask)).rows ?? [], true), truth);
    const hit = await f.ask(ask);
    assert.equal(hit.source, 'hit');
    assert.equal(canonical(hit.rows ?? [], true), truth);
  });
});
