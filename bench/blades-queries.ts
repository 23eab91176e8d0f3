/**
 * The rotating-blades benchmark's schema and queries, shared by the coordinator
 * (bench/blades.ts) and its load workers (bench/blades-worker.ts).
 */

/**
 * Every contender, in the order they run. `pipe` is `direct` through a bare Node TCP pipe
 * (bench/lib/pipe-relay.ts, on Rotor's CPU under `--pin`): what any relay in front of MariaDB costs
 * this application, the floor under `rotor`. It runs only when asked for.
 */
export const CONTENDERS = ['direct', 'pipe', 'rotor', 'ttl-cache', 'rotor-count'] as const;
export type Contender = (typeof CONTENDERS)[number];

/** The contenders run when none are named. */
export const DEFAULT_CONTENDERS: ReadonlyArray<Contender> = ['direct', 'rotor', 'ttl-cache', 'rotor-count'];

/** True for contenders whose clients connect to Rotor only. */
export function viaRotor(c: Contender): boolean {
  return c === 'rotor' || c === 'rotor-count';
}

export const SCHEMA = [
  'DROP TABLE IF EXISTS fan_of',
  'DROP TABLE IF EXISTS fan_count',
  'CREATE TABLE fan_of (user_id BIGINT, item_id BIGINT, PRIMARY KEY (user_id, item_id), INDEX (item_id)) ENGINE=InnoDB',
  'CREATE TABLE fan_count (item_id BIGINT PRIMARY KEY, fans BIGINT) ENGINE=InnoDB',
] as const;

/** Query 1 as registered with Rotor (the `?` form) for each Rotor contender. */
export const READ_COUNT_CACHE: Readonly<Record<'rotor' | 'rotor-count', string>> = {
  rotor: 'SELECT fans FROM fan_count WHERE item_id = ?',
  'rotor-count': 'SELECT COUNT(*) FROM fan_of WHERE item_id = ?',
};

/** Query 2 as registered with Rotor. */
export const CHECK_FAN_CACHE = 'SELECT user_id FROM fan_of WHERE user_id = ? AND item_id = ?';

/** Query 1 with the item inlined, as an application would send it. */
export function readCountSql(c: Contender, item: number): string {
  return c === 'rotor-count'
    ? `SELECT COUNT(*) FROM fan_of WHERE item_id = ${item}`
    : `SELECT fans FROM fan_count WHERE item_id = ${item}`;
}

export function checkFanSql(user: number, item: number): string {
  return `SELECT user_id FROM fan_of WHERE user_id = ${user} AND item_id = ${item}`;
}

/** The statements of query 3 between BEGIN and COMMIT; rotor-count keeps no fan_count. */
export function becomeFanSql(c: Contender, user: number, item: number): string[] {
  const insert = `INSERT INTO fan_of VALUES (${user}, ${item})`;
  return c === 'rotor-count' ? [insert] : [insert, `UPDATE fan_count SET fans = fans + 1 WHERE item_id = ${item}`];
}

/** Redis key of the ttl-cache contender's cached count. */
export function ttlKey(item: number): string {
  return `blades:fans:${item}`;
}

/** MariaDB errors that roll back and restart an iteration: deadlock, lock-wait timeout. */
export const RETRYABLE_ERRNOS: ReadonlySet<number> = new Set([1213, 1205]);

/** The per-query latency names used in results. */
export const QUERY_NAMES = ['read_count', 'check_fan', 'become_fan'] as const;
export type QueryName = (typeof QUERY_NAMES)[number];
