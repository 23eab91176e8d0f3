/**
 * Replication lag to the millisecond.
 *
 * Binlog event timestamps have whole-second resolution, so a lag computed from them saw-tooths
 * between 0 and 1000 ms. Instead the stream samples the upstream's binlog end (`SHOW MASTER
 * STATUS`) every few milliseconds, and the lag is the age of the oldest sample the stream has not
 * yet applied: the upstream had written that position when the sample came back, and Rotor still
 * has not applied it. Both ends of that age are read on the local monotonic clock, so clock skew
 * between the hosts does not enter; the resolution is the sampling period.
 */
import { comparePositions, type BinlogPosition } from '../dataflow/batch.js';

interface Sample {
  readonly at: BinlogPosition;
  /** performance.now() when the upstream reported `at`. */
  readonly t: number;
}

export class LagMeter {
  #samples: Sample[] = [];
  #head = 0;
  #reached: BinlogPosition | null = null;

  /** True while a sample waits to be reached: the stream only reports positions then. */
  get waiting(): boolean {
    return this.#head < this.#samples.length;
  }

  /** The upstream's binlog ended at `end` at time `t`. */
  sample(end: BinlogPosition, t = performance.now()): void {
    if (this.#reached !== null && comparePositions(end, this.#reached) <= 0) return;
    const last = this.#samples[this.#samples.length - 1];
    // The same end again: the oldest sighting is what dates the lag.
    if (this.waiting && last !== undefined && comparePositions(end, last.at) <= 0) return;
    this.#samples.push({ at: end, t });
  }

  /** Everything up to `position` has been applied (a group's end, a heartbeat, an idle event). */
  reached(position: BinlogPosition): void {
    if (this.#reached === null || comparePositions(position, this.#reached) > 0) this.#reached = position;
    while (this.#head < this.#samples.length && comparePositions(this.#samples[this.#head].at, this.#reached) <= 0) this.#head++;
    if (this.#head === this.#samples.length) {
      this.#samples = [];
      this.#head = 0;
    }
  }

  /** Age of the oldest sample not yet applied, or 0. */
  lagMs(now = performance.now()): number {
    return this.waiting ? Math.max(0, Math.round(now - this.#samples[this.#head].t)) : 0;
  }

  /** Forgets every sample (the connection was lost; the next one starts afresh). */
  reset(): void {
    this.#samples = [];
    this.#head = 0;
  }
}
