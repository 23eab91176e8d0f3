/**
 * Reassembles MySQL packets from arbitrary TCP chunks. A logical packet is one frame, or several
 * when its payload is 16 MiB or more (every frame but the last carries exactly 0xFFFFFF bytes).
 *
 * Each packet comes with its payload and its raw bytes (headers included) so that a relay can
 * forward it verbatim. A packet that fits in one chunk is a zero-copy view of that chunk: callers
 * MUST consume (or copy) it before the next `push()`.
 */
import { MAX_FRAME } from './constants.js';

export interface Packet {
  /** Sequence id of the packet's first frame. */
  readonly seq: number;
  readonly payload: Buffer;
  /** The packet as it arrived, frame headers included. */
  readonly raw: Buffer;
}

/** The client announced a payload above the configured maximum. */
export class PacketTooLarge extends Error {
  constructor(readonly length: number) {
    super(`packet of ${length} bytes exceeds the limit`);
    this.name = 'PacketTooLarge';
  }
}

export class PacketFramer {
  readonly #maxPacket: number;
  #partial: Buffer | null = null; // bytes of an incomplete frame (header included)
  #partialFill = 0;
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

  /** True when no partial packet is buffered. */
  get idle(): boolean {
    return this.#partial === null && this.#headerFill === 0 && this.#frames.length === 0;
  }

  /** Feeds a chunk; calls `onPacket` for every packet it completes. Throws {@link PacketTooLarge}. */
  push(chunk: Buffer, onPacket: (p: Packet) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#partial !== null) {
        const n = Math.min(this.#partial.length - this.#partialFill, chunk.length - pos);
        chunk.copy(this.#partial, this.#partialFill, pos, pos + n);
        this.#partialFill += n;
        pos += n;
        if (this.#partialFill < this.#partial.length) return;
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
        this.#checkSize(len);
        const frame = Buffer.allocUnsafe(4 + len);
        header.copy(frame, 0);
        this.#partial = frame;
        this.#partialFill = 4;
        if (len === 0) {
          this.#partial = null;
          this.#frame(frame, onPacket);
        }
        continue;
      }
      const len = chunk.readUIntLE(pos, 3);
      this.#checkSize(len);
      if (chunk.length - pos >= 4 + len) {
        const frame = chunk.subarray(pos, pos + 4 + len);
        pos += 4 + len;
        this.#frame(frame, onPacket);
      } else {
        this.#partial = Buffer.allocUnsafe(4 + len);
        this.#partialFill = chunk.length - pos;
        chunk.copy(this.#partial, 0, pos);
        return;
      }
    }
  }

  #checkSize(frameLen: number): void {
    if (this.#framesBytes + frameLen > this.#maxPacket) throw new PacketTooLarge(this.#framesBytes + frameLen);
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
