import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { BinlogStream } from '../../src/binlog/stream.js';
import { Freshness } from '../../src/binlog/freshness.js';
import { killServer, startMariaDb, stopServer, type PrivateServer } from '../../scripts/private-server.js';
import { RecordingSink, Relay, caughtUp, privateServerName, uniqueServerId, waitFor } from './support.js';

// A server of its own, restarted and with its threads killed; the stream reaches it through a
// relay so that its address survives a restart and its connections can be frozen.
const SERVER = privateServerName('binlog-supervise');

describe('binlog supervision', () => {
  let server: PrivateServer;
  let relay: Relay;
  let conn: mysql.Connection;
  let sink: RecordingSink;
  let stream: BinlogStream;
  let nextId = 1;
  const disconnects: string[] = [];

  async function connect(): Promise<void> {
    conn = await mysql.createConnection({ uri: server.url, multipleStatements: true, database: 'sup' });
  }

  /** Writes `n` single-row transactions and returns their ids. */
  async function write(n: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      await conn.query('INSERT INTO t VALUES (?, ?)', [nextId, `row ${nextId}`]);
      ids.push(nextId++);
    }
    return ids;
  }

  /** Every id the stream delivered, in order. */
  function delivered(): number[] {
    return sink.deltasOf('t').filter(([s]) => s === 1).map(([, row]) => row[0] as number);
  }

  async function assertExactlyOnce(): Promise<void> {
    await caughtUp(stream, conn);
    const [rows] = await conn.query<mysql.RowDataPacket[]>({ sql: 'SELECT id FROM t ORDER BY id', rowsAsArray: true });
    assert.deepEqual(delivered(), (rows as unknown as number[][]).map((r) => r[0]));
  }

  before(async () => {
    server = await startMariaDb(SERVER);
    const admin = await mysql.createConnection({ uri: server.url });
    await admin.query('DROP DATABASE IF EXISTS sup');
    await admin.query('CREATE DATABASE sup');
    await admin.query('CREATE TABLE sup.t (id INT PRIMARY KEY, v VARCHAR(20))');
    await admin.end();
    await connect();
    relay = new Relay(server.port);
    const url = await relay.listen();
    sink = new RecordingSink('sup');
    stream = new BinlogStream({ url, serverId: uniqueServerId(), sink, heartbeatMs: 200, reconnectBackoffMs: { first: 50, max: 500 } });
    stream.on('disconnected', () => disconnects.push(new Date().toISOString()));
    await stream.start();
  });

  after(async () => {
    await stream.stop();
    await conn.end().catch(() => undefined);
    await relay.close();
    await stopServer('mariadb', SERVER);
  });

  /** Writes continuously while the server goes down (`how`), restarts it, writes some more. */
  async function restartWhileWriting(how: 'stop' | 'kill'): Promise<void> {
    const before = stream.status().reconnects;
    let writing = true;
    const load = (async () => {
      while (writing) {
        try {
          await write(1);
        } catch {
          // The server went away: whatever committed is in the binlog, the rest is not.
          writing = false;
        }
      }
    })();
    await waitFor(() => delivered().length > 0 && nextId > 100, 'writes to stream');
    if (how === 'stop') await stopServer('mariadb', SERVER);
    else await killServer('mariadb', SERVER);
    writing = false;
    await load;
    await conn.end().catch(() => undefined);
    await waitFor(() => !stream.status().connected, 'the stream to notice');
    server = await startMariaDb(SERVER);
    relay.retarget(server.port);
    await connect();
    const [[{ m }]] = await conn.query<mysql.RowDataPacket[]>('SELECT COALESCE(MAX(id), 0) AS m FROM t');
    nextId = Number(m) + 1;
    await write(50);
    await waitFor(() => stream.status().reconnects > before, 'the stream to reconnect');
    await assertExactlyOnce();
  }

  it('resumes after the server restarts mid-stream, losing nothing and repeating nothing', async () => {
    await restartWhileWriting('stop');
  });

  it('resumes after the server crashes (SIGKILL) mid-stream, losing nothing and repeating nothing', async () => {
    await restartWhileWriting('kill');
  });

  it('resumes after its dump thread is killed', async () => {
    const before = stream.status().reconnects;
    await write(100);
    const [threads] = await conn.query<mysql.RowDataPacket[]>("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'");
    assert.ok(threads.length >= 1);
    for (const t of threads) await conn.query(`KILL ${Number(t.ID)}`);
    await write(100);
    await waitFor(() => stream.status().reconnects > before, 'the stream to reconnect');
    await assertExactlyOnce();
  });

  it('notices a silent half-open connection by its missing heartbeats and resumes', async () => {
    const before = stream.status().reconnects;
    const lost = disconnects.length;
    relay.freeze();
    await write(20);
    await waitFor(() => disconnects.length > lost, 'the silence to be noticed', 10_000);
    await waitFor(() => stream.status().reconnects > before, 'the stream to reconnect');
    await write(20);
    await assertExactlyOnce();
  });

  it('measures lag as the age of the oldest upstream position not yet applied, and 0 once caught up', async () => {
    // A stream of its own whose silence is noticed late (heartbeats every 2 s): frozen, it stays
    // behind for seconds while a write moves the upstream's binlog end past it.
    // Through a relay of its own: freezing it must not silence the suite's stream (which would then
    // reconnect under the next test).
    const own = new Relay(server.port);
    await own.listen();
    const slow = new BinlogStream({ url: `mysql://rotor:rotor@127.0.0.1:${own.port}/rotor`, serverId: uniqueServerId(), sink: new RecordingSink('sup'), heartbeatMs: 2_000, lagSampleMs: 10 });
    await slow.start();
    try {
      await waitFor(() => slow.status().lagMs === 0, 'the stream to be caught up');
      own.freeze();
      await write(1);
      await waitFor(() => (slow.status().lagMs ?? 0) > 300, 'the lag to be measured', 10_000);
      slow.disconnect('test: resume');
      await waitFor(() => slow.status().lagMs === 0, 'the stream to catch up again', 10_000);
    } finally {
      await slow.stop();
      await own.close();
    }
  });

  it('judges the first read after an idle spell by the age of its last proof, not by a lag nobody measured', async () => {
    // [note: staleness-bound] [note: demand-sampling] Idle sampling slower than the bound on
    // purpose: frozen after the idle spell, the stream misses a write, and no sample shows it.
    const own = new Relay(server.port);
    await own.listen();
    const idle = new BinlogStream({ url: `mysql://rotor:rotor@127.0.0.1:${own.port}/rotor`, serverId: uniqueServerId(), sink: new RecordingSink('sup'), heartbeatMs: 2_000, lagSampleMs: 10, idleSampleMs: 5_000 });
    const freshness = new Freshness(idle, 300);
    await idle.start();
    try {
      await waitFor(() => freshness.forRead() === null, 'reads to be served from the views');
      await new Promise((r) => setTimeout(r, 1_200));
      own.freeze();
      await write(1);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(idle.status().lagMs, 0, 'no sample has seen the write: the lag meter alone would call the views fresh');
      assert.match(freshness.forRead() ?? '', /lags the upstream by more than 300 ms/, 'the first read goes upstream');
      idle.disconnect('test: resume');
      await waitFor(() => freshness.forRead() === null, 'reads to be served again once caught up', 10_000);
    } finally {
      await idle.stop();
      await own.close();
    }
  });

  it('reports itself caught up once it has applied the upstream binlog end', async () => {
    await waitFor(() => stream.status().lagMs === 0, 'the stream to be caught up');
    // Idle, the upstream's binlog end is where the stream already is: no lag accrues.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(stream.status().lagMs, 0);
    const s = stream.status();
    assert.equal(s.connected, true);
    assert.equal(s.lagEvents, 0);
    assert.ok(s.file && s.position);
  });
});
