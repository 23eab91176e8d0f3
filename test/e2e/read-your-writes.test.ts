/**
 * [note: read-your-writes] end to end: with --consistency session, a client that changes a row
 * and reads it back through a cache always sees its own write, in the text and the binary
 * protocol, and the reads are still served from the view, even with the binlog stream lagging
 * 30 ms behind the writes. Another session's writes do not make a session wait.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { e2eFixture } from '../support/e2e-fixture.js';
import { lagTheStream } from '../support/lag.js';

let writer: mysql.Connection;
let other: mysql.Connection;
let cacheId: string;

const fx = e2eFixture('e2e_ryw', {
  schema: 'CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO counter VALUES (1, 0), (2, 0)',
  rotor: { consistency: 'session' },
  async arrange() {
    lagTheStream(fx.rotor.rotor.engine, 30);
    writer = fx.viaRotor;
    other = await fx.connect();
    cacheId = await fx.rotor.register('SELECT n FROM counter WHERE id = ?');
  },
});

const hits = (): Promise<number> => fx.rotor.hits(cacheId);

test('a session reads its own writes from the cache, text and prepared', async () => {
  const before = await hits();
  for (let i = 1; i <= 200; i++) {
    await writer.query('UPDATE counter SET n = ? WHERE id = 1', [i]);
    const [rows] = i % 2 === 0
      ? await writer.execute({ sql: 'SELECT n FROM counter WHERE id = ?', values: [1], rowsAsArray: true })
      : await writer.query({ sql: 'SELECT n FROM counter WHERE id = 1', rowsAsArray: true });
    assert.equal(Number((rows as unknown[][])[0][0]), i, `read after write ${i}`);
  }
  assert.ok((await hits()) - before >= 150, 'the reads came from the view');
  const status = await fx.rotor.api<{ queries: { notCachedReasons: Record<string, number> } }>('GET', '/api/status');
  const timedOut = Object.keys(status.body.queries.notCachedReasons).filter((r) => /own writes/.test(r));
  assert.deepEqual(timedOut, [], 'no read had to go upstream');
});

test('a write answered with rows (DELETE … RETURNING) is read back too', async () => {
  for (let i = 1; i <= 20; i++) {
    await writer.query('INSERT INTO counter VALUES (3, ?)', [i]);
    const [rows] = await writer.query({ sql: 'SELECT n FROM counter WHERE id = 3', rowsAsArray: true });
    assert.deepEqual(rows, [[i]], `read after insert ${i}`);
    const [gone] = await writer.query({ sql: 'DELETE FROM counter WHERE id = 3 RETURNING n', rowsAsArray: true });
    assert.deepEqual(gone, [[i]]);
    const [after] = await writer.query({ sql: 'SELECT n FROM counter WHERE id = 3', rowsAsArray: true });
    assert.deepEqual(after, [], `read after delete … returning ${i}`);
  }
});

test('a session that did not write reads without waiting for the others', async () => {
  await other.query('SELECT n FROM counter WHERE id = 2');
  const before = await hits();
  await writer.query('UPDATE counter SET n = n + 1 WHERE id = 2');
  const [rows] = await other.query({ sql: 'SELECT n FROM counter WHERE id = 2', rowsAsArray: true });
  assert.ok([0, 1].includes(Number((rows as unknown[][])[0][0])));
  assert.equal(await hits(), before + 1, 'answered from the view at once');
});
