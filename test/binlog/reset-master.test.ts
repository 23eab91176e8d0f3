/**
 * [note: binlog-reset] RESET MASTER (or a binlog that no longer holds Rotor's position) while
 * Rotor streams: the stream notices, tells the sink to drop everything it held, resumes from the
 * upstream's new end by itself, and every later write arrives again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMariaDb, stopServer } from '../../scripts/private-server.js';
import { BinlogStream } from '../../src/binlog/stream.js';
import type { BinlogPosition } from '../../src/dataflow/batch.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { RecordingSink, binlogEnd, caughtUp, privateServerName, uniqueServerId, waitFor } from './support.js';

// A server of its own: RESET MASTER empties the binlog every other test streams from.
const SERVER = privateServerName('binlog-reset');

class ResettableSink extends RecordingSink {
  readonly resets: string[] = [];
  reset(reason: string): void {
    this.resets.push(reason);
  }
}

describe('RESET MASTER under a running stream', () => {
  let db: TestDatabase;
  let sink: ResettableSink;
  let stream: BinlogStream;

  before(async () => {
    const server = await startMariaDb(SERVER);
    db = await freshDatabase('reset', server.url);
    await db.admin.query('CREATE TABLE t (id INT PRIMARY KEY)');
    // The stream starts in the binlog's first file: RESET MASTER recreates that very file.
    await db.admin.query('RESET MASTER');
    sink = new ResettableSink(db.name);
    stream = new BinlogStream({ url: db.url, serverId: uniqueServerId(), sink, heartbeatMs: 250, reconnectBackoffMs: { first: 20, max: 200 } });
    stream.on('error', () => undefined);
    await stream.start();
  });

  after(async () => {
    await stream?.stop();
    await db?.drop();
    await stopServer('mariadb', SERVER);
  });

  it('drops what the sink held, resumes from the new beginning, and keeps delivering', async () => {
    for (let i = 1; i <= 5; i++) await db.admin.query('INSERT INTO t VALUES (?)', [i]);
    await caughtUp(stream, db.admin);
    await db.admin.query('RESET MASTER');
    // Writes before the stream restarts are behind its new start: the sink refills from MariaDB.
    await db.admin.query('INSERT INTO t VALUES (100)');
    await waitFor(() => sink.resets.length >= 1, 'the sink to be told to drop what it held', 20_000);
    await waitFor(() => stream.status().connected, 'the stream to stream again', 20_000);
    await db.admin.query('INSERT INTO t VALUES (101)');
    const end: BinlogPosition = await binlogEnd(db.admin);
    assert.equal(await stream.waitForPosition(end, 10_000), true);
    assert.ok(sink.deltasOf('t').some(([, row]) => row[0] === 101));
    assert.ok(stream.status().binlogResets >= 1, 'reported in the status');
  });
});
