/**
 * Fills of a range cache's intervals ([note: range-state]): the hole a read ran into, asked of
 * MariaDB and installed at the binlog position the answer is exact at, by the rules of a keyed
 * fill ([note: fill-position], src/dataflow/upquery.ts): the batches the log holds past that
 * position are replayed onto the filled interval only (the rest of the partition has them
 * already), a fill the log cannot vouch for is read again with locks, and while the stream is
 * behind the position the interval is fenced so that the batches the fill holds do not count
 * twice. Requests for the same hole share one upquery.
 */
import type { Row } from './delta.js';
import type { StatefulOperator } from './operator.js';
import { comparePositions, type BinlogPosition } from './batch.js';
import { describeInterval, type Interval } from './intervals.js';
import { keyString } from './state.js';
import type { SnapshotResult, Upqueries } from './upquery.js';

/** A range upquery's SQL and the installer of its rows, which returns the interval they cover (null: none). */
export interface RangeQuery {
  readonly sql: string;
  install(rows: ReadonlyArray<Row>): Interval | null;
}

/** What a range fill needs of the node it fills (src/operators/range-reader.ts). */
export interface RangeFillable {
  /** The upquery of `gap` in partition `keyRow`: at most `rows` rows in the read's direction (null: all). */
  rangeQuery(keyRow: Row, gap: Interval, rows: number | null): RangeQuery;
  /** Runs `replay` with the batches it applies restricted to `iv` of partition `keyRow`. */
  replaying(keyRow: Row, iv: Interval, replay: () => void): void;
  /** Batches up to `at` skip `iv` of partition `keyRow` (the fill holds them). */
  fenceRange(keyRow: Row, iv: Interval, at: BinlogPosition): void;
}

/** The most rows one fill of a LIMIT-bounded read asks for, however many tie at its cut. */
const MAX_FILL_ROWS = 100_000;

const inFlight = new WeakMap<object, Map<string, Promise<boolean>>>();

/**
 * Fills `gap` of partition `keyRow` of `node`: at least `need` rows from its start in the read's
 * direction, or all of it (`need` null). Resolves to true when some of it was covered.
 */
export function fillRange(upq: Upqueries, node: StatefulOperator & RangeFillable, keyRow: Row, gap: Interval, need: number | null): Promise<boolean> {
  let flights = inFlight.get(node);
  if (flights === undefined) inFlight.set(node, (flights = new Map()));
  const id = `${keyString(keyRow, node.state.fold)}\u0002${describeInterval(gap)}\u0002${String(need)}`;
  const shared = flights.get(id);
  if (shared !== undefined) return shared;
  const f = flights;
  const p = run(upq, node, keyRow, gap, need).finally(() => f.delete(id));
  f.set(id, p);
  return p;
}

async function run(upq: Upqueries, node: StatefulOperator & RangeFillable, keyRow: Row, gap: Interval, need: number | null): Promise<boolean> {
  let locking = false;
  // One more row than needed tells where the covered part may end; ties at the cut ask for more.
  let rows = need === null ? null : Math.min(MAX_FILL_ROWS, (need + 1) * PREFETCH_FACTOR);
  for (let attempt = 0; ; attempt++) {
    const query = node.rangeQuery(keyRow, gap, rows);
    const token = upq.log.begin();
    const generation = upq.generation;
    let result: SnapshotResult;
    try {
      upq.stats.upqueries++;
      if (locking) upq.stats.locking++;
      result = await upq.upstream.snapshotQuery(query.sql, locking);
    } catch (e) {
      upq.log.end(token);
      throw e;
    }
    // Nothing awaits from here on: install, replay and fence happen between two batches. [note: fill-position]
    const pos = result.position;
    if (result.locked !== true) upq.log.keepTail = true;
    const later = pos === null ? [] : upq.log.after(token, pos);
    upq.log.end(token);
    if (generation !== upq.generation) throw new Error('the cache was invalidated while filling');
    if (later === null) {
      // [note: snapshot-behind-stream] The log cannot vouch for this fill: read it again with locks.
      if (attempt < 3) { locking = true; continue; }
      throw new Error('too many binlog events while filling');
    }
    upq.stats.rows += result.rows.length;
    const iv = query.install(result.rows);
    if (iv === null) {
      // Every row returned has the value at the cut: nothing is known to be whole yet.
      if (rows !== null && rows < MAX_FILL_ROWS && attempt < 8) { rows = Math.min(MAX_FILL_ROWS, rows * 4); continue; }
      return false;
    }
    if (pos !== null) {
      if (upq.newestFill === null || comparePositions(pos, upq.newestFill) > 0) upq.newestFill = pos;
      if (later.length > 0) node.replaying(keyRow, iv, () => upq.graph.replay(node, [keyRow], later));
      upq.stats.replayed += later.length;
      if (upq.lastApplied === null || comparePositions(upq.lastApplied, pos) < 0) {
        node.fenceRange(keyRow, iv, pos);
        upq.stats.fenced++;
      }
    }
    return true;
  }
}

/** A LIMIT-bounded fill brings this many times the rows its read needs: the next pages come with it. */
const PREFETCH_FACTOR = 2;
