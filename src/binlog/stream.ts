/**
 * The replication stream: reads the upstream's binlog through zongji, assembles one batch per
 * transaction (events-to-batches.ts), hands it to the engine's {@link BinlogSink}, and keeps it
 * flowing through everything a production replica survives.
 *
 * Supervision: zongji never reconnects by itself. A lost connection (server restart, KILL of the
 * dump thread, an error from zongji) is seen at once; a half-open connection that goes silent is
 * seen by heartbeats: the upstream is asked for one every `heartbeatMs` while idle, and silence of
 * about three heartbeats counts as a lost connection. Either way the stream reconnects with
 * exponential backoff and resumes from the position just after the last group it fully handled.
 * The open (incomplete) group is dropped and read again in full, so nothing is lost, and a batch
 * at or before the last applied position is never delivered again, so nothing is applied twice.
 */
import { EventEmitter } from 'node:events';
import ZongJi, { type AnyBinlogEvent, type BinlogEventByName, type ZongJiOptions } from '@vlasky/zongji';
import { pino, type Logger } from 'pino';
import { comparePositions, formatPosition, type Batch, type BinlogPosition } from '../dataflow/batch.js';
import type { BinlogSink, SchemaChange } from './sink.js';
import { EventsToBatches } from './events-to-batches.js';
import { binlogConnectionOptions } from './row-values.js';
import { teardown } from './zongji-teardown.js';
import { LagMeter } from './lag.js';
import { SamplePacing } from './sample-pacing.js';
import { AppliedGtids } from './applied-gtids.js';
import { Waiters } from './waiters.js';
import { BinlogEndSampler, binlogStart } from '../upstream/binlog-status.js';
import type { BinlogStatus, StreamEvent } from './stream-status.js';

export type { BinlogStatus, StreamEvent } from './stream-status.js';

export interface BinlogStreamOptions {
  /** mysql://user:pass@host:port/db; the user needs REPLICATION SLAVE and REPLICATION CLIENT. */
  readonly url: string;
  /** This reader's replication server id: unique among the upstream's replicas. */
  readonly serverId: number;
  readonly sink: BinlogSink;
  /** Default 'current': the upstream's binlog end at start (Rotor takes no snapshot). */
  readonly startAt?: 'current' | { readonly gtid: string } | BinlogPosition;
  /** Heartbeat period asked of the upstream. Default 1000; silence > ~3 periods = dead connection. */
  readonly heartbeatMs?: number;
  /** How often the upstream's binlog end is sampled while reads need it (lag.ts). Default 25. */
  readonly lagSampleMs?: number;
  /** The sampling period otherwise; keep it below the staleness bound. Default 1000. [note: demand-sampling] */
  readonly idleSampleMs?: number;
  /** Reconnection backoff: the first delay (default 100 ms), doubling up to `max` (default 5 s). */
  readonly reconnectBackoffMs?: { readonly first?: number; readonly max?: number };
  readonly logger?: Logger;
}

type StartPoint = { readonly kind: 'position'; readonly at: BinlogPosition } | { readonly kind: 'gtid'; readonly gtid: string };

/** A lag sample that takes longer drops its connection (a half-open one would stall sampling). */
const LAG_SAMPLE_TIMEOUT_MS = 1_000;

/** Until a connection is streaming, allow this long (login, zongji's setup queries, a busy box). */
const CONNECT_TIMEOUT_MS = 10_000;

export class BinlogStream extends EventEmitter {
  readonly #url: string;
  readonly #serverId: number;
  readonly #sink: BinlogSink;
  readonly #heartbeatMs: number;
  readonly #log: Logger;
  readonly #startAt: 'current' | { readonly gtid: string } | BinlogPosition;
  readonly #assembler: EventsToBatches;
  readonly #backoffFirstMs: number;
  readonly #backoffMaxMs: number;
  #start: StartPoint | null = null;
  #zongji: ZongJi | null = null;
  #applied: BinlogPosition | null = null;
  // Everything up to here is applied: #applied, or later when only non-group events followed.
  #caughtUp: BinlogPosition | null = null;
  #binlogResets = 0;
  #connected = false;
  #everConnected = false;
  // start()'s promise until the first connection streams; a first failure rejects it.
  #firstConnect: { resolve: () => void; reject: (err: Error) => void } | null = null;
  #stopping = false;
  #attempt = 0;
  #reconnects = 0;
  #lastHeard = 0;
  // Events read since the watchdog last looked: counting is cheaper than a clock read per event.
  #heard = 0;
  readonly #lag = new LagMeter();
  readonly #sampler: BinlogEndSampler;
  readonly #pacing: SamplePacing;
  #lastTick = 0;
  // True once anyone listens for 'event' or 'batch': the hot path skips emit() otherwise.
  #observed = false;
  readonly #gtids = new AppliedGtids();
  readonly #waiters = new Waiters();
  #retryTimer: NodeJS.Timeout | null = null;
  #watchdog: NodeJS.Timeout | null = null;

  constructor(opts: BinlogStreamOptions) {
    super();
    this.#url = opts.url;
    this.#serverId = opts.serverId;
    this.#sink = opts.sink;
    this.#heartbeatMs = Math.max(50, opts.heartbeatMs ?? 1000);
    const fastMs = Math.max(5, opts.lagSampleMs ?? 25);
    const slowMs = opts.idleSampleMs ?? 1000;
    this.#pacing = new SamplePacing({ fastMs, slowMs, holdMs: 1000, busy: () => this.#lag.waiting, run: () => this.#sampleEnd() });
    this.#sampler = new BinlogEndSampler(opts.url, LAG_SAMPLE_TIMEOUT_MS, () => this.#stopping);
    this.#log = opts.logger ?? pino({ level: 'silent' });
    this.#startAt = opts.startAt ?? 'current';
    this.#backoffFirstMs = Math.max(1, opts.reconnectBackoffMs?.first ?? 100);
    this.#backoffMaxMs = Math.max(this.#backoffFirstMs, opts.reconnectBackoffMs?.max ?? 5_000);
    super.on('newListener', (name: string | symbol) => {
      if (name === 'event' || name === 'batch') this.#observed = true;
    });
    this.#assembler = new EventsToBatches({
      onBatch: (b) => this.#onBatch(b),
      onSchemaChange: (c) => this.#onSchemaChange(c),
      onGroupEnd: (p, g) => this.#onGroupEnd(p, g),
      onHeartbeat: (p) => this.#reached(p),
    });
  }

  /** Connects and resolves once the upstream is streaming to us; rejects if the first connection fails. */
  async start(): Promise<void> {
    this.#stopping = false;
    const asked = performance.now();
    const probe = await binlogStart(this.#url);
    // The first sample: once the stream has applied up to the probe's end, it is fresh as of then.
    this.#lag.sample(probe.end, performance.now(), asked);
    const s = this.#startAt;
    if (s === 'current') {
      this.#start = { kind: 'position', at: probe.end };
      this.#gtids.noteAll(probe.gtid);
    } else if ('gtid' in s) {
      this.#start = { kind: 'gtid', gtid: s.gtid };
      this.#gtids.noteAll(s.gtid);
    } else {
      this.#start = { kind: 'position', at: s };
    }
    this.#watchdog = setInterval(() => this.#checkAlive(), Math.max(25, this.#heartbeatMs / 2));
    this.#watchdog.unref();
    this.#pacing.start();
    await new Promise<void>((resolve, reject) => {
      this.#firstConnect = { resolve, reject };
      this.#connect();
    });
  }

  /** Disconnects; no batch is delivered after it resolves. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#pacing.stop();
    this.#retryTimer = this.#watchdog = null;
    this.#sampler.close();
    const z = this.#zongji;
    this.#zongji = null;
    this.#setConnected(false);
    if (z) await teardown(z);
    this.#assembler.reset();
    this.#waiters.endAll();
  }

  status(): BinlogStatus {
    return {
      connected: this.#connected,
      binlogResets: this.#binlogResets,
      gtid: this.#gtids.current,
      file: this.#applied?.file ?? (this.#start?.kind === 'position' ? this.#start.at.file : null),
      position: this.#applied?.position ?? (this.#start?.kind === 'position' ? this.#start.at.position : null),
      lagMs: this.#connected ? this.#lag.lagMs() : null,
      lagEvents: this.#assembler.pendingEvents,
      reconnects: this.#reconnects,
    };
  }

  /** True while the replication connection streams. */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * At most how far the applied state is behind the upstream at `now` (performance.now()), in ms:
   * the age of the last proof of freshness (LagMeter.stalenessMs). [note: staleness-bound]
   */
  stalenessMs(now = performance.now()): number {
    return this.#lag.stalenessMs(now);
  }

  /** A cached read is being decided: keep the staleness exact. [note: demand-sampling] */
  demandSamples(now = performance.now()): void {
    this.#pacing.demand(now);
  }

  /**
   * Position just after the last event group fully handled (a batch applied to the sink, a DDL
   * reported, or a group with no row changes); the stream resumes from here. Null before the first.
   */
  appliedPosition(): BinlogPosition | null {
    return this.#applied;
  }

  /**
   * Resolves true once everything up to `position` has been applied (e.g. a fill's snapshot
   * position, before the fill replays the recent log after it); false after `timeoutMs` or stop.
   */
  waitForPosition(position: BinlogPosition, timeoutMs = 5_000): Promise<boolean> {
    return this.#wait(() => {
      // Before the first transaction, everything up to the start position counts as applied:
      // the stream began there, so nothing before it will ever arrive.
      const at = this.#caughtUp ?? (this.#start?.kind === 'position' ? this.#start.at : null);
      return at !== null && comparePositions(at, position) >= 0;
    }, timeoutMs);
  }

  override on(event: 'batch', listener: (batch: Batch) => void): this;
  override on(event: 'schema', listener: (change: SchemaChange) => void): this;
  override on(event: 'event', listener: (event: StreamEvent) => void): this;
  override on(event: 'connected' | 'disconnected', listener: () => void): this;
  override on(event: 'error', listener: (err: Error) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  #wait(reached: () => boolean, timeoutMs: number): Promise<boolean> {
    if (reached()) return Promise.resolve(true);
    if (this.#stopping) return Promise.resolve(false);
    return this.#waiters.add(reached, timeoutMs);
  }

  /**
   * Drops the replication connection as if it had been lost: the stream reconnects (with backoff)
   * and resumes from {@link appliedPosition}. For operators and tests.
   */
  disconnect(reason = 'disconnect requested'): void {
    const z = this.#zongji;
    if (z) this.#lost(z, Object.assign(new Error(reason), { code: 'ROTOR_BINLOG_DISCONNECT' }));
  }

  #connect(): void {
    const z = new ZongJi({ uri: this.#url, ...binlogConnectionOptions });
    this.#zongji = z;
    this.#lastHeard = Date.now();
    const resume = this.#resumePoint();
    z.on('binlog', (ev: AnyBinlogEvent) => {
      if (this.#zongji !== z) return;
      this.#heard++;
      // The backoff resets only once events flow: an error right after 'ready' (a purged binlog,
      // a refused dump) must keep backing off rather than retry at the first delay forever.
      this.#attempt = 0;
      // zongji makes the name afresh on each call (the class name, lower-cased): once per event.
      const name = ev.getEventName();
      this.#assembler.push(ev, name);
      // Outside a group every event read so far has been applied. A rotate event's own
      // nextPosition is an offset in the file it ends; it reaches the start of the next file.
      if (name === 'rotate') {
        const r = ev as BinlogEventByName<'rotate'>;
        if (this.#assembler.pendingEvents === 0) this.#reached({ file: r.binlogName, position: r.position });
      } else if (ev.nextPosition > 0 && this.#assembler.pendingEvents === 0) {
        const file = this.#assembler.file;
        if (file !== null) this.#reached({ file, position: ev.nextPosition });
      }
      if (this.#observed) {
        const e: StreamEvent = { name, file: this.#assembler.file, nextPosition: ev.nextPosition };
        this.emit('event', e);
      }
    });
    z.on('error', (err: Error) => {
      if (this.#zongji === z) this.#lost(z, err);
    });
    z.on('ready', () => {
      if (this.#zongji !== z) return;
      this.#lastHeard = Date.now();
      if (this.#everConnected) this.#reconnects++;
      this.#everConnected = true;
      this.#setConnected(true);
      // Nothing before the point the stream starts from will ever arrive: it counts as applied.
      if (resume.kind === 'position') this.#reached(resume.at);
      this.#log.info({ resume: describe(resume), serverId: this.#serverId }, 'binlog streaming');
      this.#firstConnect?.resolve();
      this.#firstConnect = null;
    });
    const startOpts: ZongJiOptions = { serverId: this.#serverId };
    if (resume.kind === 'gtid') startOpts.gtidSet = resume.gtid;
    else Object.assign(startOpts, { filename: resume.at.file, position: resume.at.position });
    z.start(startOpts);
    // Queued on the binlog connection ahead of zongji's own setup, so it precedes the dump
    // command: MariaDB and MySQL then send a heartbeat whenever the stream idles this long.
    z.connection?.query(`SET @master_heartbeat_period = ${this.#heartbeatMs * 1_000_000}`, (err) => {
      if (err && this.#zongji === z) this.#lost(z, err);
    });
  }

  #resumePoint(): StartPoint {
    if (this.#applied) return { kind: 'position', at: this.#applied };
    if (!this.#start) throw new Error('BinlogStream used before start()');
    return this.#start;
  }

  #lost(z: ZongJi, err: Error): void {
    if (this.#stopping || this.#zongji !== z) return;
    const first = this.#firstConnect;
    if (first) {
      // The first connection failed (or went silent): refuse to start rather than retry quietly.
      this.#firstConnect = null;
      void this.stop().then(() => first.reject(err));
      return;
    }
    this.#zongji = null;
    void teardown(z);
    this.#assembler.reset();
    this.#setConnected(false);
    const delay = Math.min(this.#backoffMaxMs, this.#backoffFirstMs * 2 ** this.#attempt) * (0.75 + Math.random() / 2);
    this.#attempt++;
    const requested = (err as { code?: string }).code === 'ROTOR_BINLOG_DISCONNECT';
    // ER_MASTER_FATAL_ERROR_READING_BINLOG: the position is gone (RESET MASTER, purged files).
    const positionGone = (err as { errno?: number }).errno === 1236;
    this.#log[requested ? 'info' : 'warn']({ err: err.message, code: (err as { code?: string }).code, retryInMs: Math.round(delay) }, 'binlog connection lost');
    if (!requested) this.#emitError(err);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#stopping) return;
      if (positionGone) void this.#restartFromEnd(err.message);
      else this.#connect();
    }, delay);
  }

  /**
   * [note: binlog-reset] The upstream's binlog no longer holds the position the stream would
   * resume from: what happened between that position and now cannot be read, and the new binlog's
   * positions do not compare with the old ones. The sink drops everything it held (it refills
   * from MariaDB on demand), every wait for an old position ends unreached, and the stream starts
   * again from the upstream's current end. Pinned by test/binlog/reset-master.test.ts.
   */
  async #restartFromEnd(why: string): Promise<void> {
    let probe;
    try {
      probe = await binlogStart(this.#url);
    } catch (err) {
      if (this.#stopping) return;
      this.#log.warn({ err: (err as Error).message }, 'binlog restart: the upstream cannot be asked for its end yet');
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = null;
        if (!this.#stopping) void this.#restartFromEnd(why);
      }, this.#backoffMaxMs);
      return;
    }
    if (this.#stopping) return;
    this.#binlogResets++;
    this.#log.warn({ reason: why, from: formatPosition(probe.end) }, 'the binlog no longer holds Rotor\'s position (RESET MASTER or purged files): every cache is emptied and streaming resumes from the upstream\'s end');
    this.#applied = null;
    this.#caughtUp = null;
    this.#gtids.clear();
    this.#gtids.noteAll(probe.gtid);
    this.#start = { kind: 'position', at: probe.end };
    this.#lag.renumbered();
    this.#assembler.reset();
    this.#waiters.endAll();
    this.#sink.reset?.(why);
    this.#connect();
  }

  #checkAlive(): void {
    const z = this.#zongji;
    if (!z || this.#stopping) return;
    const now = Date.now();
    if (this.#heard > 0) {
      this.#heard = 0;
      this.#lastHeard = now;
    }
    // A late tick means this process was busy (a long batch, GC): the socket may hold data not
    // read yet, so the silence is ours, not the upstream's. Start counting again.
    if (now - this.#lastTick > this.#heartbeatMs) this.#lastHeard = now;
    this.#lastTick = now;
    const silentMs = now - this.#lastHeard;
    const limit = this.#connected ? 3 * this.#heartbeatMs + 250 : Math.max(CONNECT_TIMEOUT_MS, 3 * this.#heartbeatMs + 250);
    if (silentMs > limit) {
      this.#lost(z, Object.assign(new Error(`no event or heartbeat from the upstream for ${silentMs} ms`), { code: 'ROTOR_BINLOG_SILENT' }));
    }
  }

  // Everything up to `position` is applied (a group's end, an event between groups, a heartbeat).
  #reached(position: BinlogPosition): void {
    if (this.#caughtUp !== null && comparePositions(position, this.#caughtUp) <= 0) return;
    this.#caughtUp = position;
    this.#lag.reached(position);
    this.#sink.advance?.(position);
    this.#waiters.check();
  }

  // One query at a time (SamplePacing) on a connection of its own; a failure drops the connection
  // and the next tick opens another (the upstream may be restarting: supervision reports it).
  async #sampleEnd(): Promise<void> {
    if (!this.#connected || this.#stopping) return;
    try {
      // Taken before asking: the upstream's end cannot be behind what was applied before it.
      const applied = this.#caughtUp;
      const asked = performance.now();
      const end = await this.#sampler.sample();
      if (end !== null) {
        if (applied !== null && comparePositions(end, applied) < 0 && this.#zongji !== null) {
          // [note: binlog-reset] The binlog went back (RESET MASTER recreated the file the stream
          // is reading, which it keeps waiting on): what the stream holds no longer exists.
          const z = this.#zongji;
          this.#lost(z, Object.assign(new Error(`the upstream's binlog ends at ${formatPosition(end)}, before ${formatPosition(applied)} which was applied`), { errno: 1236 }));
          return;
        }
        this.#lag.sample(end, performance.now(), asked);
      }
    } catch {
      // The sampler dropped its connection; the next tick opens another.
    }
  }

  #setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    if (!connected) this.#lag.reset();
    this.emit(connected ? 'connected' : 'disconnected');
  }

  #isReplay(position: BinlogPosition): boolean {
    return this.#applied !== null && comparePositions(position, this.#applied) <= 0;
  }

  #onBatch(batch: Batch): void {
    if (this.#isReplay(batch.position)) return;
    try {
      this.#sink.applyBatch(batch);
    } catch (err) {
      this.#log.error({ err, position: formatPosition(batch.position) }, 'the sink failed to apply a batch');
      this.#emitError(err as Error);
    }
    if (this.#observed) this.emit('batch', batch);
  }

  #onSchemaChange(change: SchemaChange): void {
    if (this.#isReplay(change.position)) return;
    this.#log.info({ kind: change.kind, database: change.database, tables: change.tables }, 'schema change');
    try {
      this.#sink.applySchemaChange(change);
    } catch (err) {
      this.#log.error({ err, position: formatPosition(change.position) }, 'the sink failed to apply a schema change');
      this.#emitError(err as Error);
    }
    this.emit('schema', change);
  }

  #onGroupEnd(position: BinlogPosition, gtid: string | null): void {
    if (this.#isReplay(position)) return;
    this.#applied = position;
    if (gtid) this.#gtids.note(gtid);
    this.#reached(position);
  }

  #emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

function describe(p: StartPoint): string {
  return p.kind === 'gtid' ? `gtid ${p.gtid}` : formatPosition(p.at);
}
