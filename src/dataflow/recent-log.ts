/**
 * The recent log: the batches a fill may not have seen, kept while upqueries are out
 * (src/dataflow/upquery.ts replays them onto what the fills install).
 */
import { comparePositions, type Batch, type BinlogPosition } from './batch.js';

/**
 * [note: snapshot-behind-stream] The batches a fill may not have seen. A batch reaches Rotor when
 * its transaction is in the binlog, which MariaDB writes (and streams to replicas) before the
 * transaction commits in InnoDB — `rpl_semi_sync_master_wait_point=AFTER_SYNC` waits for a
 * replica's acknowledgement in between — so the stream can apply a transaction that a consistent
 * snapshot taken after that does not yet contain (its `Binlog_snapshot_position` ends before it).
 * So a fill replays every applied batch past its snapshot's position, including batches applied
 * just before the fill began: once a fill has read a snapshot, the log keeps a tail of the latest
 * batches (bounded in batches, row changes and the bytes of their rows: a write of large documents
 * must not pin gigabytes the memory budget does not see), everything applied while an upquery is
 * out (up to a bound in batches and bytes, past which those upqueries are given up), and remembers
 * the newest batch it let go. A fill whose position is older than a batch let go before it began
 * cannot be made exact from the log and is read again with locks
 * (a locking read waits for such a transaction's commit). Pinned by test/dataflow/graph.test.ts
 * ("recent log") and test/views/race.test.ts (both fill reads).
 */
export class RecentLog {
  #entries: Batch[] = [];
  /** Sequence number of `#entries[0]`. */
  #firstSeq = 0;
  /** Row changes and the (estimated) bytes of their rows, per entry and in all of `#entries`. */
  #sizes: Array<{ readonly deltas: number; readonly bytes: number }> = [];
  #deltas = 0;
  #bytes = 0;
  /** The newest batch no longer held, or null. */
  #letGo: BinlogPosition | null = null;
  /**
   * Each open upquery: the first sequence number it may need (the tail's at its start), the log's
   * end when it began, and the newest batch let go before it began.
   */
  readonly #open = new Map<number, { readonly start: number; readonly began: number; readonly before: BinlogPosition | null }>();
  #token = 0;
  /** Batches {@link after} handed over that were recorded before their upquery began. */
  earlier = 0;

  /**
   * `limit`/`limitBytes`: batches (and bytes of their rows) held for an open upquery before it is
   * given up (its fill retried); `tail`/`tailDeltas`/`tailBytes`: how many of the latest batches
   * (their row changes, the bytes of their rows) are held anyway.
   */
  /**
   * Whether the tail is kept while no upquery is out: set by the first fill read from a snapshot
   * (a locking read contains every batch applied before it began, so it needs none).
   */
  keepTail = false;

  constructor(readonly limit = 100_000, readonly tail = 1_000, readonly tailDeltas = 50_000, readonly limitBytes = 256 << 20, readonly tailBytes = 16 << 20) {}

  /** Starts covering an upquery; returns its token. */
  begin(): number {
    const t = ++this.#token;
    this.#open.set(t, { start: this.#firstSeq, began: this.#firstSeq + this.#entries.length, before: this.#letGo });
    return t;
  }

  record(batch: Batch): void {
    if (!this.keepTail && this.#open.size === 0) {
      // No fill can use it (only locking reads so far): no work per batch beyond remembering the
      // newest one let go, so a first snapshot fill that may lack it is read again with locks.
      if (this.#entries.length > 0) this.#letGoBefore(this.#firstSeq + this.#entries.length);
      this.#letGo = batch.position;
      return;
    }
    const size = sizeOf(batch);
    this.#entries.push(batch);
    this.#sizes.push(size);
    this.#deltas += size.deltas;
    this.#bytes += size.bytes;
    const end = this.#firstSeq + this.#entries.length;
    if (this.#open.size > 0 && (end - this.#oldestOpen() > this.limit || this.#bytes > this.limitBytes)) {
      // Given up: their fills are read again.
      this.#open.clear();
      this.#letGoBefore(end);
      return;
    }
    // Trimmed to the tail once it holds twice that: amortized constant work per batch.
    if (this.#entries.length > 2 * this.tail || this.#deltas > 2 * this.tailDeltas || this.#bytes > 2 * this.tailBytes) this.#trim();
  }

  /**
   * The batches recorded after `position` that an upquery begun at `token` may not contain, or
   * null when the log cannot say: it gave the upquery up, or had let go of a batch after
   * `position` before the upquery began.
   */
  after(token: number, position: BinlogPosition): ReadonlyArray<Batch> | null {
    const open = this.#open.get(token);
    if (open === undefined) return null;
    if (open.before !== null && comparePositions(open.before, position) > 0) return null;
    // The log is in stream order: the batches past `position` are its last ones.
    let i = this.#entries.length;
    const first = open.start - this.#firstSeq;
    while (i > first && comparePositions(this.#entries[i - 1].position, position) > 0) i--;
    this.earlier += Math.max(0, open.began - this.#firstSeq - i);
    return this.#entries.slice(i);
  }

  end(token: number): void {
    this.#open.delete(token);
    if (this.#entries.length > this.tail || this.#deltas > this.tailDeltas || this.#bytes > this.tailBytes) this.#trim();
  }

  get length(): number {
    return this.#entries.length;
  }

  /** The estimated bytes of the rows held. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The binlog starts again in a new numbering ([note: binlog-reset]): no batch held compares with
   * the positions to come, and the upqueries out are given up.
   */
  reset(): void {
    this.#firstSeq += this.#entries.length;
    this.#entries = [];
    this.#sizes = [];
    this.#deltas = 0;
    this.#bytes = 0;
    this.#letGo = null;
    this.#open.clear();
  }

  /** Lets go of what neither the tail nor an open upquery needs. */
  #trim(): void {
    let keep = 0, deltas = 0, bytes = 0;
    while (keep < this.#entries.length && keep < this.tail) {
      const size = this.#sizes[this.#sizes.length - 1 - keep];
      deltas += size.deltas;
      bytes += size.bytes;
      if ((deltas > this.tailDeltas || bytes > this.tailBytes) && keep > 0) break;
      keep++;
    }
    this.#letGoBefore(Math.min(this.#firstSeq + this.#entries.length - keep, this.#oldestOpen()));
  }

  /** The first sequence number an open upquery needs (the end of the log when none is open). */
  #oldestOpen(): number {
    let min = this.#firstSeq + this.#entries.length;
    for (const o of this.#open.values()) min = Math.min(min, o.start);
    return min;
  }

  #letGoBefore(seq: number): void {
    const drop = seq - this.#firstSeq;
    if (drop <= 0) return;
    for (let i = 0; i < drop; i++) {
      this.#deltas -= this.#sizes[i].deltas;
      this.#bytes -= this.#sizes[i].bytes;
    }
    this.#letGo = this.#entries[drop - 1].position;
    this.#entries = this.#entries.slice(drop);
    this.#sizes = this.#sizes.slice(drop);
    this.#firstSeq = seq;
  }
}

/** A batch's row changes, and roughly the bytes its rows take (text and buffers by length). */
function sizeOf(b: Batch): { deltas: number; bytes: number } {
  let deltas = 0, bytes = 0;
  for (const c of b.changes) {
    deltas += c.deltas.length;
    for (const d of c.deltas) {
      bytes += 32 + 8 * d.row.length;
      for (const v of d.row) if (typeof v === 'string' || Buffer.isBuffer(v)) bytes += v.length;
    }
  }
  return { deltas, bytes };
}
