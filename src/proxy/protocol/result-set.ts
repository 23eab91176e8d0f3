/**
 * Whole responses in one buffer: a result set (text or binary rows) and COM_STMT_PREPARE_OK.
 *
 * [note: hot-path] The column-definition block depends only on the column array and the options,
 * so it is encoded once per (columns, deprecateEof, binary) and reused: a cache hit writes only its
 * rows.
 */
import type { Value } from '../../values.js';
import type { ColumnDefinition } from './column-definition.js';
import { BINARY_CHARSET, zerofillWidth } from './constants.js';
import { writeColumnDefinition } from './column-codec.js';
import { writeEof, writeOk } from './generic-response.js';
import { PacketReader } from './packet-reader.js';
import { PacketWriter } from './packet-writer.js';
import { writeBinaryValue, writeTextValue } from './value-codec.js';

export interface ResultSetOptions {
  /** Binary-protocol rows (a COM_STMT_EXECUTE answer) instead of text rows. */
  readonly binary: boolean;
  /** The session negotiated CLIENT_DEPRECATE_EOF. */
  readonly deprecateEof: boolean;
  /** Server status flags for the terminating EOF/OK (e.g. AUTOCOMMIT). */
  readonly statusFlags: number;
  /** Sequence id of the first packet (1 when answering a command). */
  readonly startSeq: number;
  readonly warnings?: number;
  /** The session negotiated MARIADB_CLIENT_EXTENDED_METADATA. */
  readonly extendedMetadata?: boolean;
  /**
   * The session's result collation (its handshake charset): upstream reports every non-binary
   * column in it and sends the values in its character set, so a cached answer must do the same
   * whatever connection its definitions were captured on.
   */
  readonly resultCharset?: number;
}

function inCharset(columns: ReadonlyArray<ColumnDefinition>, charset: number | undefined): ReadonlyArray<ColumnDefinition> {
  if (charset === undefined || columns.every((c) => c.characterSet === BINARY_CHARSET || c.characterSet === charset)) return columns;
  return columns.map((c) => (c.characterSet === BINARY_CHARSET ? c : { ...c, characterSet: charset }));
}

const headerCache = new WeakMap<ReadonlyArray<ColumnDefinition>, Map<number, Buffer>>();

/** The column count, definitions and (without DEPRECATE_EOF) the EOF, framed from `startSeq`. */
function columnBlock(columns: ReadonlyArray<ColumnDefinition>, opts: ResultSetOptions): Buffer {
  // Everything the block depends on, as one number below 2^43 ([note: hot-path]: no string per hit):
  // status flags (16 bits, only with EOF packets), sequence id (8), result collation (16, or none), two flags.
  const key = ((((opts.deprecateEof ? 0 : opts.statusFlags & 0xffff) * 0x100 + (opts.startSeq & 0xff)) * 0x20000
    + (opts.resultCharset === undefined ? 0x10000 : opts.resultCharset & 0xffff)) * 4)
    + (opts.deprecateEof ? 2 : 0) + (opts.extendedMetadata ? 1 : 0);
  let byKey = headerCache.get(columns);
  const hit = byKey?.get(key);
  if (hit) return hit;
  const w = new PacketWriter(64 + columns.length * 64);
  w.begin(opts.startSeq).lenenc(columns.length).end();
  for (const c of inCharset(columns, opts.resultCharset)) writeColumnDefinition(w, c, w.nextSeq, opts.extendedMetadata);
  if (!opts.deprecateEof) writeEof(w, opts.statusFlags, 0, w.nextSeq);
  const block = Buffer.from(w.finish());
  if (!byKey) headerCache.set(columns, (byKey = new Map()));
  byKey.set(key, block);
  return block;
}

/**
 * Rows kept as the text-protocol packets a hit serves ([note: compact-reader] in
 * src/operators/reader.ts), and their binary-protocol packets made once for prepared statements
 * ([note: binary-rows]): written with one copy, their sequence ids renumbered.
 */
export interface EncodedRows {
  /** The row packets, one char per byte: each packet's 4-byte header (any sequence id) and payload. */
  readonly packets: string;
  /** True when `packets` are what a session with result collation `charset` reads in these columns. */
  fits(columns: ReadonlyArray<ColumnDefinition>, charset: number | undefined): boolean;
  /**
   * The same rows as binary-protocol row packets (same headers), for a session `fits` holds for;
   * null when they have none (the rows are then encoded from {@link values}).
   */
  binaryPackets(): string | null;
  /** The same rows as values, for any other form (another character set). */
  values(): ReadonlyArray<ReadonlyArray<Value>>;
  /**
   * [note: kept-response] The whole response kept for these packets in `form` (a number standing
   * for the options) with `tag` (the column array, by identity), or null.
   */
  keptResponse?(tag: object, form: number): Uint8Array | null;
  /**
   * Offers the response made of these packets for `tag` and `form` (negative: not to be kept);
   * returns the bytes to send: `bytes`, or `own(bytes)` when the rows keep that copy from now on.
   */
  keepResponse?<B extends Uint8Array>(tag: object, form: number, bytes: B, own: (b: B) => B): B;
}

/** Encoded rows, or rows of values. */
export type ResultRows = ReadonlyArray<ReadonlyArray<Value>> | EncodedRows;

/**
 * [note: hot-path] The last encoding of each rows array, reused while the array and the options
 * are the same. Callers MUST treat a rows array they pass as immutable (the reader builds a new
 * one whenever a key's rows change), so the array's identity stands for its contents.
 */
const lastEncoding = new WeakMap<object, { readonly columns: object; readonly options: string; readonly bytes: Buffer; readonly own: boolean }>();

/** {@link encodeResultSet}, answered from the last encoding of the same rows array when it fits. */
export function encodeResultSetOnce(
  columns: ReadonlyArray<ColumnDefinition>,
  rows: ResultRows,
  opts: ResultSetOptions,
): Buffer {
  if (!isValueRows(rows)) {
    // [note: kept-response] A hit of a key read before in this form writes the bytes kept for it.
    const form = formOf(opts);
    const kept = form < 0 ? null : rows.keptResponse?.(columns, form) ?? null;
    if (kept !== null) return kept as Buffer;
    const packets = !rows.fits(columns, opts.resultCharset) ? null : opts.binary ? rows.binaryPackets() : rows.packets;
    if (packets === null) return encodeResultSet(columns, rows.values(), opts);
    const bytes = encodeEncodedRows(columns, packets, opts);
    return rows.keepResponse === undefined ? bytes : rows.keepResponse(columns, form, bytes, ownCopy);
  }
  const options = `${opts.binary ? 1 : 0}${opts.deprecateEof ? 1 : 0}${opts.extendedMetadata ? 1 : 0}|${opts.statusFlags}|${opts.startSeq}|${opts.warnings ?? 0}|${opts.resultCharset ?? ''}`;
  const last = lastEncoding.get(rows);
  if (last !== undefined && last.columns === columns && last.options === options) {
    if (last.own) return last.bytes;
    // Used again, so kept as long as the rows are, in its own buffer (ownCopy). (A one-off answer,
    // such as an IN list's merged rows, is never copied.)
    const bytes = ownCopy(last.bytes);
    lastEncoding.set(rows, { columns, options, bytes, own: true });
    return bytes;
  }
  const bytes = encodeResultSet(columns, rows, opts);
  lastEncoding.set(rows, { columns, options, bytes, own: false });
  return bytes;
}

/**
 * Everything a response of given rows and columns depends on in `opts`, as one number below 2^44
 * (status flags 16 bits, sequence id 8, result collation 16 or none, three flags); -1 for a form
 * not worth keeping (warnings to report).
 */
function formOf(opts: ResultSetOptions): number {
  if ((opts.warnings ?? 0) !== 0) return -1;
  return (((((opts.statusFlags & 0xffff) * 0x100 + (opts.startSeq & 0xff)) * 0x20000
    + (opts.resultCharset === undefined ? 0x10000 : opts.resultCharset & 0xffff)) * 8)
    + (opts.binary ? 4 : 0) + (opts.deprecateEof ? 2 : 0) + (opts.extendedMetadata ? 1 : 0));
}

/**
 * A kept response in a buffer of its own and of its size: not a slice of the writer's larger
 * buffer or of Node's shared 8 KiB pool, which one kept response would pin whole.
 */
function ownCopy(bytes: Buffer): Buffer {
  const own = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(own);
  return own;
}

/** The rows as values, decoded when they are packets. */
export function valueRows(rows: ResultRows): ReadonlyArray<ReadonlyArray<Value>> {
  return isValueRows(rows) ? rows : rows.values();
}

function isValueRows(rows: ResultRows): rows is ReadonlyArray<ReadonlyArray<Value>> {
  return Array.isArray(rows);
}

/** {@link encodeResultSet} of rows already encoded as row packets (text or binary, as `opts` asks): one copy of them. */
function encodeEncodedRows(columns: ReadonlyArray<ColumnDefinition>, packets: string, opts: ResultSetOptions): Buffer {
  const block = columnBlock(columns, opts);
  const w = new PacketWriter(block.length + packets.length + 16);
  w.bytes(block);
  w.packets(packets, opts.startSeq + 1 + columns.length + (opts.deprecateEof ? 0 : 1));
  writeTerminator(w, opts, w.nextSeq);
  return w.finish();
}

function writeTerminator(w: PacketWriter, opts: ResultSetOptions, seq: number): void {
  if (opts.deprecateEof) {
    writeOk(w, { affectedRows: 0, insertId: 0, status: opts.statusFlags, warnings: opts.warnings ?? 0, info: '' }, seq, 0xfe);
  } else {
    writeEof(w, opts.statusFlags, opts.warnings ?? 0, seq);
  }
}

/** A complete result-set response in one buffer, ready for one `write()`. */
export function encodeResultSet(
  columns: ReadonlyArray<ColumnDefinition>,
  rows: ReadonlyArray<ReadonlyArray<Value>>,
  opts: ResultSetOptions,
): Buffer {
  const block = columnBlock(columns, opts);
  const w = new PacketWriter(block.length + 16 + rows.length * (8 + columns.length * 8));
  w.bytes(block);
  let seq = (opts.startSeq + 1 + columns.length + (opts.deprecateEof ? 0 : 1)) & 0xff;
  const n = columns.length;
  const charsets = inCharset(columns, opts.resultCharset).map((c) => c.characterSet);
  const types = opts.binary ? columns.map((c) => c.type) : null;
  for (const row of rows) {
    w.begin(seq);
    if (types !== null) writeBinaryRow(w, row, types, charsets);
    else {
      for (let i = 0; i < n; i++) writeTextValue(w, row[i], columns[i].type, charsets[i], columns[i].decimals, zerofillWidth(columns[i]));
    }
    w.end();
    seq = w.nextSeq;
  }
  writeTerminator(w, opts, seq);
  return w.finish();
}

/**
 * The payload of one binary-protocol row (after the packet header): the 0x00 header, the NULL
 * bitmap (offset 2), the non-NULL values, each column in `types[i]`, strings in `charsets[i]`.
 */
export function writeBinaryRow(w: PacketWriter, row: ReadonlyArray<Value>, types: ReadonlyArray<number>, charsets: ReadonlyArray<number>): void {
  const n = types.length;
  w.u8(0);
  // One byte of the bitmap at a time: bit (i + 2) is column i.
  for (let b = 0, nbytes = (n + 7 + 2) >> 3; b < nbytes; b++) {
    let byte = 0;
    for (let bit = 0; bit < 8; bit++) {
      const i = b * 8 + bit - 2;
      if (i >= 0 && i < n && row[i] === null) byte |= 1 << bit;
    }
    w.u8(byte);
  }
  for (let i = 0; i < n; i++) {
    const v = row[i];
    if (v !== null) writeBinaryValue(w, v, types[i], charsets[i]);
  }
}

export interface PrepareOk {
  readonly statementId: number;
  readonly numColumns: number;
  readonly numParams: number;
  readonly warnings: number;
}

/** Decodes the first packet of a COM_STMT_PREPARE response (payload starting with 0x00). */
export function decodePrepareOk(payload: Buffer): PrepareOk {
  const r = new PacketReader(payload, 1);
  const statementId = r.u32();
  const numColumns = r.u16();
  const numParams = r.u16();
  r.skip(1);
  const warnings = r.remaining >= 2 ? r.u16() : 0;
  return { statementId, numColumns, numParams, warnings };
}

/** A whole COM_STMT_PREPARE response: PREPARE_OK, parameter and column definitions. */
export function encodePrepareOk(
  statementId: number,
  params: ReadonlyArray<ColumnDefinition>,
  columns: ReadonlyArray<ColumnDefinition>,
  opts: { readonly deprecateEof: boolean; readonly statusFlags: number; readonly extendedMetadata?: boolean },
): Buffer {
  const w = new PacketWriter(128);
  w.begin(1).u8(0).u32(statementId).u16(columns.length).u16(params.length).u8(0).u16(0).end();
  for (const defs of [params, columns]) {
    if (defs.length === 0) continue;
    for (const c of defs) writeColumnDefinition(w, c, w.nextSeq, opts.extendedMetadata);
    if (!opts.deprecateEof) writeEof(w, opts.statusFlags, 0, w.nextSeq);
  }
  return w.finish();
}
