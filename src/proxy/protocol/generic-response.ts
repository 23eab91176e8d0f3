/**
 * OK, ERR and EOF packets. Rotor writes the OK packet's info as a length-encoded string (as
 * MariaDB does; the mariadb CLI rejects other forms) and omits it when empty.
 */
import { Cap, Status } from './constants.js';
import { PacketReader } from './packet-reader.js';
import type { PacketWriter } from './packet-writer.js';

export interface OkPacket {
  readonly affectedRows: number;
  readonly insertId: number | bigint;
  readonly status: number;
  readonly warnings: number;
  readonly info: string;
  /** The new default schema when the OK carries a SESSION_TRACK schema change. */
  readonly schema?: string | null;
  /** Names of the system variables a SESSION_TRACK block reports changed. */
  readonly variables?: ReadonlyArray<string>;
}

/** Writes one OK packet (header 0x00, or 0xFE when it ends a result set under DEPRECATE_EOF). */
export function writeOk(w: PacketWriter, ok: Omit<OkPacket, 'schema'>, seq: number, header = 0x00): void {
  w.begin(seq).u8(header);
  w.lenenc(ok.affectedRows);
  if (typeof ok.insertId === 'bigint') w.u8(0xfe).u64(ok.insertId);
  else w.lenenc(ok.insertId);
  w.u16(ok.status).u16(ok.warnings);
  if (ok.info.length > 0) w.lenencString(ok.info);
  w.end();
}

export function decodeOk(payload: Buffer, capabilities: number): OkPacket {
  const r = new PacketReader(payload, 1);
  const affectedRows = r.lenenc();
  const insertId = r.lenenc();
  const status = r.remaining >= 2 ? r.u16() : 0;
  const warnings = r.remaining >= 2 ? r.u16() : 0;
  let info = '';
  let schema: string | null = null;
  const variables: string[] = [];
  if (capabilities & Cap.SESSION_TRACK) {
    if (r.remaining > 0) info = r.lenencString();
    if (status & Status.SESSION_STATE_CHANGED && r.remaining > 0) {
      const block = new PacketReader(r.lenencBytes());
      while (block.remaining > 0) {
        const type = block.u8();
        const data = block.lenencBytes();
        if (type === 1) schema = new PacketReader(data).lenencString();
        else if (type === 0) variables.push(new PacketReader(data).lenencString());
      }
    }
  } else if (r.remaining > 0) {
    info = r.restString();
  }
  return { affectedRows, insertId, status, warnings, info, schema, variables };
}

export interface ErrPacket {
  readonly errno: number;
  readonly sqlState: string;
  readonly message: string;
}

export function writeErr(w: PacketWriter, err: ErrPacket, seq: number): void {
  w.begin(seq).u8(0xff).u16(err.errno).u8(0x23).string(err.sqlState.padEnd(5, '0').slice(0, 5), 'latin1').string(err.message).end();
}

export function decodeErr(payload: Buffer): ErrPacket {
  const r = new PacketReader(payload, 1);
  const errno = r.u16();
  let sqlState = 'HY000';
  if (r.remaining > 0 && payload[r.pos] === 0x23) {
    r.skip(1);
    sqlState = r.bytes(5).toString('latin1');
  }
  return { errno, sqlState, message: r.restString() };
}

export function writeEof(w: PacketWriter, status: number, warnings: number, seq: number): void {
  w.begin(seq).u8(0xfe).u16(warnings).u16(status).end();
}

/** Status flags of an EOF packet payload. */
export function eofStatus(payload: Buffer): number {
  return payload.length >= 5 ? payload.readUInt16LE(3) : 0;
}

/**
 * Status flags of an OK packet (either header) without decoding the rest: skips the two
 * length-encoded integers. Returns 0 for a payload too short to carry them.
 */
export function okStatus(payload: Buffer): number {
  let p = 1;
  for (let i = 0; i < 2; i++) {
    const b = payload[p];
    p += b < 0xfb ? 1 : b === 0xfc ? 3 : b === 0xfd ? 4 : 9;
  }
  return p + 2 <= payload.length ? payload.readUInt16LE(p) : 0;
}
