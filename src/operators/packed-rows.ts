/**
 * The reader's compact form of a key's rows ([note: compact-reader], src/operators/reader.ts): the
 * visible columns as the text-protocol row packets a hit serves, encoded by a {@link RowText} the
 * views supply (the wire format is theirs), and the hidden values those packets do not carry in a
 * small text of the reader's own ({@link packValues}).
 */
import type { Row } from '../dataflow/delta.js';
import type { Value } from '../values.js';

/** The text-protocol encoding of a reader's visible columns, as the cache's columns define it. */
export interface RowText {
  /**
   * The row packets of `rows`' first `visible` columns, one char per byte, each with a 4-byte header
   * (sequence id 0); null when one of the values would not decode back to itself exactly (then the
   * reader keeps those rows as values).
   */
  encode(rows: ReadonlyArray<Row>, visible: number): string | null;
  /** The rows of {@link encode}'s packets: each a new array of `width` slots, the visible ones set. */
  decode(packets: string, width: number): Row[];
  /**
   * The binary-protocol row packets of the same rows as {@link encode}'s `packets` (sequence id 0),
   * what a prepared statement's execution is answered with ([note: binary-rows]); null when a row
   * would not fit one packet.
   */
  binary(packets: string): string | null;
  /** True when the packets are what a session with result collation `charset` reads in `columns`. */
  fits(columns: ReadonlyArray<unknown>, charset: number | undefined): boolean;
}

/** The packets of `text` from packet `from` on (at most `count` of them). */
export function packetSlice(text: string, from: number, count: number): string {
  let p = 0;
  for (let i = 0; i < from && p < text.length; i++) p += 4 + packetLength(text, p);
  let end = p;
  for (let i = 0; i < count && end < text.length; i++) end += 4 + packetLength(text, end);
  return p === 0 && end === text.length ? text : text.slice(p, end);
}

/** How many packets `text` holds. */
export function packetCount(text: string): number {
  let n = 0;
  for (let p = 0; p < text.length; p += 4 + packetLength(text, p)) n++;
  return n;
}

function packetLength(text: string, p: number): number {
  return text.charCodeAt(p) | (text.charCodeAt(p + 1) << 8) | (text.charCodeAt(p + 2) << 16);
}

/** Where a reading of text-protocol row packets stands: `p`, the next char (byte) to read. */
export interface PacketCursor {
  p: number;
}

/** Steps over the header of the row packet at the cursor; returns where the next packet starts. */
export function enterRow(packets: string, at: PacketCursor): number {
  const end = at.p + 4 + packetLength(packets, at.p);
  at.p += 4;
  return end;
}

/** Reads the length-encoded cell at the cursor: its bytes (one char per byte), or null for NULL. */
export function readCell(packets: string, at: PacketCursor): string | null {
  let p = at.p;
  const b = packets.charCodeAt(p++);
  if (b === 0xfb) {
    at.p = p;
    return null;
  }
  let len = b;
  if (b === 0xfc) {
    len = packets.charCodeAt(p) | (packets.charCodeAt(p + 1) << 8);
    p += 2;
  } else if (b === 0xfd) {
    len = packetLength(packets, p);
    p += 3;
  } else if (b === 0xfe) {
    len = 0;
    for (let j = 7; j >= 0; j--) len = len * 256 + packets.charCodeAt(p + j);
    p += 8;
  }
  at.p = p + len;
  return packets.slice(p, p + len);
}

/**
 * Values as one string that {@link unpackValues} reads back exactly (same type, same value, -0
 * kept): `N` null; `s<len>:<chars>` a string; `d<digits>;` a number; `i<digits>;` a bigint;
 * `b<len>:<latin1>` a Buffer.
 */
export function packValues(values: ReadonlyArray<Value>, into: string[]): void {
  for (const v of values) {
    if (v === null) into.push('N');
    else if (typeof v === 'string') into.push(`s${v.length}:`, v);
    else if (typeof v === 'number') into.push(Object.is(v, -0) ? 'd-0;' : `d${v};`);
    else if (typeof v === 'bigint') into.push(`i${v};`);
    else into.push(`b${v.length}:`, v.toString('latin1'));
  }
}

/** Reads into `row`, at columns `cols`, the values {@link packValues} packed in `text` from `at.p` on; moves `at.p` past them. */
export function unpackValues(text: string, at: { p: number }, row: Value[], cols: ReadonlyArray<number>): void {
  let p = at.p;
  for (const c of cols) {
    const tag = text[p++];
    if (tag === 'N') {
      row[c] = null;
      continue;
    }
    const stop = text.indexOf(tag === 's' || tag === 'b' ? ':' : ';', p);
    const head = text.slice(p, stop);
    p = stop + 1;
    if (tag === 'd') row[c] = Number(head);
    else if (tag === 'i') row[c] = BigInt(head);
    else {
      const len = Number(head);
      const body = text.slice(p, p + len);
      p += len;
      row[c] = tag === 's' ? body : Buffer.from(body, 'latin1');
    }
  }
  at.p = p;
}

/** The same value, of the same type (-0 is not 0): what a compact key must give back. */
export function identical(a: Value, b: Value): boolean {
  if (a === b) return a !== 0 || Object.is(a, b);
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
}
