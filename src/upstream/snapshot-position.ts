/**
 * The binlog position of a consistent snapshot, read so that no other session's value is taken
 * for it.
 *
 * [note: snapshot-position] MariaDB (and Percona Server) name a consistent snapshot's position in
 * the status variables `Binlog_snapshot_file` and `Binlog_snapshot_position`, but compute them, at
 * each status read of any session, into one pair of process-wide buffers that the reading session
 * then copies out: a session whose status read overlaps another's can be shown the other
 * session's value — another snapshot's position, or, for a session without a snapshot, the
 * binlog's committed end. The value is right for the snapshot only when no other session reads
 * binlog status at that instant. Measured on MariaDB 10.11 against `mariadb-binlog` (4 sessions
 * taking snapshots concurrently under 4 writers): 14 of 2,918 positions were another session's,
 * both older and newer than the snapshot; read one session at a time, 0 of 2,096. A fill installed
 * at a wrong position counts a batch twice or never ([note: fill-position]). So Rotor:
 *   - reads the position of one snapshot at a time in a process ({@link inPositionTurn}), so its
 *     own sessions never overlap one another's status reads;
 *   - evaluates the variables twice in one statement ({@link READ_POSITION_TWICE}) and takes the
 *     position only when both evaluations agree: another session's status read (another Rotor
 *     worker or instance, a monitoring client) overlapping one of them shows a different value in
 *     it ({@link snapshotPosition} says `torn`, and the fill takes a new snapshot).
 * What stays possible: another session's status reads overlapping both evaluations of one
 * statement and showing the same wrong value in both. Measured beside 4 writers, with two other
 * sessions reading status in a tight loop (one of them inside snapshots): 4 readers one at a time
 * (a lock standing in for the turn), 0 of 5,426 positions taken were wrong and 51 torn reads were
 * caught; 4 readers overlapping freely, 0 of 2,972 wrong, 32 caught. Pinned by
 * test/binlog/fill-position.test.ts ("concurrent snapshot reads") and
 * test/upstream/snapshot-position.test.ts.
 */
import type { BinlogPosition } from '../dataflow/batch.js';

let turn: Promise<unknown> = Promise.resolve();

/**
 * Runs `read` (one status read) after every status read this process started before it has
 * finished: the snapshot sessions of one Rotor never overlap one another's.
 */
export function inPositionTurn<T>(read: () => Promise<T>): Promise<T> {
  const mine = turn.then(read, read);
  turn = mine.catch(() => undefined);
  return mine;
}

const NAMES = "VARIABLE_NAME IN ('BINLOG_SNAPSHOT_FILE', 'BINLOG_SNAPSHOT_POSITION')";

/**
 * The snapshot variables, each evaluated twice: two references to information_schema's status
 * table are filled one after the other, each by its own status read. Rows: evaluation (1 or 2),
 * name, value.
 */
export const READ_POSITION_TWICE =
  `SELECT 1, VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE ${NAMES}` +
  ` UNION ALL SELECT 2, VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE ${NAMES}`;

/**
 * What the double read said: the position (null: the binary log is off), `none` (the server has
 * no snapshot position: MySQL), or `torn` (the evaluations disagree, or one is incomplete:
 * another session's status read overlapped, and the value cannot be trusted).
 */
export type PositionRead =
  | { readonly kind: 'position'; readonly position: BinlogPosition | null }
  | { readonly kind: 'none' }
  | { readonly kind: 'torn' };

/** Reads the rows of {@link READ_POSITION_TWICE}. */
export function snapshotPosition(rows: ReadonlyArray<ReadonlyArray<unknown>>): PositionRead {
  if (rows.length === 0) return { kind: 'none' };
  const evaluations = new Map<string, { file?: string; position?: string }>();
  for (const [n, name, value] of rows) {
    const e = evaluations.get(String(n)) ?? {};
    evaluations.set(String(n), e);
    const v = value === null || value === undefined ? '' : String(value);
    if (String(name).toLowerCase() === 'binlog_snapshot_file') e.file = v;
    else if (String(name).toLowerCase() === 'binlog_snapshot_position') e.position = v;
  }
  const [a, b] = [evaluations.get('1'), evaluations.get('2')];
  if (a === undefined || b === undefined || evaluations.size !== 2) return { kind: 'torn' };
  if (a.file === undefined || a.position === undefined || a.file !== b.file || a.position !== b.position) return { kind: 'torn' };
  if (!/^\d+$/.test(a.position)) return { kind: 'torn' };
  // An empty file name: the binary log is off.
  return { kind: 'position', position: a.file === '' ? null : { file: a.file, position: Number(a.position) } };
}
