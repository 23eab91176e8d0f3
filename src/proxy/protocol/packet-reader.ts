/**
 * Reads MySQL protocol primitives (fixed-width little-endian integers, length-encoded integers and
 * strings, NUL-terminated strings) from one packet payload.
 *
 * Every read MUST stay inside the payload: reading past its end throws {@link MalformedPacket}, which
 * the session answers with an ERR packet and a closed connection, never a crash.
 */

/** A payload was shorter than its own contents claim. */
export class MalformedPacket extends Error {
  constructor(what: string) {
    super(`malformed packet: ${what}`);
    this.name = 'MalformedPacket';
  }
}

export class PacketReader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  #need(n: number): void {
    if (this.pos + n > this.end) throw new MalformedPacket(`needs ${n} bytes at ${this.pos}, has ${this.end - this.pos}`);
  }

  u8(): number {
    this.#need(1);
    return this.buf[this.pos++];
  }

  u16(): number {
    this.#need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.#need(3);
    const v = this.buf.readUIntLE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u32(): number {
    this.#need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.#need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  skip(n: number): void {
    this.#need(n);
    this.pos += n;
  }

  bytes(n: number): Buffer {
    this.#need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A length-encoded integer; null for the NULL marker 0xFB. Lengths above 2^53 are malformed. */
  lenencOrNull(): number | null {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfb) return null;
    if (first === 0xfc) return this.u16();
    if (first === 0xfd) return this.u24();
    if (first === 0xfe) {
      const v = this.u64();
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedPacket('length-encoded integer too large');
      return Number(v);
    }
    throw new MalformedPacket('invalid length-encoded integer prefix 0xff');
  }

  lenenc(): number {
    const v = this.lenencOrNull();
    if (v === null) throw new MalformedPacket('unexpected NULL');
    return v;
  }

  lenencBytes(): Buffer {
    return this.bytes(this.lenenc());
  }

  lenencString(encoding: BufferEncoding = 'utf8'): string {
    const n = this.lenenc();
    this.#need(n);
    const s = this.buf.toString(encoding, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** A NUL-terminated string; a missing NUL is malformed. */
  nulString(encoding: BufferEncoding = 'utf8'): string {
    const i = this.buf.indexOf(0, this.pos);
    if (i < 0 || i >= this.end) throw new MalformedPacket('unterminated string');
    const s = this.buf.toString(encoding, this.pos, i);
    this.pos = i + 1;
    return s;
  }

  /** A NUL-terminated string, or the rest of the payload when no NUL follows. */
  nulOrRestString(encoding: BufferEncoding = 'utf8'): string {
    const i = this.buf.indexOf(0, this.pos);
    const stop = i < 0 || i >= this.end ? this.end : i;
    const s = this.buf.toString(encoding, this.pos, stop);
    this.pos = Math.min(this.end, stop + 1);
    return s;
  }

  restBytes(): Buffer {
    const b = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return b;
  }

  restString(encoding: BufferEncoding = 'utf8'): string {
    const s = this.buf.toString(encoding, this.pos, this.end);
    this.pos = this.end;
    return s;
  }
}
