/** ColumnDefinition41 packets: encoding for Rotor's answers, decoding for tests and captures. */
import type { ColumnDefinition } from './column-definition.js';
import { PacketReader } from './packet-reader.js';
import type { PacketWriter } from './packet-writer.js';

/**
 * Writes one column-definition packet with sequence id `seq`; `extendedMetadata` when the session
 * negotiated MariaDB's MARIADB_CLIENT_EXTENDED_METADATA (the type-name/format block follows the
 * names).
 */
export function writeColumnDefinition(w: PacketWriter, c: ColumnDefinition, seq: number, extendedMetadata = false): void {
  w.begin(seq);
  w.lenencString(c.catalog || 'def').lenencString(c.schema).lenencString(c.table).lenencString(c.orgTable);
  w.lenencString(c.name).lenencString(c.orgName);
  if (extendedMetadata) {
    const entries: Array<[number, string]> = [];
    if (c.extendedTypeName) entries.push([0, c.extendedTypeName]);
    if (c.extendedFormat) entries.push([1, c.extendedFormat]);
    let len = 0;
    for (const [, v] of entries) len += 2 + Buffer.byteLength(v, 'latin1');
    w.lenenc(len);
    for (const [id, v] of entries) w.u8(id).lenencString(v, 'latin1');
  }
  w.u8(0x0c).u16(c.characterSet).u32(c.columnLength).u8(c.type).u16(c.flags).u8(c.decimals).u16(0);
  w.end();
}

export function decodeColumnDefinition(payload: Buffer, extendedMetadata = false): ColumnDefinition {
  const r = new PacketReader(payload);
  const catalog = r.lenencString();
  const schema = r.lenencString();
  const table = r.lenencString();
  const orgTable = r.lenencString();
  const name = r.lenencString();
  const orgName = r.lenencString();
  const extended: { extendedTypeName?: string; extendedFormat?: string } = {};
  if (extendedMetadata) {
    const block = new PacketReader(r.lenencBytes());
    while (block.remaining > 0) {
      const id = block.u8();
      const v = block.lenencString('latin1');
      if (id === 0) extended.extendedTypeName = v;
      else if (id === 1) extended.extendedFormat = v;
    }
  }
  r.lenenc();
  const characterSet = r.u16();
  const columnLength = r.u32();
  const type = r.u8();
  const flags = r.u16();
  const decimals = r.u8();
  return { catalog, schema, table, orgTable, name, orgName, characterSet, columnLength, type, flags, decimals, ...extended };
}
