/**
 * Reassembles MySQL packets from arbitrary TCP chunks. A logical packet is one frame, or several
 * when its payload is 16 MiB or more (every frame but the last carries exactly 0xFFFFFF bytes).
 *
 * Each packet comes with its payload and its raw bytes (headers included) so that a relay can
 * forward it verbatim. A packet that fits in one chunk is a zero-copy view of that chunk: callers
 * MUST consume (or copy) it before the next `push()`.
 *
 * [note: framer-memory] What the framer holds is bounded by the bytes that actually arrived, never
 * by the length a header declares: a frame's buffer starts small and at most doubles as its bytes
 * come, so a client that announces 16 MiB and sends ten bytes costs a few hundred bytes, and no
 * packet grows past the limit (`maxPacket`). Pinned by test/proxy/protocol/fuzz.test.ts and
 * test/proxy/fuzz.test.ts.
 */
import { MAX_FRAME } from './constants.js';

export interface Packet {
  /** Sequence id of the packet's first frame. */
  readonly seq: number;
  readonly payload: Buffer;
  /** The packet as it arrived, frame headers included. */
  readonly raw: Buffer;
}

/** The client announced a payload above the configured maximum, in a frame with sequence id `seq`. */
export class PacketTooLarge extends Error {
  constructor(readonly length: number, readonly seq: number) {
    super(`packet of ${length} bytes exceeds the limit`);
    this.name = 'PacketTooLarge';
  }
}

/** The first buffer of an incomplete frame: enough for any login packet or short command. */
const FIRST_CAPACITY = 512;

export class PacketFramer {
  #maxPacket: number;
  #partial: Buffer | null = null; // bytes of an incomplete frame (header included); may be shorter than the frame
  #partialFill = 0;
  #partialLength = 0; // the whole frame's length, header included
  // Only a frame header split across chunks needs this; allocated then, since thousands of idle
  // sessions each hold two framers.
  #header: Buffer | null = null;
  #headerFill = 0;
  #frames: Buffer[] = []; // complete raw frames of a multi-frame packet
  #framesBytes = 0;

  /** @param maxPacket the largest logical payload accepted (default 1 GiB, MariaDB's ceiling). */
  constructor(maxPacket = 1 << 30) {
    this.#maxPacket = maxPacket;
  }

  /** The largest logical payload accepted from now on (a session raises it once a client has logged in). */
  get maxPacket(): number {
    return this.#maxPacket;
  }

  set maxPacket(n: number) {
    this.#maxPacket = n;
  }

  /** True when no partial packet is buffered. */
  get idle(): boolean {
    return this.#partial === null && this.#headerFill === 0 && this.#frames.length === 0;
  }

  /** Bytes held for an incomplete packet (buffer capacity included). [note: framer-memory] */
  get bufferedBytes(): number {
    return (this.#partial?.length ?? 0) + this.#framesBytes + 4 * this.#frames.length + this.#headerFill;
  }

  /** Feeds a chunk; calls `onPacket` for every packet it completes. Throws {@link PacketTooLarge}. */
  push(chunk: Buffer, onPacket: (p: Packet) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#partial !== null) {
        const n = Math.min(this.#partialLength - this.#partialFill, chunk.length - pos);
        this.#append(chunk, pos, n);
        pos += n;
        if (this.#partialFill < this.#partialLength) return;
        const frame = this.#partial;
        this.#partial = null;
        this.#frame(frame, onPacket);
        continue;
      }
      if (this.#headerFill > 0 || chunk.length - pos < 4) {
        const header = (this.#header ??= Buffer.alloc(4));
        const n = Math.min(4 - this.#headerFill, chunk.length - pos);
        chunk.copy(header, this.#headerFill, pos, pos + n);
        this.#headerFill += n;
        pos += n;
        if (this.#headerFill < 4) return;
        this.#headerFill = 0;
        const len = header.readUIntLE(0, 3);
        this.#checkSize(len, header[3]);
        if (len === 0) {
          this.#frame(Buffer.from(header), onPacket);
          continue;
        }
        this.#start(4 + len, header, 0, 4);
        continue;
      }
      const len = chunk.readUIntLE(pos, 3);
      this.#checkSize(len, chunk[pos + 3]);
      if (chunk.length - pos >= 4 + len) {
        const frame = chunk.subarray(pos, pos + 4 + len);
        pos += 4 + len;
        this.#frame(frame, onPacket);
      } else {
        this.#start(4 + len, chunk, pos, chunk.length - pos);
        return;
      }
    }
  }

  /** Begins an incomplete frame of `length` bytes with the `n` bytes of `src` at `from`. */
  #start(length: number, src: Buffer, from: number, n: number): void {
    this.#partialLength = length;
    this.#partial = Buffer.allocUnsafe(Math.min(length, Math.max(FIRST_CAPACITY, 2 * n)));
    this.#partialFill = 0;
    this.#append(src, from, n);
  }

  /** Appends to the incomplete frame, at most doubling its buffer. [note: framer-memory] */
  #append(src: Buffer, from: number, n: number): void {
    let buf = this.#partial as Buffer;
    const need = this.#partialFill + n;
    if (need > buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.#partialLength, Math.max(need, 2 * buf.length)));
      buf.copy(grown, 0, 0, this.#partialFill);
      buf = grown;
      this.#partial = grown;
    }
    src.copy(buf, this.#partialFill, from, from + n);
    this.#partialFill = need;
  }

  #checkSize(frameLen: number, seq: number): void {
    if (this.#framesBytes + frameLen > this.#maxPacket) throw new PacketTooLarge(this.#framesBytes + frameLen, seq);
  }

  #frame(frame: Buffer, onPacket: (p: Packet) => void): void {
    const len = frame.length - 4;
    if (len === MAX_FRAME || this.#frames.length > 0) {
      this.#frames.push(frame);
      this.#framesBytes += len;
      if (len === MAX_FRAME) return;
      const frames = this.#frames;
      this.#frames = [];
      this.#framesBytes = 0;
      const payload = Buffer.concat(frames.map((f) => f.subarray(4)));
      onPacket({ seq: frames[0][3], payload, raw: Buffer.concat(frames) });
      return;
    }
    onPacket({ seq: frame[3], payload: frame.subarray(4), raw: frame });
  }
}
