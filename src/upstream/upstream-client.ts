/**
 * Rotor's own connection pools to the upstream: upqueries read in a consistent snapshot at its
 * binlog position (one pool; a locking read where the server cannot name a snapshot's position),
 * table schemas from information_schema, binlog positions and the exact column definitions of a
 * registered query's result (the other, src/upstream/schema-reads.ts).
 */
import type mysql from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FieldPacket } from 'mysql2';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { SnapshotReader, SnapshotResult } from '../dataflow/upquery.js';
import type { BinlogPosition } from '../dataflow/batch.js';
import type { Row } from '../dataflow/delta.js';
import type { TableSchema } from '../planner/schema.js';
import type { ViewDefinition } from '../planner/index.js';
import type { CollationEntry } from '../dataflow/collation.js';
import type { Value } from '../values.js';
import { normalizeMysql2Row } from './mysql2-values.js';
import { createPool } from './connections.js';
import { binlogEnd } from './binlog-status.js';
import * as schema from './schema-reads.js';
import { READ_POSITION_TWICE, inPositionTurn, snapshotPosition } from './snapshot-position.js';

export { toColumnDefinition } from './schema-reads.js';

/** How long an upquery waits for a writer's row locks, and how often a lock conflict is retried. */
const LOCK_WAIT_SECONDS = 10;
const LOCK_RETRIES = 10;
/**
 * Upquery connections per kind of read, at most. Fills of different keys run at once up to this
 * many: `bench:vote` (1M votes, 32 clients, fills on the reads' path) served 4,895 ops/s with 4
 * locking-read connections and 7,235 with 12 in one session's runs; snapshot fills did not gain
 * (1,936 and 1,732: the position reads take turns, [note: snapshot-position]).
 */
const UPQUERY_CONNECTIONS = 8;

/**
 * [note: upquery-literals] Upqueries carry key values as literals written by `sqlLiteral`
 * (src/dataflow/sql.ts): quotes, backslashes and NUL escaped with backslashes, in utf8mb4. That
 * writing is exact only where a backslash escapes and `"` quotes a string, so every upquery
 * connection pins its `sql_mode` at connect time to the upstream's global mode without the flags
 * that change how Rotor's own text parses, and the pool never runs more than one statement per
 * request (no `multipleStatements`): a value that somehow ended its literal could not start a
 * second statement. Pinned by test/e2e/injection.test.ts.
 */
const PARSE_MODES = ['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES', 'PIPES_AS_CONCAT', 'IGNORE_SPACE', 'HIGH_NOT_PRECEDENCE', 'ORACLE', 'MSSQL', 'DB2', 'POSTGRESQL', 'MAXDB', 'ANSI', 'MYSQL323', 'MYSQL40'];
/**
 * [note: value-representation] A flag that changes how values read: with PAD_CHAR_TO_FULL_LENGTH a
 * CHAR reads padded to its length, as the binlog never has it. Fills drop it (caches over CHARs do
 * not answer while the upstream's global mode has it: src/views/schema-refresh.ts).
 */
const VALUE_MODES = ['PAD_CHAR_TO_FULL_LENGTH'];
const PINNED_SQL_MODE = `TRIM(BOTH ',' FROM REGEXP_REPLACE(@@GLOBAL.sql_mode, '(?<=^|,)(${[...PARSE_MODES, ...VALUE_MODES].join('|')})(,|$)', ''))`;

/**
 * Snapshot upquery connections: UTC values, the pinned sql_mode, REPEATABLE READ (a consistent
 * snapshot is one only at that level).
 */
const SNAPSHOT_SETUP = [
  `SET time_zone = '+00:00', innodb_lock_wait_timeout = ${LOCK_WAIT_SECONDS}, sql_mode = ${PINNED_SQL_MODE}`,
  'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ',
];

/** Locking upquery connections: the same, SERIALIZABLE, transactions left open until COMMIT. */
const LOCKING_SETUP = [
  `SET time_zone = '+00:00', innodb_lock_wait_timeout = ${LOCK_WAIT_SECONDS}, autocommit = 0, sql_mode = ${PINNED_SQL_MODE}`,
  'SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE',
];

/**
 * How an upquery learns the binlog position its rows are exact at ([note: fill-position]):
 * - `snapshot`: `START TRANSACTION WITH CONSISTENT SNAPSHOT` and the snapshot's own binlog position
 *   (`Binlog_snapshot_file`/`Binlog_snapshot_position`, MariaDB and Percona Server). Takes no row
 *   lock: no writer waits for a fill;
 * - `locking`: a SERIALIZABLE read, which share-locks what it reads (gap locks for absent keys),
 *   then the binlog's end under those locks. For servers that cannot name a snapshot's position
 *   (MySQL: it has no `Binlog_snapshot_*` status).
 */
export type FillRead = 'snapshot' | 'locking';

export interface UpstreamClientOptions {
  /** Upquery connections (default 4). */
  /** Connections per kind of upquery (default {@link UPQUERY_CONNECTIONS}). */
  readonly connectionLimit?: number;
  /**
   * Default: `snapshot` where the server names a snapshot's position (MariaDB), else `locking`
   * (MySQL); a server without snapshot positions reads `locking` whatever is asked. `snapshot`
   * takes no lock (fills replay the batches past the snapshot's position:
   * [note: snapshot-behind-stream]; its position is read as [note: snapshot-position] says).
   */
  readonly fillRead?: FillRead;
}

/** Control connections (schemas, column definitions, binlog positions): UTC, the upstream's own sql_mode. */
const CONTROL_SETUP = [`SET time_zone = '+00:00'`];

/**
 * Worth another try: ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT (a locking read met a writer),
 * ER_TABLE_DEF_CHANGED (a snapshot older than a table's last DDL).
 */
function isRetryable(e: unknown): boolean {
  const errno = (e as { errno?: number }).errno;
  return errno === 1213 || errno === 1205 || errno === 1412;
}

/**
 * A snapshot's position could not be trusted ([note: snapshot-position]: another session's status
 * read overlapped one of its two evaluations): the snapshot is taken again.
 */
const TORN = Symbol('torn');

/** Snapshots taken again for a torn position before the fill reads with locks instead. */
const TORN_RETRIES = 5;

/** information_schema has no status tables here (MySQL 5.7+): no snapshot position either. */
function noStatusTable(e: unknown): boolean {
  const errno = (e as { errno?: number }).errno;
  return errno === 1109 || errno === 3167;
}

export class UpstreamClient implements SnapshotReader {
  readonly #url: string;
  readonly #connectionLimit: number;
  #snapshots: mysql.Pool | null = null;
  #locking: mysql.Pool | null = null;
  readonly #control: mysql.Pool;
  // Null until the first upquery has asked the server (or the caller chose).
  #fillRead: FillRead | null;

  constructor(url: string, opts: UpstreamClientOptions = {}) {
    this.#url = url;
    this.#connectionLimit = opts.connectionLimit ?? UPQUERY_CONNECTIONS;
    this.#fillRead = opts.fillRead ?? null;
    this.#control = createPool(url, 2, CONTROL_SETUP);
  }

  /** Snapshot positions not taken because another session's status read overlapped ([note: snapshot-position]). */
  tornPositions = 0;
  #snapshotReads = 0;
  #lockingReads = 0;

  /** Upqueries run at once (each pool's connections; [note: miss-batching]). */
  get concurrency(): number {
    return this.#connectionLimit;
  }

  /** How fills have read so far (/api/status). */
  fillReads(): { read: FillRead | null; snapshotReads: number; lockingReads: number; tornPositions: number } {
    return { read: this.#fillRead, snapshotReads: this.#snapshotReads, lockingReads: this.#lockingReads, tornPositions: this.tornPositions };
  }

  /** How upqueries read ({@link FillRead}); null before the first when the server decides. */
  get fillRead(): FillRead | null {
    return this.#fillRead;
  }

  /**
   * Runs `sql` and returns its rows with the binlog position they are exact at
   * ([note: fill-position]): in a consistent snapshot where the server names the snapshot's
   * position, else (or when `locking` is asked) as a locking read. A lock conflict, or a snapshot
   * older than a table's definition, is retried.
   */
  async snapshotQuery(sql: string, locking = false): Promise<SnapshotResult> {
    let torn = 0;
    for (let attempt = 1; ; ) {
      try {
        if (locking || this.#fillRead === 'locking' || torn >= TORN_RETRIES) return await this.#lockingRead(sql);
        const r = await this.#snapshotRead(sql);
        if (r === TORN) {
          torn++;
          this.tornPositions++;
          continue;
        }
        if (r !== undefined) {
          this.#fillRead ??= 'snapshot';
          this.#snapshotReads++;
          return r;
        }
        // No Binlog_snapshot_* status: a snapshot's position cannot be known here (MySQL).
        this.#fillRead = 'locking';
        return await this.#lockingRead(sql);
      } catch (e) {
        if (attempt >= LOCK_RETRIES || !isRetryable(e)) throw e;
        await sleep(Math.random() * 5 * attempt);
        attempt++;
      }
    }
  }

  /**
   * [note: complete-state] A read of a whole state: always in a consistent snapshot, whatever the
   * fills' read (a locking read of a whole table would hold back every writer to it); null when
   * the server has no snapshot positions, or they would not hold still.
   */
  async wholeSnapshot(sql: string): Promise<SnapshotResult | null> {
    for (let torn = 0, attempt = 1; ; ) {
      try {
        const r = await this.#snapshotRead(sql);
        if (r === undefined) return null;
        if (r !== TORN) {
          this.#snapshotReads++;
          return r;
        }
        this.tornPositions++;
        if (++torn >= TORN_RETRIES) return null;
      } catch (e) {
        if (attempt >= LOCK_RETRIES || !isRetryable(e)) throw e;
        await sleep(Math.random() * 5 * attempt);
        attempt++;
      }
    }
  }

  /**
   * `START TRANSACTION WITH CONSISTENT SNAPSHOT` fixes, at one instant, both the InnoDB read view
   * and the binlog position of the last transaction committed into it (MariaDB takes both under
   * the lock that orders commits, so a transaction is inside the snapshot exactly when it ends at
   * or before that position), which the session then reads from its status
   * ([note: snapshot-position]: one session of this process at a time, evaluated twice). The
   * query reads that view and locks no row. Three round trips on the reader's path (one statement
   * per request, [note: upquery-literals]), the COMMIT off it. Undefined when the server has no
   * snapshot position (nothing was read); {@link TORN} when the position cannot be trusted.
   */
  async #snapshotRead(sql: string): Promise<SnapshotResult | undefined | typeof TORN> {
    this.#snapshots ??= createPool(this.#url, this.#connectionLimit, SNAPSHOT_SETUP);
    const conn = await this.#snapshots.getConnection();
    let status: unknown[][], results: Value[][], fields: FieldPacket[];
    try {
      const begun = conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      const read = conn.query({ sql, rowsAsArray: true });
      [, [results, fields]] = await Promise.all([begun, read]) as unknown as [unknown, [Value[][], FieldPacket[]]];
      // The snapshot's position is fixed since START: it is read after the query, one session of
      // this process at a time.
      [status] = await inPositionTurn(() => conn.query({ sql: READ_POSITION_TWICE, rowsAsArray: true })) as unknown as [unknown[][]];
    } catch (e) {
      // A failed statement can leave the transaction open: this connection is not reused.
      conn.destroy();
      if (noStatusTable(e)) return undefined;
      throw e;
    }
    conn.query('COMMIT').then(() => conn.release(), () => conn.destroy());
    const position = snapshotPosition(status);
    if (position.kind === 'none') return undefined;
    if (position.kind === 'torn') return TORN;
    return { rows: results.map((r) => normalizeMysql2Row(fields, r) as Row), position: position.position };
  }

  /**
   * SERIALIZABLE turns every read of the statement (derived tables and UNION branches included)
   * into a shared-locking read of the latest committed rows. While those locks are held no
   * transaction that would change the answer can commit, and every one that did is already in the
   * binlog (InnoDB commits after the binlog write), so the binlog's end (`SHOW MASTER STATUS`, MySQL
   * 8.4: `SHOW BINARY LOG STATUS`) read under the locks, on the same connection in the same
   * transaction, splits the transactions that touch the answer exactly. The connection runs with
   * autocommit off, so the read opens the transaction and the COMMIT after the position releases
   * its locks: two round trips on the reader's path, the COMMIT off it. Writers to what it read
   * (and to the gaps of absent keys) wait for that COMMIT.
   */
  async #lockingRead(sql: string): Promise<SnapshotResult> {
    this.#locking ??= createPool(this.#url, this.#connectionLimit, LOCKING_SETUP);
    const conn = await this.#locking.getConnection();
    let results: Value[][], fields: FieldPacket[], position: BinlogPosition | null;
    try {
      [results, fields] = (await conn.query({ sql, rowsAsArray: true })) as unknown as [Value[][], FieldPacket[]];
      position = await binlogEnd(conn);
    } catch (e) {
      conn.destroy();
      throw e;
    }
    conn.query('COMMIT').then(() => conn.release(), () => conn.destroy());
    this.#lockingReads++;
    return { rows: results.map((r) => normalizeMysql2Row(fields, r) as Row), position, locked: true };
  }

  /** Where the upstream's binlog ends now, or null without a binlog. */
  binlogEnd(): Promise<BinlogPosition | null> {
    return binlogEnd(this.#control);
  }

  globalSettings(): Promise<schema.GlobalSettings> {
    return schema.globalSettings(this.#control);
  }

  collation(name: string): Promise<CollationEntry> {
    return schema.collation(this.#control, name);
  }

  tableRefusal(database: string, table: string): Promise<string | null> {
    return schema.tableRefusal(this.#control, database, table);
  }

  loadTable(database: string, table: string): Promise<TableSchema | null> {
    return schema.loadTable(this.#control, database, table);
  }

  viewDefinition(database: string, table: string): Promise<ViewDefinition | null> {
    return schema.viewDefinition(this.#control, database, table);
  }

  /** The result column definitions MariaDB sends for `sql` (run with `LIMIT 0` by the caller). */
  columnDefinitions(sql: string, database: string | null): Promise<ColumnDefinition[]> {
    return schema.columnDefinitions(this.#control, sql, database);
  }

  async close(): Promise<void> {
    await Promise.all([this.#snapshots?.end(), this.#locking?.end(), this.#control.end()]);
  }
}
