/**
 * Shared helpers for the binlog tests: a sink that records what it is given (for one database,
 * since test files share a server), waiting helpers, and unique replication server ids.
 */
import net from 'node:net';
import type mysql from 'mysql2/promise';
import type { Batch, BinlogPosition } from '../../src/dataflow/batch.js';
import type { BinlogSink, SchemaChange } from '../../src/binlog/sink.js';
import type { BinlogStream } from '../../src/binlog/stream.js';

export class RecordingSink implements BinlogSink {
  readonly batches: Batch[] = [];
  readonly schema: SchemaChange[] = [];
  readonly #database: string | null;

  /** Records only changes to `database` (all of them when null). */
  constructor(database: string | null) {
    this.#database = database;
  }

  applyBatch(batch: Batch): void {
    const changes = this.#database === null ? batch.changes : batch.changes.filter((c) => c.database === this.#database);
    if (changes.length > 0) this.batches.push({ ...batch, changes });
  }

  applySchemaChange(change: SchemaChange): void {
    if (this.#database === null || change.database === this.#database) this.schema.push(change);
  }

  /** Every delta of one table, in order, as `+`/`-` and the row. */
  deltasOf(table: string): Array<[1 | -1, ReadonlyArray<unknown>]> {
    return this.batches.flatMap((b) => b.changes.filter((c) => c.table === table).flatMap((c) => c.deltas.map((d) => [d.sign, d.row] as [1 | -1, ReadonlyArray<unknown>])));
  }
}

let nextId = 1000 + Math.floor(Math.random() * 1_000_000);
/** A replication server id no other stream in this run uses. */
export function uniqueServerId(): number {
  return nextId++;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The upstream's current binlog end. */
export async function binlogEnd(conn: mysql.Connection): Promise<BinlogPosition> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
  return { file: String(rows[0].File), position: Number(rows[0].Position) };
}

/** Waits until the stream has handled everything the upstream had written when this was called. */
export async function caughtUp(stream: BinlogStream, conn: mysql.Connection, timeoutMs = 30_000): Promise<void> {
  const end = await binlogEnd(conn);
  if (!(await stream.waitForPosition(end, timeoutMs))) throw new Error(`timed out waiting for the stream to reach ${end.file}:${end.position}`);
}

/**
 * A TCP relay in front of a server whose port can change (a restarted private server gets a new
 * one) and whose open connections can be frozen: bytes stop flowing but nothing is closed, as
 * with a half-open connection after a network failure.
 */
export class Relay {
  readonly #server: net.Server;
  readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  readonly #frozen: Array<{ client: net.Socket; upstream: net.Socket }> = [];
  #target: number;
  port = 0;

  constructor(targetPort: number) {
    this.#target = targetPort;
    this.#server = net.createServer((client) => {
      client.setNoDelay(true);
      const upstream = net.connect(this.#target, '127.0.0.1');
      upstream.setNoDelay(true);
      const pair = { client, upstream };
      this.#pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const close = (): void => {
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return `mysql://rotor:rotor@127.0.0.1:${this.port}/rotor`;
  }

  retarget(port: number): void {
    this.#target = port;
  }

  /** Stops every open connection's traffic without closing it; new connections still work. */
  freeze(): void {
    for (const pair of this.#pairs) {
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      pair.client.pause();
      pair.upstream.pause();
      this.#frozen.push(pair);
    }
    this.#pairs.clear();
  }

  async close(): Promise<void> {
    for (const { client, upstream } of [...this.#pairs, ...this.#frozen]) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

/**
 * The name of a private server a test file starts for itself, distinct per test run (runs with a
 * different ROTOR_TEST_SERVER never share, stop or kill each other's servers).
 */
export function privateServerName(base: string): string {
  return `${base}-${process.env.ROTOR_TEST_SERVER ?? 'test'}`;
}
