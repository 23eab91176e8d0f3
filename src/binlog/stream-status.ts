/** What a binlog stream reports of itself: its status and the events it read (src/binlog/stream.ts). */

/** What the `'event'` observability event carries for every binlog event read. */
export interface StreamEvent {
  readonly name: string;
  readonly file: string | null;
  /** Position after the event, as the upstream wrote it (0 for artificial events). */
  readonly nextPosition: number;
}

export interface BinlogStatus {
  readonly connected: boolean;
  /** Times the upstream's binlog no longer held the stream's position (RESET MASTER, purged files). [note: binlog-reset] */
  readonly binlogResets: number;
  /**
   * The applied GTID position: MariaDB's `domain-server-seq` of the last applied group per domain
   * (comma-separated, as `@@gtid_binlog_pos`), MySQL's last GTID; null when none is known.
   */
  readonly gtid: string | null;
  readonly file: string | null;
  readonly position: number | null;
  /**
   * How far behind the upstream the applied state is: the age of the oldest sample of the
   * upstream's binlog end not yet applied (src/binlog/lag.ts), to the sampling period. Null while
   * disconnected.
   */
  readonly lagMs: number | null;
  /** Events received but not yet applied (the open transaction's). */
  readonly lagEvents: number;
  /** Successful reconnections since start. */
  readonly reconnects: number;
}
