/**
 * Builds one or more MySQL packets into a single buffer, so that a whole response leaves in one
 * `write()`: a response split over several writes meets Nagle's algorithm and the peer's delayed
 * ACK, which measured up to 100× slower per response.
 *
 * Usage: `begin(seq)`, write primitives, `end()`; repeat; `finish()` returns the bytes. A payload
 * of 16 MiB or more is split into 0xFFFFFF-byte frames (and an empty trailing frame when it is an
 * exact multiple), each with the next sequence id, as the protocol requires.
 */
import { MAX_FRAME } from './constants.js';

export class PacketWriter {
  #buf: Buffer;
  #pos = 0;
  #start = -1;
  #seq = 0;

  constructor(initial = 256) {
    this.#buf = Buffer.allocUnsafe(initial);
  }

  /** The sequence id the next packet gets when `begin()` is called without one. */
  get nextSeq(): number {
    return this.#seq;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  /** Starts a packet with sequence id `seq` (default: the one after the previous packet). */
  begin(seq: number = this.#seq): this {
    this.#seq = seq & 0xff;
    this.#ensure(4);
    this.#start = this.#pos;
    this.#pos += 4;
    return this;
  }

  /** Ends the current packet: writes its header(s), splitting a payload of 16 MiB or more. */
  end(): this {
    const start = this.#start;
    const len = this.#pos - start - 4;
    if (len < MAX_FRAME) {
      this.#buf.writeUIntLE(len, start, 3);
      this.#buf[start + 3] = this.#seq;
      this.#seq = (this.#seq + 1) & 0xff;
    } else {
      const payload = Buffer.from(this.#buf.subarray(start + 4, this.#pos));
      this.#pos = start;
      let off = 0;
      for (;;) {
        const n = Math.min(MAX_FRAME, payload.length - off);
        this.#ensure(4 + n);
        this.#buf.writeUIntLE(n, this.#pos, 3);
        this.#buf[this.#pos + 3] = this.#seq;
        this.#seq = (this.#seq + 1) & 0xff;
        payload.copy(this.#buf, this.#pos + 4, off, off + n);
        this.#pos += 4 + n;
        off += n;
        if (n < MAX_FRAME) break;
      }
    }
    this.#start = -1;
    return this;
  }

  /** The bytes written so far (a copy-free view; the writer must not be reused afterwards). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }

  /**
   * Appends whole packets given one char per byte (a latin1 string: each packet's 4-byte header and
   * its payload, no payload of 16 MiB or more), renumbering their sequence ids from `seq`; the next
   * packet gets the id after the last of them.
   */
  packets(text: string, seq: number): this {
    const n = text.length;
    this.#ensure(n);
    const buf = this.#buf;
    let p = this.#pos;
    buf.write(text, p, n, 'latin1');
    const end = p + n;
    seq &= 0xff;
    while (p < end) {
      buf[p + 3] = seq;
      seq = (seq + 1) & 0xff;
      p += 4 + (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16));
    }
    this.#pos = end;
    this.#seq = seq;
    return this;
  }

  u8(v: number): this {
    this.#ensure(1);
    this.#buf[this.#pos++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.#ensure(2);
    this.#buf.writeUInt16LE(v & 0xffff, this.#pos);
    this.#pos += 2;
    return this;
  }

  u24(v: number): this {
    this.#ensure(3);
    this.#buf.writeUIntLE(v & 0xffffff, this.#pos, 3);
    this.#pos += 3;
    return this;
  }

  u32(v: number): this {
    this.#ensure(4);
    this.#buf.writeUInt32LE(v >>> 0, this.#pos);
    this.#pos += 4;
    return this;
  }

  i32(v: number): this {
    this.#ensure(4);
    this.#buf.writeInt32LE(v, this.#pos);
    this.#pos += 4;
    return this;
  }

  u64(v: bigint): this {
    this.#ensure(8);
    this.#buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.#pos);
    this.#pos += 8;
    return this;
  }

  f32(v: number): this {
    this.#ensure(4);
    this.#buf.writeFloatLE(v, this.#pos);
    this.#pos += 4;
    return this;
  }

  f64(v: number): this {
    this.#ensure(8);
    this.#buf.writeDoubleLE(v, this.#pos);
    this.#pos += 8;
    return this;
  }

  zeros(n: number): this {
    this.#ensure(n);
    this.#buf.fill(0, this.#pos, this.#pos + n);
    this.#pos += n;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }

  /** A string without terminator or length. */
  string(s: string, encoding: BufferEncoding = 'utf8'): this {
    const n = Buffer.byteLength(s, encoding);
    this.#ensure(n);
    this.#buf.write(s, this.#pos, n, encoding);
    this.#pos += n;
    return this;
  }

  nulString(s: string, encoding: BufferEncoding = 'utf8'): this {
    return this.string(s, encoding).u8(0);
  }

  lenenc(v: number): this {
    if (v < 0xfb) return this.u8(v);
    if (v < 0x10000) return this.u8(0xfc).u16(v);
    if (v < 0x1000000) return this.u8(0xfd).u24(v);
    return this.u8(0xfe).u64(BigInt(v));
  }

  lenencBytes(b: Uint8Array): this {
    return this.lenenc(b.length).bytes(b);
  }

  lenencString(s: string, encoding: BufferEncoding = 'utf8'): this {
    const n = Buffer.byteLength(s, encoding);
    this.lenenc(n);
    this.#ensure(n);
    this.#buf.write(s, this.#pos, n, encoding);
    this.#pos += n;
    return this;
  }
}
