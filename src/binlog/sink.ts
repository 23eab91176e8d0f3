/**
 * What the binlog delivers to the engine besides batches (src/dataflow/batch.ts): the
 * {@link SchemaChange}s it reads for DDL, and the {@link BinlogSink} the engine implements to
 * receive both.
 */
import type { Batch, BinlogPosition } from '../dataflow/batch.js';

/** DDL seen in the stream. `table` is null for statements Rotor could not attribute to a table. */
export interface SchemaChange {
  /**
   * `privileges`: GRANT, REVOKE, account and role changes, FLUSH PRIVILEGES (no tables). `dml`: rows
   * changed by a statement logged as a statement, with no row events [note: statement-dml]. `view`:
   * a view created, replaced, altered or dropped, `tables` the views named [note: view-expansion].
   * No tables: any table of `database`, or of every database when `database` is ''.
   */
  readonly kind: 'alter' | 'rename' | 'drop' | 'truncate' | 'create' | 'other' | 'privileges' | 'dml' | 'view';
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
