/**
 * [note: fill-position] Positions across binlog rotation: after `FLUSH BINARY LOGS`, and with a
 * tiny `max_binlog_size` rotating every few transactions, the stream is never ahead of the
 * upstream's binlog end, and a position read from SHOW MASTER STATUS is reached only once every
 * transaction before it has been applied (fills, read-your-writes and the lag meter wait on it).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { startMariaDb, stopServer, type PrivateServer } from '../../scripts/private-server.js';
import { BinlogStream } from '../../src/binlog/stream.js';
import { comparePositions } from '../../src/dataflow/batch.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { RecordingSink, binlogEnd, caughtUp, privateServerName, uniqueServerId } from './support.js';

// A server of its own: rotating it would move every other test's binlog.
const SERVER = privateServerName('binlog-rotate');

describe('binlog rotation', () => {
  let server: PrivateServer;
  let db: TestDatabase;
  let admin: mysql.Connection;
  let sink: RecordingSink;
  let stream: BinlogStream;

  before(async () => {
    server = await startMariaDb(SERVER);
    db = await freshDatabase('rotation', server.url);
    admin = db.admin;
    await admin.query('CREATE TABLE t (id INT PRIMARY KEY, pad VARCHAR(600))');
    sink = new RecordingSink(db.name);
    stream = new BinlogStream({ url: db.url, serverId: uniqueServerId(), sink, heartbeatMs: 250 });
    await stream.start();
  });

  after(async () => {
    await stream?.stop();
    await admin?.query('SET GLOBAL max_binlog_size = DEFAULT').catch(() => undefined);
    await db?.drop();
    await stopServer('mariadb', SERVER);
  });

  /** Writes row `id`, then checks that reaching the upstream's end means having applied it. */
  async function writeAndReach(id: number): Promise<void> {
    await admin.query('INSERT INTO t VALUES (?, ?)', [id, 'x'.repeat(500)]);
    const end = await binlogEnd(admin);
    assert.equal(await stream.waitForPosition(end, 10_000), true, `reached ${end.file}:${end.position}`);
    assert.ok(sink.deltasOf('t').some(([, row]) => row[0] === id), `row ${id} was applied before ${end.file}:${end.position} was reached`);
    const applied = stream.appliedPosition();
    assert.ok(applied === null || comparePositions(applied, end) <= 0, `the stream (${applied?.file}:${applied?.position}) is not ahead of the upstream (${end.file}:${end.position})`);
  }

  it('after FLUSH BINARY LOGS, positions in the new file are its own', async () => {
    for (let i = 1; i <= 20; i++) await admin.query('INSERT INTO t VALUES (?, ?)', [i, 'x'.repeat(500)]);
    await caughtUp(stream, admin);
    const before = await binlogEnd(admin);
    await admin.query('FLUSH BINARY LOGS');
    const rotated = await binlogEnd(admin);
    assert.notEqual(rotated.file, before.file);
    await caughtUp(stream, admin);
    const unwritten = { file: rotated.file, position: rotated.position + 1000 };
    assert.equal(await stream.waitForPosition(unwritten, 300), false, 'a position the upstream has not written yet is not reached');
    for (let id = 100; id < 105; id++) await writeAndReach(id);
  });

  it('with a tiny max_binlog_size rotating every few transactions', async () => {
    await admin.query('SET GLOBAL max_binlog_size = 4096');
    const first = await binlogEnd(admin);
    for (let id = 200; id < 240; id++) await writeAndReach(id);
    const last = await binlogEnd(admin);
    assert.notEqual(last.file, first.file, 'the binlog rotated');
  });
});
