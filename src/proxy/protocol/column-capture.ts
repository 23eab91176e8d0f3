/**
 * Reads the column definitions at the head of a result set while its bytes are relayed verbatim:
 * the way Rotor learns what MariaDB would send for a new spelling of a cached query, from the
 * client's own session, without running anything as Rotor's own account. It stops looking at the
 * response once the definitions are complete (rows are never framed) and gives up on anything
 * that is not a result set.
 */
import { decodeColumnDefinition } from './column-codec.js';
import type { ColumnDefinition } from './column-definition.js';
import { PacketFramer, type Packet } from './framer.js';
import { PacketReader } from './packet-reader.js';

/** A result with more columns than this is not captured. */
const MAX_COLUMNS = 4096;

export class ColumnCapture {
  readonly #framer = new PacketFramer(1 << 20);
  readonly #extendedMetadata: boolean;
  readonly #deliver: (defs: ReadonlyArray<ColumnDefinition>) => void;
  #count = -1;
  readonly #defs: ColumnDefinition[] = [];
  #done = false;

  constructor(extendedMetadata: boolean, deliver: (defs: ReadonlyArray<ColumnDefinition>) => void) {
    this.#extendedMetadata = extendedMetadata;
    this.#deliver = deliver;
  }

  /** Feeds relayed response bytes; true once the capture is over (delivered or given up). */
  feed(chunk: Buffer): boolean {
    if (this.#done) return true;
    try {
      this.#framer.push(chunk, (p) => this.#packet(p));
    } catch {
      this.#done = true;
    }
    return this.#done;
  }

  #packet(p: Packet): void {
    if (this.#done) return;
    const payload = p.payload;
    if (this.#count < 0) {
      // OK, ERR, a local-infile request, or an empty packet: no result set to learn from.
      const first = payload[0];
      if (payload.length === 0 || first === 0x00 || first === 0xff || first === 0xfb) {
        this.#done = true;
        return;
      }
      const n = new PacketReader(payload).lenenc();
      if (n <= 0 || n > MAX_COLUMNS) this.#done = true;
      else this.#count = n;
      return;
    }
    this.#defs.push(decodeColumnDefinition(Buffer.from(payload), this.#extendedMetadata));
    if (this.#defs.length === this.#count) {
      this.#done = true;
      this.#deliver(this.#defs);
    }
  }
}
