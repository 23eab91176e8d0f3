/**
 * Batches and positions: one {@link Batch} per committed upstream transaction, the unit the
 * dataflow applies atomically, and the binlog positions that order batches and fills. The binlog
 * (src/binlog/) produces them; the dataflow, the operators and the views consume them, so they live
 * here, below all of them.
 *
 * [note: fill-position] A batch's `position` is the binlog position just after its commit event
 * (the end of its XID or COMMIT event, in the file that event is in). An upquery's position is
 * one such that every transaction touching its rows is either at or before it (and inside the
 * answer) or after it (and not): a consistent snapshot's `Binlog_snapshot_file`/`_position` (the
 * end of the last transaction committed into the snapshot), or `SHOW MASTER STATUS` read inside a
 * transaction that holds share locks on every row the upquery read. So a batch with
 * `comparePositions(batch.position, fill) <= 0` is already inside a fill taken at `fill`, and one
 * with a greater position must be applied on top of it. How fills honour this
 * (replay of held batches, per-key fences while the stream is behind): src/dataflow/upquery.ts.
 */
import type { Delta } from './delta.js';

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
