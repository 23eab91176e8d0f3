/**
 * The recent-transaction log: the last batches the stream delivered, bounded by count and bytes,
 * so that a fill taken at a snapshot position can be brought up to date by replaying every batch
 * after that position ([note: fill-position]: an upquery's answer is exact at the binlog position
 * it was read at, and the batches after it are applied on top).
 *
 * The log covers a position when no batch after it has been evicted: from the position of the
 * newest evicted batch (or the stream's start position) onwards.
 */
import type { Value } from '../values.js';
import { comparePositions, type Batch, type BinlogPosition } from '../dataflow/batch.js';

/**
 * How much the log keeps. It must cover the slowest fill (an upquery's round trip), and every
 * batch it holds is kept alive past V8's young generation: measured in bench/binlog.ts, 10,000
 * retained batches raised commit → batch p99 several-fold through GC, 2,000 did not.
 */
export interface RecentLogLimits {
  /** Most batches kept. Default 2,000 (a second at 2,000 transactions/s). */
  readonly maxBatches?: number;
  /** Most (estimated) bytes kept. Default 32 MiB. */
  readonly maxBytes?: number;
}

interface Entry {
  readonly batch: Batch;
  readonly bytes: number;
}

export class RecentLog {
  readonly #maxBatches: number;
  readonly #maxBytes: number;
  // A ring would save the shift; batches are appended at most tens of thousands of times a second
  // and evicted in order, so an array with a moving head is enough.
  #entries: Entry[] = [];
  #head = 0;
  #bytes = 0;
  #floor: BinlogPosition | null = null;

  constructor(limits: RecentLogLimits = {}) {
    this.#maxBatches = Math.max(1, limits.maxBatches ?? 2_000);
    this.#maxBytes = Math.max(1, limits.maxBytes ?? 32 * 1024 * 1024);
  }

  /** Batches held now. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Estimated bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The oldest position the log still covers, or null before the stream has started. */
  get floor(): BinlogPosition | null {
    return this.#floor;
  }

  /** Sets where the log's coverage begins when the stream starts (nothing before it was logged). */
  startAt(position: BinlogPosition): void {
    if (this.size === 0 && (!this.#floor || comparePositions(position, this.#floor) > 0)) this.#floor = position;
  }

  /** Appends a batch; batches MUST arrive in binlog order. Evicts the oldest beyond the limits. */
  append(batch: Batch): void {
    const bytes = estimateBytes(batch);
    this.#entries.push({ batch, bytes });
    this.#bytes += bytes;
    while (this.size > 1 && (this.size > this.#maxBatches || this.#bytes > this.#maxBytes)) {
      const e = this.#entries[this.#head];
      this.#head++;
      this.#bytes -= e.bytes;
      this.#floor = e.batch.position;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  /** True when every batch after `position` is still in the log. */
  covers(position: BinlogPosition): boolean {
    return this.#floor !== null && comparePositions(position, this.#floor) >= 0;
  }

  /**
   * The batches strictly after `position`, oldest first; null when the log no longer covers it
   * (the caller MUST then retry its fill). A position after the newest batch gives `[]`: batches
   * up to it are still to come, so a fill at such a position MUST wait for them first
   * (`BinlogStream.waitForPosition`) or skip them when they arrive.
   */
  batchesAfter(position: BinlogPosition): Batch[] | null {
    if (!this.covers(position)) return null;
    const out: Batch[] = [];
    // Binary search for the first batch after `position`.
    let lo = this.#head, hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePositions(this.#entries[mid].batch.position, position) <= 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.#entries.length; i++) out.push(this.#entries[i].batch);
    return out;
  }

  /** Calls `fn` for every batch strictly after `position`; false (and no calls) when not covered. */
  replayAfter(position: BinlogPosition, fn: (batch: Batch) => void): boolean {
    const batches = this.batchesAfter(position);
    if (!batches) return false;
    for (const b of batches) fn(b);
    return true;
  }

  /** Drops everything: the log covers nothing until {@link startAt} is called again. */
  clear(): void {
    this.#entries = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#floor = null;
  }
}

function valueBytes(v: Value): number {
  if (v === null) return 8;
  if (typeof v === 'string') return 16 + v.length * 2;
  if (Buffer.isBuffer(v)) return 32 + v.length;
  return 16;
}

/** A rough heap estimate of a batch: enough to bound memory, not to account for it exactly. */
export function estimateBytes(batch: Batch): number {
  let n = 128;
  for (const c of batch.changes) {
    n += 96;
    for (const d of c.deltas) {
      n += 48;
      for (const v of d.row) n += valueBytes(v);
    }
  }
  return n;
}
