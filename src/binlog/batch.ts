/**
 * What the binlog delivers to the engine: one {@link Batch} per committed upstream transaction, and
 * {@link SchemaChange}s for DDL. Positions order everything.
 *
 * [note: fill-position] A batch's `position` is the binlog position just after its commit event.
 * `SHOW MASTER STATUS`, read inside a transaction that holds share locks on every row an upquery
 * read, is a position such that every transaction touching those rows is either at or before it
 * (and inside the answer) or after it (and not). So a batch with
 * `comparePositions(batch.position, fill) <= 0` is already inside a fill taken at `fill`, and one
 * with a greater position must be applied on top of it. How fills honour this
 * (replay of held batches, per-key fences while the stream is behind): src/dataflow/upquery.ts.
 */
import type { Delta } from '../dataflow/delta.js';

export interface BinlogPosition {
  /** Binlog file name, e.g. `mariadb-bin.000003`. */
  readonly file: string;
  /** Byte offset in that file. */
  readonly position: number;
}

/** Orders positions: by the file's numeric suffix, then by offset. */
export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  if (a.file !== b.file) {
    const fa = fileIndex(a.file), fb = fileIndex(b.file);
    if (fa !== fb) return fa < fb ? -1 : 1;
    return a.file < b.file ? -1 : 1;
  }
  return a.position - b.position;
}

function fileIndex(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  return m ? Number(m[1]) : 0;
}

export function formatPosition(p: BinlogPosition): string {
  return `${p.file}:${p.position}`;
}

/** The row changes of one table inside one transaction. */
export interface TableChange {
  readonly database: string;
  readonly table: string;
  /** Column names in ordinal order; every delta's row follows this order. */
  readonly columns: ReadonlyArray<string>;
  readonly deltas: ReadonlyArray<Delta>;
}

/** One committed upstream transaction. Delivered only once its commit has been read. */
export interface Batch {
  /** MariaDB GTID `domain-server-seq` (or MySQL `uuid:n`), when the upstream has one. */
  readonly gtid: string | null;
  /** Position just after the commit event. See [note: fill-position]. */
  readonly position: BinlogPosition;
  /** Upstream commit time, ms since the epoch (the upstream's clock). */
  readonly timestamp: number;
  readonly changes: ReadonlyArray<TableChange>;
}

/** DDL seen in the stream. `table` is null for statements Rotor could not attribute to a table. */
export interface SchemaChange {
  /**
   * `privileges`: GRANT, REVOKE, account and role changes, FLUSH PRIVILEGES (no tables). `dml`: rows
   * changed by a statement logged as a statement, with no row events [note: statement-dml].
   * No tables: any table of `database`, or of every database when `database` is ''.
   */
  readonly kind: 'alter' | 'rename' | 'drop' | 'truncate' | 'create' | 'other' | 'privileges' | 'dml';
  readonly database: string;
  readonly tables: ReadonlyArray<string>;
  readonly statement: string;
  readonly position: BinlogPosition;
  readonly gtid: string | null;
}

/** The engine side of the stream. Both calls are synchronous and MUST NOT await. */
export interface BinlogSink {
  applyBatch(batch: Batch): void;
  applySchemaChange(change: SchemaChange): void;
  /**
   * Everything up to `position` has been applied: called after every group (with or without
   * row changes) and for events between groups (rotations, heartbeats), so a position read from
   * `SHOW MASTER STATUS` is reached even when no batch ends exactly there.
   */
  advance?(position: BinlogPosition): void;
  /**
   * The binlog no longer holds the stream's position (RESET MASTER, purged files): drop every
   * state derived from it; positions start again in a new numbering. [note: binlog-reset]
   */
  reset?(reason: string): void;
}
