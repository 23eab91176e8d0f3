import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { BinlogStream } from '../../src/binlog/stream.js';
import { normalizeMysql2Row, upqueryConnectionOptions } from '../../src/upstream/mysql2-values.js';
import type { Value } from '../../src/values.js';
import { startMariaDb, stopServer, type PrivateServer } from '../../scripts/private-server.js';
import { RecordingSink, caughtUp, privateServerName, uniqueServerId } from './support.js';

const SERVER = privateServerName('binlog-compress');

describe('compressed binlog (log_bin_compress=ON)', () => {
  let server: PrivateServer;
  let conn: mysql.Connection;
  let sink: RecordingSink;
  let stream: BinlogStream;

  before(async () => {
    server = await startMariaDb(SERVER, { extraConfig: ['log_bin_compress=ON', 'log_bin_compress_min_len=10'] });
    conn = await mysql.createConnection({ uri: server.url, multipleStatements: true });
    await conn.query('DROP DATABASE IF EXISTS cz; CREATE DATABASE cz; USE cz');
    await conn.query('CREATE TABLE z (id INT PRIMARY KEY, body MEDIUMTEXT, d DECIMAL(20,4), raw BLOB)');
    sink = new RecordingSink('cz');
    stream = new BinlogStream({ url: server.url, serverId: uniqueServerId(), sink, heartbeatMs: 250 });
    await stream.start();
  });

  after(async () => {
    await stream.stop();
    await conn.end();
    await stopServer('mariadb', SERVER);
  });

  it('decodes compressed row events into the same rows the upquery path reads', async () => {
    const [[v]] = await conn.query<mysql.RowDataPacket[]>('SELECT @@log_bin_compress AS on_');
    assert.equal(Number(v.on_), 1);
    await conn.query(`INSERT INTO z VALUES ${Array.from({ length: 500 }, (_, i) => `(${i}, REPEAT('compress me ${i} ', 40), ${i}.1234, REPEAT(x'00ff', ${i}))`).join(',')}`);
    await conn.query("BEGIN; UPDATE z SET body = CONCAT(body, '😀') WHERE id < 50; DELETE FROM z WHERE id >= 450; COMMIT");
    await caughtUp(stream, conn);
    assert.equal(sink.batches.length, 2);
    const live = new Map<number, ReadonlyArray<Value>>();
    for (const b of sink.batches) {
      for (const { row, sign } of b.changes[0].deltas) {
        if (sign === 1) live.set(row[0] as number, row);
        else live.delete(row[0] as number);
      }
    }
    const upquery = await mysql.createConnection({ uri: server.url, database: 'cz', ...upqueryConnectionOptions });
    const [rows, fields] = await upquery.query<mysql.RowDataPacket[][]>('SELECT * FROM z ORDER BY id');
    await upquery.end();
    const selected = (rows as unknown as Value[][]).map((r) => normalizeMysql2Row(fields, r));
    assert.equal(selected.length, 450);
    assert.deepStrictEqual([...live.values()].sort((a, b) => (a[0] as number) - (b[0] as number)), selected);
  });
});
