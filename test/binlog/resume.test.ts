import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { BinlogStream, type StreamEvent } from '../../src/binlog/stream.js';
import { comparePositions, type BinlogPosition } from '../../src/dataflow/batch.js';
import { startMariaDb, stopServer, type PrivateServer } from '../../scripts/private-server.js';
import { RecordingSink, binlogEnd, privateServerName, uniqueServerId, waitFor } from './support.js';

// A server of its own: the cut points must be this workload's events and nobody else's.
const SERVER = privateServerName('binlog-resume');

async function readRange(url: string, from: BinlogPosition, to: BinlogPosition, onEvent?: (s: BinlogStream, e: StreamEvent) => void) {
  const sink = new RecordingSink('resume');
  const stream = new BinlogStream({ url, serverId: uniqueServerId(), sink, startAt: from, heartbeatMs: 500, reconnectBackoffMs: { first: 2, max: 50 } });
  if (onEvent) stream.on('event', (e: StreamEvent) => onEvent(stream, e));
  await stream.start();
  await waitFor(() => {
    const p = stream.appliedPosition();
    return p !== null && comparePositions(p, to) >= 0;
  }, 'the stream to read the whole workload', 50_000);
  await waitFor(() => stream.status().connected, 'the stream to be connected');
  const reconnects = stream.status().reconnects;
  await stream.stop();
  return { sink, reconnects };
}

describe('binlog resume', () => {
  let server: PrivateServer;
  let conn: mysql.Connection;
  let from: BinlogPosition;
  let to: BinlogPosition;

  before(async () => {
    server = await startMariaDb(SERVER);
    conn = await mysql.createConnection({ uri: server.url, multipleStatements: true });
    await conn.query('DROP DATABASE IF EXISTS resume; CREATE DATABASE resume; USE resume');
    from = await binlogEnd(conn);
    // The mixed workload: DDL, multi-statement transactions, a multi-table UPDATE … JOIN, a
    // 1,000-row INSERT (several row events), a rolled-back transaction and two log rotations.
    await conn.query('CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(64), qty INT)');
    await conn.query('CREATE TABLE stock (item_id INT PRIMARY KEY, total BIGINT)');
    await conn.query(`INSERT INTO item VALUES ${Array.from({ length: 1000 }, (_, i) => `(${i}, 'item number ${i} ${'#'.repeat(20)}', ${i % 7})`).join(',')}`);
    await conn.query('BEGIN; INSERT INTO stock SELECT id, qty FROM item WHERE id < 20; UPDATE item SET qty = qty + 1 WHERE id < 5; COMMIT');
    await conn.query('FLUSH BINARY LOGS');
    await conn.query('UPDATE item JOIN stock ON stock.item_id = item.id SET item.qty = 0, stock.total = stock.total * 2 WHERE item.id < 10');
    await conn.query('BEGIN; DELETE FROM item WHERE id BETWEEN 900 AND 950; INSERT INTO stock VALUES (5000, 1); ROLLBACK');
    await conn.query("BEGIN; DELETE FROM item WHERE id BETWEEN 900 AND 905; INSERT INTO stock VALUES (5001, 1); UPDATE stock SET total = -1 WHERE item_id = 1; COMMIT");
    await conn.query('ALTER TABLE stock ADD COLUMN note VARCHAR(10) DEFAULT NULL AFTER item_id');
    await conn.query("INSERT INTO stock VALUES (6000, 'after', 7)");
    await conn.query('FLUSH BINARY LOGS');
    for (let i = 0; i < 5; i++) await conn.query(`UPDATE stock SET total = total + ${i} WHERE item_id = 6000`);
    await conn.query('TRUNCATE TABLE item');
    to = await binlogEnd(conn);
  });

  after(async () => {
    await conn.end();
    await stopServer('mariadb', SERVER);
  });

  it('reads the same batches when the connection is cut after every single event', async (t) => {
    const events: StreamEvent[] = [];
    const reference = await readRange(server.url, from, to, (_s, e) => { events.push(e); });
    const realEvents = events.filter((e) => e.nextPosition > 0 && !['rotate', 'format', 'heartbeat'].includes(e.name));
    const cutPoints = realEvents.map((e) => `${e.file}:${e.nextPosition}`);
    assert.equal(new Set(cutPoints).size, cutPoints.length, 'every event is identified by its file and end position');
    assert.ok(cutPoints.length > 40, `a workload of ${cutPoints.length} events`);
    assert.equal(reference.sink.batches.length, 9);
    assert.deepEqual(reference.sink.schema.map((s) => s.kind), ['create', 'create', 'alter', 'truncate']);

    let next = 0;
    const cut = await readRange(server.url, from, to, (stream, e) => {
      if (next < cutPoints.length && `${e.file}:${e.nextPosition}` === cutPoints[next]) {
        next++;
        stream.disconnect(`cut point ${next}`);
      }
    });
    assert.equal(next, cutPoints.length, 'the stream was cut at every event');
    t.diagnostic(`${cutPoints.length} cut points, ${reference.sink.batches.length} batches`);
    // At least one reconnection per cut (a slow box may add a heartbeat-silence reconnection).
    assert.ok(cut.reconnects >= cutPoints.length);
    assert.deepStrictEqual(cut.sink.batches, reference.sink.batches);
    assert.deepStrictEqual(cut.sink.schema, reference.sink.schema);
  });

  it('names columns by the schema in force when each row was written, across an ALTER', async () => {
    const { sink } = await readRange(server.url, from, to);
    const stock = sink.batches.flatMap((b) => b.changes.filter((c) => c.table === 'stock'));
    assert.deepEqual(stock[0].columns, ['item_id', 'total']);
    assert.deepEqual(stock.at(-1)!.columns, ['item_id', 'note', 'total']);
    assert.deepEqual(stock.at(-1)!.deltas.at(-1)!.row, [6000, 'after', 17]);
  });
});
