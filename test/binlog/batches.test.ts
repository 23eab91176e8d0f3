import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RowDataPacket } from 'mysql2/promise';
import { BinlogStream } from '../../src/binlog/stream.js';
import { comparePositions } from '../../src/dataflow/batch.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { RecordingSink, binlogEnd, caughtUp, uniqueServerId } from './support.js';

describe('binlog batches', () => {
  let db: TestDatabase;
  let sink: RecordingSink;
  let stream: BinlogStream;

  before(async () => {
    db = await freshDatabase('binlog_batches');
    await db.admin.query('CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(40)); CREATE TABLE b (id INT PRIMARY KEY, n INT)');
    sink = new RecordingSink(db.name);
    stream = new BinlogStream({ url: db.url, serverId: uniqueServerId(), sink, heartbeatMs: 250 });
    await stream.start();
  });

  after(async () => {
    await stream.stop();
    await db.drop();
  });

  it('delivers one batch for a transaction spanning many row events and two tables', async () => {
    const before = sink.batches.length;
    const values = Array.from({ length: 1000 }, (_, i) => `(${i}, '${'x'.repeat(30)}${i}')`).join(',');
    await db.admin.query(`BEGIN; INSERT INTO a VALUES ${values}; INSERT INTO b VALUES (1, 10), (2, 20); DELETE FROM a WHERE id >= 990; COMMIT`);
    await caughtUp(stream, db.admin);
    assert.equal(sink.batches.length, before + 1);
    const batch = sink.batches.at(-1)!;
    assert.match(batch.gtid ?? '', /^\d+-\d+-\d+$/);
    const a = batch.changes.find((c) => c.table === 'a')!;
    const b = batch.changes.find((c) => c.table === 'b')!;
    assert.deepEqual(a.columns, ['id', 'v']);
    assert.equal(a.deltas.filter((d) => d.sign === 1).length, 1000);
    assert.equal(a.deltas.filter((d) => d.sign === -1).length, 10);
    assert.deepEqual(a.deltas[0], { row: [0, `${'x'.repeat(30)}0`], sign: 1 });
    assert.deepEqual(b.deltas, [{ row: [1, 10], sign: 1 }, { row: [2, 20], sign: 1 }]);
  });

  it('turns an UPDATE into the before row retracted and the after row added', async () => {
    await db.admin.query('UPDATE b SET n = n + 1 WHERE id = 1');
    await caughtUp(stream, db.admin);
    assert.deepEqual(sink.batches.at(-1)!.changes[0].deltas, [{ row: [1, 10], sign: -1 }, { row: [1, 11], sign: 1 }]);
  });

  it('delivers a multi-table UPDATE … JOIN as one batch', async () => {
    const before = sink.batches.length;
    await db.admin.query("UPDATE a JOIN b ON a.id = b.id SET a.v = 'joined', b.n = b.n * 100");
    await caughtUp(stream, db.admin);
    assert.equal(sink.batches.length, before + 1);
    const tables = sink.batches.at(-1)!.changes.map((c) => c.table).sort();
    assert.deepEqual(tables, ['a', 'b']);
  });

  it('never delivers a rolled-back transaction', async () => {
    await db.admin.query("BEGIN; INSERT INTO a VALUES (5000, 'rolled back'); UPDATE b SET n = -1; ROLLBACK");
    await db.admin.query("INSERT INTO a VALUES (5001, 'committed')");
    await caughtUp(stream, db.admin);
    const rows = sink.deltasOf('a').map(([, row]) => row[1]);
    assert.ok(rows.includes('committed'));
    assert.ok(!rows.includes('rolled back'));
    assert.ok(!sink.deltasOf('b').some(([, row]) => row[1] === -1));
  });

  it('delivers the non-transactional half of a rolled-back transaction, which stays, and never the rest', async () => {
    await db.admin.query('CREATE TABLE mi (id INT PRIMARY KEY) ENGINE=MyISAM');
    await db.admin.query("BEGIN; INSERT INTO a VALUES (7000, 'undone'); INSERT INTO mi VALUES (1); ROLLBACK");
    await caughtUp(stream, db.admin);
    assert.deepEqual(sink.deltasOf('mi'), [[1, [1]]]);
    assert.ok(!sink.deltasOf('a').some(([, row]) => row[0] === 7000));
  });

  it('delivers an XA transaction at its XA COMMIT and never one that is rolled back', async () => {
    await db.admin.query("XA START 'x1'; INSERT INTO b VALUES (71, 1); XA END 'x1'; XA PREPARE 'x1'; XA COMMIT 'x1'");
    await db.admin.query("XA START 'x2'; INSERT INTO b VALUES (72, 2); XA END 'x2'; XA PREPARE 'x2'; XA ROLLBACK 'x2'");
    await db.admin.query("XA START 'x3'; INSERT INTO b VALUES (73, 3); XA END 'x3'; XA COMMIT 'x3' ONE PHASE");
    await caughtUp(stream, db.admin);
    const ids = sink.deltasOf('b').map(([, row]) => row[0]);
    assert.ok(ids.includes(71) && ids.includes(73));
    assert.ok(!ids.includes(72));
  });

  it('stamps batches with increasing positions, the upstream commit time and the applied position', async () => {
    await db.admin.query('INSERT INTO b VALUES (3, 3)');
    await db.admin.query('INSERT INTO b VALUES (4, 4)');
    await caughtUp(stream, db.admin);
    for (let i = 1; i < sink.batches.length; i++) {
      assert.ok(comparePositions(sink.batches[i - 1].position, sink.batches[i].position) < 0);
    }
    const last = sink.batches.at(-1)!;
    const [[now]] = await db.admin.query<RowDataPacket[]>('SELECT UNIX_TIMESTAMP() * 1000 AS ms');
    assert.ok(Math.abs(Number(now.ms) - last.timestamp) < 60_000);
    assert.ok(comparePositions(stream.appliedPosition()!, last.position) >= 0);
    const status = stream.status();
    assert.equal(status.connected, true);
    const [[pos]] = await db.admin.query<RowDataPacket[]>('SELECT @@gtid_binlog_pos AS g');
    assert.equal(status.gtid, pos.g);
  });

  it('waits until a position has been applied', async () => {
    await db.admin.query('INSERT INTO b VALUES (50, 50)');
    const end = await binlogEnd(db.admin);
    assert.equal(await stream.waitForPosition(end), true);
  });

  it('starts from a GTID position with exactly the transactions after it', async () => {
    const [[{ g }]] = await db.admin.query<RowDataPacket[]>('SELECT @@gtid_binlog_pos AS g');
    await db.admin.query('INSERT INTO b VALUES (60, 60); INSERT INTO b VALUES (61, 61)');
    const later = new RecordingSink(db.name);
    const fromGtid = new BinlogStream({ url: db.url, serverId: uniqueServerId(), sink: later, startAt: { gtid: String(g) } });
    await fromGtid.start();
    await caughtUp(fromGtid, db.admin);
    await fromGtid.stop();
    assert.deepEqual(later.deltasOf('b'), [[1, [60, 60]], [1, [61, 61]]]);
  });

  it('refuses to start when the upstream cannot be reached', async () => {
    const nowhere = new BinlogStream({ url: 'mysql://rotor:rotor@127.0.0.1:1/rotor', serverId: uniqueServerId(), sink: new RecordingSink(null) });
    await assert.rejects(nowhere.start(), /ECONNREFUSED/);
    assert.equal(nowhere.status().connected, false);
  });

});
