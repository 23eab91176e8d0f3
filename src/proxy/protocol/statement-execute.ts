/**
 * COM_STMT_EXECUTE parameters: the null bitmap, the new-params-bound flag and the parameter types,
 * which a client sends once and then omits (the server, and Rotor, remember them per statement).
 */
import type { Value } from '../../values.js';
import { MalformedPacket, PacketReader } from './packet-reader.js';
import { PacketWriter } from './packet-writer.js';
import { readBinaryParam } from './value-codec.js';
import { Type } from './constants.js';

/** Parameter types as sent: the type code in the low byte, 0x8000 when unsigned. */
export type ParamTypes = ReadonlyArray<number>;

export interface ExecuteHeader {
  readonly statementId: number;
  /** Cursor flags (0 = no cursor). */
  readonly flags: number;
}

export function decodeExecuteHeader(payload: Buffer): ExecuteHeader {
  const r = new PacketReader(payload, 1);
  return { statementId: r.u32(), flags: r.u8() };
}

export interface ExecuteParams {
  readonly values: ReadonlyArray<Value>;
  /** The types the values were decoded with (new ones when the packet bound them). */
  readonly types: ParamTypes;
  /** True when this packet carried the types itself. */
  readonly newParamsBound: boolean;
}

/**
 * Decodes the parameters of a COM_STMT_EXECUTE payload for a statement with `numParams`
 * parameters. `previousTypes` are the types of the statement's last execution: a packet without
 * types reuses them; without them either, the packet is malformed.
 */
export function decodeExecuteParams(payload: Buffer, numParams: number, previousTypes: ParamTypes | null): ExecuteParams {
  if (numParams === 0) return { values: [], types: [], newParamsBound: false };
  const r = new PacketReader(payload, 10);
  const bitmap = r.bytes((numParams + 7) >> 3);
  const newParamsBound = r.u8() === 1;
  let types: ParamTypes;
  if (newParamsBound) {
    const t: number[] = [];
    for (let i = 0; i < numParams; i++) t.push(r.u16());
    types = t;
  } else if (previousTypes && previousTypes.length === numParams) {
    types = previousTypes;
  } else {
    throw new MalformedPacket('execute without parameter types');
  }
  const values: Value[] = [];
  for (let i = 0; i < numParams; i++) {
    if (bitmap[i >> 3] & (1 << (i & 7))) values.push(null);
    else values.push(readBinaryParam(r, types[i] & 0xff, (types[i] & 0x8000) !== 0));
  }
  return { values, types, newParamsBound };
}

/**
 * The parameter types (low byte of a type as sent) MariaDB reads as {@link decodeExecuteParams}
 * does. Checked against MariaDB 10.11: a parameter bound as INT24, YEAR, BIT or GEOMETRY it reads
 * as NULL, taking none of the packet's bytes (so the parameters after it are read from its bytes);
 * one bound as NULL without its bit in the null bitmap, TIMESTAMP2, DATETIME2, TIME2, JSON or any
 * code it does not know fails with "Incorrect arguments to mysqld_stmt_execute".
 */
const READ_AS_SENT: ReadonlySet<number> = new Set([
  Type.DECIMAL, Type.TINY, Type.SHORT, Type.LONG, Type.FLOAT, Type.DOUBLE, Type.TIMESTAMP, Type.LONGLONG,
  Type.DATE, Type.TIME, Type.DATETIME, Type.NEWDATE, Type.VARCHAR, Type.NEWDECIMAL, Type.ENUM, Type.SET,
  Type.TINY_BLOB, Type.MEDIUM_BLOB, Type.LONG_BLOB, Type.BLOB, Type.VAR_STRING, Type.STRING,
]);

/**
 * True when the server reads every parameter bound as `types` with the value Rotor decodes for it
 * ({@link READ_AS_SENT}): else the execution's answer (or error) is the server's alone to give.
 */
export function readAsSent(types: ParamTypes): boolean {
  for (const t of types) if (!READ_AS_SENT.has(t & 0xff)) return false;
  return true;
}

/**
 * Rewrites an execute payload that omits its types into one that binds `types`: needed when Rotor
 * answered the execution that bound them, so the upstream never saw them.
 */
export function bindTypes(payload: Buffer, numParams: number, types: ParamTypes): Buffer {
  const bitmapEnd = 10 + ((numParams + 7) >> 3);
  const w = new PacketWriter(payload.length + 2 * numParams + 1);
  w.bytes(payload.subarray(0, bitmapEnd)).u8(1);
  for (const t of types) w.u16(t);
  w.bytes(payload.subarray(bitmapEnd + 1));
  return Buffer.from(w.finish());
}

/** Encodes a COM_STMT_EXECUTE payload (no header): for tests and for Rotor's own clients. */
export function encodeExecutePayload(statementId: number, values: ReadonlyArray<Value>, types: ParamTypes | null, flags = 0): Buffer {
  const w = new PacketWriter(64);
  w.u8(0x17).u32(statementId).u8(flags).u32(1);
  if (values.length > 0) {
    const bitmap = Buffer.alloc((values.length + 7) >> 3);
    values.forEach((v, i) => {
      if (v === null) bitmap[i >> 3] |= 1 << (i & 7);
    });
    w.bytes(bitmap).u8(types ? 1 : 0);
    if (types) for (const t of types) w.u16(t);
    values.forEach((v) => {
      if (v === null) return;
      if (typeof v === 'number' && Number.isInteger(v)) w.u64(BigInt(v));
      else if (typeof v === 'number') w.f64(v);
      else if (typeof v === 'bigint') w.u64(v);
      else if (Buffer.isBuffer(v)) w.lenencBytes(v);
      else w.lenencString(v);
    });
  }
  return Buffer.from(w.finish());
}
