/**
 * Rotor's {@link Value}s on the wire, by column type, in the text and the binary protocol, exactly
 * as MariaDB sends them ([note: value-representation] says what each Value holds), and the
 * binary-protocol parameter values of COM_STMT_EXECUTE decoded back into Values.
 */
import type { Value } from '../../values.js';
import { intValue } from '../../values.js';
import { BINARY_CHARSET, Type } from './constants.js';
import { MalformedPacket, type PacketReader } from './packet-reader.js';
import type { PacketWriter } from './packet-writer.js';

/** Collation ids whose values are latin1 on the wire; everything else non-binary is UTF-8. */
const LATIN1_COLLATIONS = new Set([5, 8, 15, 31, 47, 48, 49, 94]);

export function encodingOf(characterSet: number): BufferEncoding {
  return characterSet === BINARY_CHARSET || LATIN1_COLLATIONS.has(characterSet) ? 'latin1' : 'utf8';
}

/** Decimals at or above this mean "not fixed": MariaDB prints the value `%g`-like. */
const NOT_FIXED_DECIMALS = 31;

/** A positive finite double's exact decimal expansion: the value is `0.digits × 10^decpt`. */
function exactDigits(v: number): { digits: string; decpt: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  let e = Number((bits >> 52n) & 0x7ffn);
  let m = bits & 0xfffffffffffffn;
  if (e === 0) e = 1;
  else m |= 1n << 52n;
  e -= 1075; // v = m × 2^e
  const n = e >= 0 ? m << BigInt(e) : m * 5n ** BigInt(-e);
  const digits = n.toString();
  return { digits: digits.replace(/0+$/, '') || '0', decpt: digits.length - (e >= 0 ? 0 : -e) };
}

/** The shortest digits that read back as the same positive double, as `0.digits × 10^decpt`. */
function shortestDigits(v: number): { digits: string; decpt: number } {
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(v.toExponential()) as RegExpExecArray;
  return { digits: (m[1] + (m[2] ?? '')).replace(/0+$/, '') || '0', decpt: Number(m[3]) + 1 };
}

/** `digits` (of `0.digits × 10^decpt`) rounded half to even to `k` significant digits, `k` ≥ 1. */
function roundDigits(digits: string, decpt: number, k: number): { digits: string; decpt: number } {
  if (k <= 0) {
    digits = '0'.repeat(1 - k) + digits;
    decpt += 1 - k;
    k = 1;
  }
  if (digits.length <= k) return { digits, decpt };
  const head = digits.slice(0, k), first = digits[k], after = digits.slice(k + 1);
  const up = first > '5' || (first === '5' && (/[1-9]/.test(after) || Number(head[k - 1]) % 2 === 1));
  if (!up) return { digits: head, decpt };
  const bumped = (BigInt(head) + 1n).toString().padStart(k, '0');
  return bumped.length > k ? { digits: bumped.slice(0, k), decpt: decpt + 1 } : { digits: bumped, decpt };
}

/**
 * A FLOAT/DOUBLE as MariaDB prints it (`my_gcvt`, `my_fcvt`): DOUBLE with the shortest digits that
 * read back as the same double, FLOAT with six significant digits of the float32 (half to even);
 * positional while the decimal exponent is within [-14, 15] or every digit is left of the point's
 * right, else `1.5e20` / `2.5e-16` (no `+`). A column with fixed decimals (`FLOAT(7,3)`, `AVG` of
 * one) prints exactly that many, half to even. Measured against MariaDB 10.11.
 */
export function formatFloating(v: number, single: boolean, decimals: number = NOT_FIXED_DECIMALS): string {
  if (!Number.isFinite(v)) return String(v);
  const x = single ? Math.fround(v) : v;
  const sign = x < 0 ? '-' : '';
  if (decimals < NOT_FIXED_DECIMALS) {
    if (x === 0) return decimals > 0 ? `0.${'0'.repeat(decimals)}` : '0';
    // dtoa's mode 5: the shortest digits when they fit in `decimals`, else correctly rounded.
    const short = shortestDigits(Math.abs(x));
    const e = short.digits.length <= short.decpt + decimals ? short : exactDigits(Math.abs(x));
    const r = roundDigits(e.digits, e.decpt, e.decpt + decimals);
    const all = (r.decpt <= 0 ? '0'.repeat(1 - r.decpt) + r.digits : r.digits).padEnd(Math.max(r.decpt, 1) + decimals, '0');
    const point = all.length - decimals;
    return sign + all.slice(0, point) + (decimals > 0 ? `.${all.slice(point)}` : '');
  }
  if (x === 0) return '0';
  let digits: string, decpt: number;
  if (single) {
    const e = exactDigits(Math.abs(x));
    ({ digits, decpt } = roundDigits(e.digits, e.decpt, 6));
    digits = digits.replace(/0+$/, '') || '0';
  } else {
    ({ digits, decpt } = shortestDigits(Math.abs(x)));
  }
  const len = digits.length;
  if (decpt < -14 || (decpt > 15 && len <= decpt)) {
    return `${sign}${digits[0]}${len > 1 ? `.${digits.slice(1)}` : ''}e${decpt - 1}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= len) return `${sign}${digits}${'0'.repeat(decpt - len)}`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** The text-protocol form of a non-NULL value in a column of `type` (with `decimals` digits). */
export function textOf(v: Exclude<Value, null>, type: number, decimals?: number, zerofill = 0): string | Buffer {
  if (typeof v === 'number') {
    if (type === Type.FLOAT) return formatFloating(v, true, decimals);
    if (type === Type.DOUBLE) return formatFloating(v, false, decimals);
    // A ZEROFILL column's numbers (a YEAR's too: the year 0 is `0000`) in its width, as MariaDB prints them.
    return zerofill > 0 ? String(v).padStart(zerofill, '0') : String(v);
  }
  if (typeof v === 'bigint') return zerofill > 0 ? v.toString().padStart(zerofill, '0') : v.toString();
  return v;
}

/** Writes one value of a text-protocol row (NULL is 0xFB); `zerofill`: the column's {@link zerofillWidth}. */
export function writeTextValue(w: PacketWriter, v: Value, type: number, characterSet: number, decimals?: number, zerofill = 0): void {
  if (v === null) {
    w.u8(0xfb);
    return;
  }
  const t = textOf(v, type, decimals, zerofill);
  if (typeof t === 'string') w.lenencString(t, encodingOf(characterSet));
  else w.lenencBytes(t);
}

function toBigInt(v: Exclude<Value, null>): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  const s = Buffer.isBuffer(v) ? v.toString('latin1') : v;
  return BigInt(s.trim().split('.')[0] || '0');
}

function toNumber(v: Exclude<Value, null>): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return Number(Buffer.isBuffer(v) ? v.toString('latin1') : v);
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/;
const TIME_RE = /^(-)?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

function micros(frac: string | undefined): number {
  return frac ? Number(frac.padEnd(6, '0')) : 0;
}

/** DATE/DATETIME/TIMESTAMP as the binary protocol's struct (length 0, 4, 7 or 11), as MariaDB sends it. */
function writeBinaryDate(w: PacketWriter, s: string): void {
  const m = DATE_RE.exec(s);
  if (!m) throw new MalformedPacket(`not a date: ${s}`);
  const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const us = micros(m[7]);
  if (us) w.u8(11).u16(y).u8(mo).u8(d).u8(h).u8(mi).u8(se).u32(us);
  else if (h || mi || se) w.u8(7).u16(y).u8(mo).u8(d).u8(h).u8(mi).u8(se);
  else if (y || mo || d) w.u8(4).u16(y).u8(mo).u8(d);
  else w.u8(0);
}

/** TIME as the binary protocol's struct (length 0, 8 or 12). */
function writeBinaryTime(w: PacketWriter, s: string): void {
  const m = TIME_RE.exec(s);
  if (!m) throw new MalformedPacket(`not a time: ${s}`);
  const hours = Number(m[2]);
  const mi = Number(m[3]);
  const se = Number(m[4]);
  const us = micros(m[5]);
  const neg = m[1] ? 1 : 0;
  const days = Math.floor(hours / 24);
  const h = hours % 24;
  if (us) w.u8(12).u8(neg).u32(days).u8(h).u8(mi).u8(se).u32(us);
  else if (hours || mi || se) w.u8(8).u8(neg).u32(days).u8(h).u8(mi).u8(se);
  else w.u8(0);
}

/** Writes one non-NULL value of a binary-protocol row (NULLs live in the row's bitmap). */
export function writeBinaryValue(w: PacketWriter, v: Exclude<Value, null>, type: number, characterSet: number): void {
  switch (type) {
    case Type.TINY:
      w.u8(Number(BigInt.asUintN(8, toBigInt(v))));
      return;
    case Type.SHORT:
    case Type.YEAR:
      w.u16(Number(BigInt.asUintN(16, toBigInt(v))));
      return;
    case Type.LONG:
    case Type.INT24:
      w.u32(Number(BigInt.asUintN(32, toBigInt(v))));
      return;
    case Type.LONGLONG:
      w.u64(toBigInt(v));
      return;
    case Type.FLOAT:
      w.f32(toNumber(v));
      return;
    case Type.DOUBLE:
      w.f64(toNumber(v));
      return;
    case Type.DATE:
    case Type.NEWDATE:
    case Type.DATETIME:
    case Type.TIMESTAMP:
      writeBinaryDate(w, Buffer.isBuffer(v) ? v.toString('latin1') : String(v));
      return;
    case Type.TIME:
      writeBinaryTime(w, Buffer.isBuffer(v) ? v.toString('latin1') : String(v));
      return;
    default: {
      const t = textOf(v, type);
      if (typeof t === 'string') w.lenencString(t, encodingOf(characterSet));
      else w.lenencBytes(t);
    }
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Decodes one binary-protocol parameter value of `type` (`unsigned` from the type's flag byte). */
export function readBinaryParam(r: PacketReader, type: number, unsigned: boolean): Value {
  switch (type) {
    case Type.NULL:
      return null;
    case Type.TINY: {
      const b = r.u8();
      return unsigned ? b : (b << 24) >> 24;
    }
    case Type.SHORT:
    case Type.YEAR: {
      const b = r.u16();
      return unsigned ? b : (b << 16) >> 16;
    }
    case Type.LONG:
    case Type.INT24: {
      const b = r.u32();
      return unsigned ? b : b | 0;
    }
    case Type.LONGLONG: {
      const b = r.u64();
      return intValue(unsigned ? b : BigInt.asIntN(64, b));
    }
    case Type.FLOAT: {
      const f = r.bytes(4).readFloatLE(0);
      return f;
    }
    case Type.DOUBLE:
      return r.bytes(8).readDoubleLE(0);
    case Type.DATE:
    case Type.NEWDATE:
    case Type.DATETIME:
    case Type.TIMESTAMP: {
      const len = r.u8();
      const p = r.bytes(len);
      const y = len >= 4 ? p.readUInt16LE(0) : 0;
      const date = `${pad(y, 4)}-${pad(len >= 4 ? p[2] : 0)}-${pad(len >= 4 ? p[3] : 0)}`;
      if (type === Type.DATE || type === Type.NEWDATE) return date;
      const time = `${pad(len >= 7 ? p[4] : 0)}:${pad(len >= 7 ? p[5] : 0)}:${pad(len >= 7 ? p[6] : 0)}`;
      const us = len >= 11 ? p.readUInt32LE(7) : 0;
      return `${date} ${time}${us ? `.${pad(us, 6)}` : ''}`;
    }
    case Type.TIME: {
      const len = r.u8();
      const p = r.bytes(len);
      if (len < 8) return '00:00:00';
      const hours = p.readUInt32LE(1) * 24 + p[5];
      const us = len >= 12 ? p.readUInt32LE(8) : 0;
      return `${p[0] ? '-' : ''}${pad(hours)}:${pad(p[6])}:${pad(p[7])}${us ? `.${pad(us, 6)}` : ''}`;
    }
    case Type.TINY_BLOB:
    case Type.MEDIUM_BLOB:
    case Type.LONG_BLOB:
    case Type.BLOB:
    case Type.GEOMETRY:
    case Type.BIT:
      return Buffer.from(r.lenencBytes());
    default:
      return r.lenencString();
  }
}
