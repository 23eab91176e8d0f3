/**
 * Reads the column definitions at the head of a result set while its bytes are relayed verbatim:
 * the way Rotor learns what MariaDB would send for a new spelling of a cached query, from the
 * client's own session, without running anything as Rotor's own account. With `firstRow`, it also
 * reads the first text-protocol row (a probe's answer). It stops looking at the response once it
 * has what it wants (other rows are never framed) and gives up on anything that is not a result
 * set.
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
  readonly #firstRow: ((values: ReadonlyArray<string | null>) => void) | null;
  /** Without DEPRECATE_EOF an EOF packet follows the definitions. */
  readonly #eofAfterColumns: boolean;
  #count = -1;
  readonly #defs: ColumnDefinition[] = [];
  #eofSeen = false;
  #done = false;

  constructor(
    extendedMetadata: boolean,
    deliver: (defs: ReadonlyArray<ColumnDefinition>) => void,
    firstRow?: { readonly deprecateEof: boolean; readonly deliver: (values: ReadonlyArray<string | null>) => void },
  ) {
    this.#extendedMetadata = extendedMetadata;
    this.#deliver = deliver;
    this.#firstRow = firstRow?.deliver ?? null;
    this.#eofAfterColumns = firstRow !== undefined && !firstRow.deprecateEof;
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
    if (this.#defs.length < this.#count) {
      this.#defs.push(decodeColumnDefinition(Buffer.from(payload), this.#extendedMetadata));
      if (this.#defs.length === this.#count) {
        this.#deliver(this.#defs);
        if (this.#firstRow === null) this.#done = true;
      }
      return;
    }
    if (this.#eofAfterColumns && !this.#eofSeen) {
      this.#eofSeen = true;
      return;
    }
    this.#done = true;
    // An EOF or OK terminator (0xFE, short) instead of a row: the result is empty.
    if (payload[0] === 0xfe && payload.length < 0xffffff) return;
    const r = new PacketReader(payload);
    const values: Array<string | null> = [];
    for (let i = 0; i < this.#count; i++) {
      if (payload[r.pos] === 0xfb) {
        r.skip(1);
        values.push(null);
      } else {
        values.push(r.lenencString());
      }
    }
    this.#firstRow?.(values);
  }
}
