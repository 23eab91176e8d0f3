/**
 * Seeded mutation of protocol bytes, shared by the decoder fuzz tests and the end-to-end protocol
 * fuzz (test/proxy/fuzz.test.ts). A run takes its seed from ROTOR_FUZZ_SEED or picks one; every
 * failure message carries it, so `ROTOR_FUZZ_SEED=<seed>` replays the run.
 */
import { seededRandom } from '../../support/seeded-random.js';

/** The seed of this run and how many cases a fuzz test runs (ROTOR_FUZZ_CASES overrides `byDefault`). */
export function fuzzRun(byDefault: number): { seed: number; cases: number } {
  const seed = process.env.ROTOR_FUZZ_SEED ? Number(process.env.ROTOR_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
  const cases = process.env.ROTOR_FUZZ_CASES ? Number(process.env.ROTOR_FUZZ_CASES) : byDefault;
  return { seed, cases };
}

/** Length-encoded integer prefixes and other bytes that mean something to a MySQL parser. */
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff];

export class Mutator {
  readonly #rnd: () => number;

  constructor(seed: number) {
    this.#rnd = seededRandom(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#rnd() * n);
  }

  chance(p: number): boolean {
    return this.#rnd() < p;
  }

  pick<T>(xs: ReadonlyArray<T>): T {
    return xs[this.int(xs.length)];
  }

  /** Random bytes, biased towards the interesting ones. */
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.chance(0.3) ? this.pick(INTERESTING) : this.int(256);
    return b;
  }

  /** A length-encoded integer that claims far more than any packet holds. */
  hugeLenenc(): Buffer {
    return this.pick([
      Buffer.from([0xfc, 0xff, 0xff]),
      Buffer.from([0xfd, 0xff, 0xff, 0xff]),
      Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0xfe, 0, 0, 0, 0, 0, 0, 0x20, 0]),
      Buffer.from([0xfe, 0xff]), // cut short
    ]);
  }

  /** One to four edits of `input`: bit flips, interesting bytes, truncation, insertion, deletion, huge lengths. */
  mutate(input: Buffer): Buffer {
    let b = Buffer.from(input);
    const edits = 1 + this.int(4);
    for (let e = 0; e < edits; e++) {
      const at = b.length === 0 ? 0 : this.int(b.length);
      switch (this.int(7)) {
        case 0:
          if (b.length) b[at] ^= 1 << this.int(8);
          break;
        case 1:
          if (b.length) b[at] = this.pick(INTERESTING);
          break;
        case 2:
          b = b.subarray(0, at);
          break;
        case 3:
          b = Buffer.concat([b.subarray(0, at), this.bytes(1 + this.int(8)), b.subarray(at)]);
          break;
        case 4:
          b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + this.int(8)))]);
          break;
        case 5:
          b = Buffer.concat([b.subarray(0, at), this.hugeLenenc(), b.subarray(at)]);
          break;
        default:
          b = Buffer.concat([b, this.bytes(this.int(16))]);
      }
    }
    return b;
  }
}
