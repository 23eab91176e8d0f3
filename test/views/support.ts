/**
 * Shared helpers for engine tests: an Engine fed by a real BinlogStream on a fresh database, a
 * session, and "ask the engine" / "ask MariaDB" helpers returning rows in Rotor's value
 * representation so the two answers compare directly.
 */
import { valueRows } from '../../src/proxy/protocol/result-set.js';
import { usage } from '../../src/dataflow/usage.js';
import mysql from 'mysql2/promise';
import { pino } from 'pino';
import type { FieldPacket } from 'mysql2';
import { Engine, type EngineOptions, type EngineUpstream } from '../../src/views/engine.js';
import { toColumnDefinition, UpstreamClient } from '../../src/upstream/upstream-client.js';
import type { BinlogPosition } from '../../src/dataflow/batch.js';
import type { SnapshotResult } from '../../src/dataflow/upquery.js';
import { BinlogStream } from '../../src/binlog/stream.js';
import type { ReadRouter, Routed, SessionView } from '../../src/proxy/read-router.js';
import type { ColumnDefinition } from '../../src/proxy/protocol/column-definition.js';
import { normalizeMysql2Row, upqueryConnectionOptions } from '../../src/upstream/mysql2-values.js';
import { rowKey, type Row } from '../../src/dataflow/delta.js';
import type { Value } from '../../src/values.js';
import { freshDatabase, type TestDatabase } from '../support/servers.js';
import { caughtUp, uniqueServerId } from '../binlog/support.js';

/** The real upstream, with a gate that holds each upquery's answer until the test opens it. */
export class GatedUpstream extends UpstreamClient implements EngineUpstream {
  gate: Promise<void> | null = null;
  snapshots: BinlogPosition[] = [];
  override async snapshotQuery(sql: string, locking?: boolean): Promise<SnapshotResult> {
    const r = await super.snapshotQuery(sql, locking);
    if (r.position) this.snapshots.push(r.position);
    if (this.gate) await this.gate;
    return r;
  }
}

/** What MariaDB answers the test's own account for the checks' statements (a base table; InnoDB's status). */
export function allPrivilegedRow(sql: string): ReadonlyArray<string> {
  if (/^SHOW ENGINE/i.test(sql)) return ['InnoDB', '', 'status'];
  const table = /`((?:[^`]|``)+)`\s*$/.exec(sql)?.[1].replace(/``/g, '`') ?? '';
  return [table, `CREATE TABLE \`${table}\` (\`id\` int)`];
}

/** A session of the test's own account, which holds every privilege: MariaDB accepts its probes. */
export function sessionFor(database: string | null, over: Partial<SessionView> = {}): SessionView {
  return { connectionId: 1, user: 'rotor', database, inTransaction: false, transactionBlocker: null, cacheBlocker: null, writes: 0, privilegeGeneration: 0, lastRoute: null, noBackslashEscapes: false, probe: () => Promise.resolve(null), probeRow: (sql) => Promise.resolve(allPrivilegedRow(sql)), ...over };
}

export interface Asked {
  /** 'hit': answered from the reader at once; 'fill': after a miss (or a wait); 'upstream': relayed. */
  readonly source: 'hit' | 'fill' | 'upstream';
  readonly rows: ReadonlyArray<Row> | null;
  readonly columns: ReadonlyArray<ColumnDefinition> | null;
  readonly reason: string | null;
  readonly error?: { errno: number; message: string };
  /** An OK answer's message, when it has one. */
  readonly info?: string;
}

export async function settle(r: Routed): Promise<Asked> {
  if (r.kind === 'upstream') return { source: 'upstream', rows: null, columns: null, reason: r.reason };
  const answer = r.kind === 'answer' ? r.answer : await r.answer;
  if (answer === null) return { source: 'upstream', rows: null, columns: null, reason: 'fill failed' };
  if (answer.kind === 'upstream') return { source: 'upstream', rows: null, columns: null, reason: answer.reason };
  const source = r.kind === 'answer' ? 'hit' : 'fill';
  if (answer.kind === 'rows') return { source, rows: valueRows(answer.rows), columns: answer.columns, reason: null };
  if (answer.kind === 'error') return { source, rows: null, columns: null, reason: null, error: { errno: answer.errno, message: answer.message } };
  return { source, rows: [], columns: null, reason: null, ...(answer.kind === 'ok' && answer.info !== '' ? { info: answer.info } : {}) };
}

/**
 * Routes a statement as a real session would see it: a relay the router watches (a principal's
 * first read of a cache, [note: cached-grants]; a new spelling's column definitions) is answered
 * the way MariaDB answers the test's own all-privileged account — the read succeeds, with the
 * column definitions `columns` gives — and the statement is routed again.
 */
export async function route(router: ReadRouter, sql: string, session: SessionView, columns?: (sql: string) => Promise<ReadonlyArray<ColumnDefinition>>): Promise<Asked> {
  let r = router.routeQuery(sql, session);
  if (r.kind === 'upstream' && r.watch !== undefined && columns !== undefined) {
    r.watch.columns(await columns(sql));
    r = router.routeQuery(sql, session);
  }
  return settle(r);
}

/** Canonical text of a result for comparisons: rows in order, or sorted when order is not defined. */
export function canonical(rows: ReadonlyArray<Row>, ordered: boolean): string {
  const keys = rows.map((r) => rowKey(r));
  if (!ordered) keys.sort();
  return keys.join('\n');
}

export class EngineFixture {
  readonly engine: Engine;
  readonly stream: BinlogStream;
  readonly session: SessionView;
  /** A connection reading upstream with the upquery value representation. */
  readonly direct: mysql.Connection;

  private constructor(readonly db: TestDatabase, engine: Engine, stream: BinlogStream, direct: mysql.Connection) {
    this.engine = engine;
    this.stream = stream;
    this.direct = direct;
    this.session = sessionFor(db.name);
  }

  static async create(prefix: string, setup: string, opts: { dataDir?: string | null; stream?: boolean; engine?: Partial<EngineOptions> } = {}): Promise<EngineFixture> {
    const db = await freshDatabase(prefix);
    if (setup.trim()) await db.admin.query(setup);
    // No periodic re-check of grants mid-test: tests that route synchronously expect answers.
    // A first read answered from its fill unless a test asks for `relay` (test/views/miss-policy.test.ts).
    // Key-by-key fills unless a test asks for whole ones, or ROTOR_TEST_COMPLETE_ROWS runs a suite with them ([note: complete-state]).
    const completeRows = Number(process.env.ROTOR_TEST_COMPLETE_ROWS ?? 0);
    const engine = new Engine({ upstreamUrl: db.url, defaultDatabase: db.name, dataDir: opts.dataDir ?? null, privilegeRefreshMs: 3_600_000, missPolicy: 'fill', completeRows, ...opts.engine, logger: pino({ level: process.env.ROTOR_TEST_LOG ?? 'silent' }, pino.destination({ dest: 2, sync: true })) });
    await engine.start();
    const stream = new BinlogStream({ url: db.url, serverId: uniqueServerId(), sink: engine, heartbeatMs: 250 });
    if (opts.stream !== false) await stream.start();
    const direct = await mysql.createConnection({
      host: db.host, port: db.port, user: db.user, password: db.password, database: db.name, ...upqueryConnectionOptions,
    });
    await direct.query("SET time_zone = '+00:00'");
    const fixture = new EngineFixture(db, engine, stream, direct);
    // A cache registered just after the test's own DDL on its database (CREATE TABLE) is checked
    // again once that DDL reaches the binlog, and relays meanwhile (src/views/register.ts): a
    // registration here returns once the binlog has brought it and that check is done (bounded;
    // a cache that stays invalidated is returned as it is).
    const register = engine.register.bind(engine);
    engine.register = async (req) => {
      const info = await register(req);
      if (opts.stream !== false) await fixture.drain();
      for (let i = 0; i < 80 && engine.get(info.id)?.status === 'invalidated'; i++) await new Promise((r) => setTimeout(r, 25));
      return info;
    };
    return fixture;
  }

  /** Waits until every write made so far has been applied to the engine. */
  async drain(): Promise<void> {
    await caughtUp(this.stream, this.db.admin);
  }

  ask(sql: string, session: SessionView = this.session): Promise<Asked> {
    return route(this.engine.router, sql, session, async (text) => {
      const [, fields] = await this.direct.query({ sql: text, rowsAsArray: true });
      return (fields as FieldPacket[]).map(toColumnDefinition);
    });
  }

  /** A prepared statement's execution through the router, as a real session's (see {@link route}). */
  async askPrepared(sql: string, params: ReadonlyArray<Value>, session: SessionView = this.session): Promise<Asked> {
    const router = this.engine.router;
    const m = router.matchPrepared(sql, session);
    if (m === null) return { source: 'upstream', rows: null, columns: null, reason: 'no cache matched at prepare' };
    let r = router.routeExecute(m, params, session);
    if (r.kind === 'upstream' && r.watch !== undefined) {
      const [, fields] = await this.direct.execute({ sql, rowsAsArray: true }, params as Value[]);
      r.watch.columns((fields as FieldPacket[]).map(toColumnDefinition));
      r = router.routeExecute(m, params, session);
    }
    return settle(r);
  }

  /** MariaDB's own answer to a prepared statement. */
  async upstreamPrepared(sql: string, params: ReadonlyArray<Value>): Promise<{ rows: Row[]; fields: FieldPacket[] }> {
    const [rows, fields] = (await this.direct.execute({ sql, rowsAsArray: true }, params as Value[])) as unknown as [Value[][], FieldPacket[]];
    return { rows: rows.map((r) => normalizeMysql2Row(fields, r)), fields };
  }

  async upstream(sql: string): Promise<{ rows: Row[]; fields: FieldPacket[] }> {
    const [rows, fields] = (await this.direct.query({ sql, rowsAsArray: true })) as unknown as [Value[][], FieldPacket[]];
    return { rows: rows.map((r) => normalizeMysql2Row(fields, r)), fields };
  }

  async close(): Promise<void> {
    await this.stream.stop();
    await this.engine.close();
    await this.direct.end();
    await this.db.drop();
  }
}

/** The memory budget's tests: a limit small enough that a few hundred keys pass it. [note: memory-budget] */
export const BUDGET_LIMIT = 96 * 1024;

/**
 * An engine under {@link BUDGET_LIMIT} over 2,000 posts of ~65 bytes by 50 authors (and, with
 * `authors`, the author table a join reads), with the default eviction policy.
 */
export function budgetFixture(prefix: string, authors = false, engine: Partial<EngineOptions> = {}): Promise<EngineFixture> {
  usage.policy = 'admission';
  const posts = Array.from({ length: 2000 }, (_, i) => `(${i + 1}, ${(i % 50) + 1}, '${'p'.repeat(60)}${i}')`).join(', ');
  const names = Array.from({ length: 50 }, (_, i) => `(${i + 1}, 'author ${i + 1}')`).join(', ');
  return EngineFixture.create(prefix, `
    CREATE TABLE post (id INT PRIMARY KEY, author INT, body VARCHAR(100), KEY (author));
    INSERT INTO post VALUES ${posts};
    ${authors ? `CREATE TABLE author (id INT PRIMARY KEY, name VARCHAR(40)); INSERT INTO author VALUES ${names};` : ''}
  `, { engine: { memoryLimitBytes: BUDGET_LIMIT, ...engine } });
}

/**
 * An upstream whose fill reads wait until the test releases them (`release`), counting how many
 * run at once and what each asked; `width` stands for its connections ([note: miss-batching]).
 */
export class HeldUpstream extends UpstreamClient implements EngineUpstream {
  outstanding = 0;
  peak = 0;
  readonly statements: string[] = [];
  readonly release: Array<() => void> = [];

  constructor(url: string, readonly width?: number) {
    super(url);
  }

  override get concurrency(): number {
    return this.width ?? super.concurrency;
  }

  override async snapshotQuery(sql: string, locking?: boolean): Promise<SnapshotResult> {
    this.outstanding++;
    this.peak = Math.max(this.peak, this.outstanding);
    this.statements.push(sql);
    await new Promise<void>((r) => this.release.push(r));
    try { return await super.snapshotQuery(sql, locking); } finally { this.outstanding--; }
  }

  /** Releases reads, and those that start meanwhile, until `engine` has none left. */
  async drainAll(engine: Engine): Promise<void> {
    let done = false;
    const settled = engine.settled().then(() => { done = true; });
    while (!done) {
      for (const r of this.release.splice(0)) r();
      await new Promise((r) => setTimeout(r, 5));
    }
    await settled;
  }
}
