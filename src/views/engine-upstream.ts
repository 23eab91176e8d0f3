/**
 * What the engine needs from the upstream besides upqueries: the seam between views/ and
 * src/upstream/upstream-client.ts, and the one tests replace.
 */
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import type { BinlogPosition } from '../dataflow/batch.js';
import type { SnapshotReader } from '../dataflow/upquery.js';
import type { CollationEntry } from '../dataflow/collation.js';
import type { TableSchema } from '../planner/schema.js';
import type { ViewDefinition } from '../planner/index.js';

/** Test seam: what the engine needs from MySQL besides upqueries. */
export interface EngineUpstream extends SnapshotReader {
  loadTable(database: string, table: string): Promise<TableSchema | null>;
  /** The view's definition, or null when `table` is not a view; throws ERR_CACHE_UNSUPPORTED when Rotor's account cannot read it. [note: view-expansion] */
  viewDefinition(database: string, table: string): Promise<ViewDefinition | null>;
  binlogEnd(): Promise<BinlogPosition | null>;
  columnDefinitions(sql: string, database: string | null): Promise<ColumnDefinition[]>;
  /**
   * Why the binlog cannot keep a cache over this table exact (a view, a system-versioned table, a
   * table that is not InnoDB, a child of a cascading foreign key), or null.
   */
  tableRefusal(database: string, table: string): Promise<string | null>;
  /** The upstream's `@@GLOBAL.sql_mode`, its global time zone (`SYSTEM` resolved), `div_precision_increment`, `group_concat_max_len` and default isolation. */
  globalSettings(): Promise<{ sqlMode: string; timeZone: string; divPrecisionIncrement: number; groupConcatMaxLen: number; isolation: string }>;
  /** Collation `name`'s weights, or why Rotor does not reproduce it ([note: collations]). */
  collation(name: string): Promise<CollationEntry>;
  close(): Promise<void>;
  /** How fills have read so far (/api/status), when the upstream counts them. */
  fillReads?(): FillReads;
}

/** How fills read the upstream: the mode, and how many reads of each kind ([note: snapshot-position]). */
export interface FillReads {
  /** `snapshot`, `locking`, or null before the first fill when the server decides. */
  readonly read: 'snapshot' | 'locking' | null;
  readonly snapshotReads: number;
  readonly lockingReads: number;
  /** Snapshot positions not trusted (another session's status read overlapped): taken again. */
  readonly tornPositions: number;
}
