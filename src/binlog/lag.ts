/**
 * Replication lag to the millisecond.
 *
 * Binlog event timestamps have whole-second resolution, so a lag computed from them saw-tooths
 * between 0 and 1000 ms. Instead the stream samples the upstream's binlog end (`SHOW MASTER
 * STATUS`), and the lag is the age of the oldest sample the stream has not yet applied: the
 * upstream had written that position when the sample came back, and Rotor still has not applied
 * it. Both ends of that age are read on the local monotonic clock, so clock skew between the hosts
 * does not enter; the resolution is the sampling period.
 *
 * That age is a lower bound of the staleness. The staleness bound needs the upper one
 * ({@link LagMeter.stalenessMs}): the age of the newest sample known applied, dated when it was
 * asked. The upstream's end when the question left cannot be past the end it answered, so once
 * that end is applied, everything the upstream had written by then is too. [note: staleness-bound]
 */
import { comparePositions, type BinlogPosition } from '../dataflow/batch.js';

interface Sample {
  readonly at: BinlogPosition;
  /** performance.now() when the upstream reported `at`. */
  readonly t: number;
  /** performance.now() when the newest question answered with `at` was sent. */
  asked: number;
}

export class LagMeter {
  #samples: Sample[] = [];
  #head = 0;
  #reached: BinlogPosition | null = null;
  // When the newest sample known applied was asked: everything the upstream had then is applied.
  #provenAt = -Infinity;

  /** True while a sample waits to be reached: the stream only reports positions then. */
  get waiting(): boolean {
    return this.#head < this.#samples.length;
  }

  /** The upstream's binlog ended at `end` at time `t`, asked at `asked` (default `t`). */
  sample(end: BinlogPosition, t = performance.now(), asked = t): void {
    if (this.#reached !== null && comparePositions(end, this.#reached) <= 0) {
      this.#prove(asked);
      return;
    }
    const last = this.#samples[this.#samples.length - 1];
    // The same end again: the oldest sighting is what dates the lag.
    if (this.waiting && last !== undefined && comparePositions(end, last.at) <= 0) {
      // ...but the newest asking is what proves the most once it is applied.
      if (asked > last.asked) last.asked = asked;
      return;
    }
    this.#samples.push({ at: end, t, asked });
  }

  /** Everything up to `position` has been applied (a group's end, a heartbeat, an idle event). */
  reached(position: BinlogPosition): void {
    if (this.#reached === null || comparePositions(position, this.#reached) > 0) this.#reached = position;
    while (this.#head < this.#samples.length && comparePositions(this.#samples[this.#head].at, this.#reached) <= 0) {
      this.#prove(this.#samples[this.#head].asked);
      this.#head++;
    }
    if (this.#head === this.#samples.length) {
      this.#samples = [];
      this.#head = 0;
    }
  }

  /** Age of the oldest sample not yet applied, or 0: the staleness is at least this. */
  lagMs(now = performance.now()): number {
    return this.waiting ? Math.max(0, Math.round(now - this.#samples[this.#head].t)) : 0;
  }

  /**
   * The staleness is at most this: the age of the newest applied sample, from when it was asked;
   * Infinity before the first. It grows while nothing is sampled, so a read after an idle spell is
   * judged by how old its proof is, not by a lag of 0 that nobody measured.
   */
  stalenessMs(now = performance.now()): number {
    return Math.max(0, now - this.#provenAt);
  }

  /**
   * Forgets every sample (the connection was lost; the next one starts afresh). The last proof
   * stays: what it proved was applied still is, and its age keeps growing.
   */
  reset(): void {
    this.#samples = [];
    this.#head = 0;
  }

  /** A new binlog numbering (RESET MASTER): positions reached before it mean nothing now. */
  renumbered(): void {
    this.reset();
    this.#reached = null;
  }

  #prove(asked: number): void {
    if (asked > this.#provenAt) this.#provenAt = asked;
  }
}
