/**
 * The text encoding a cache's reader keeps its keys in ([note: compact-reader] in
 * src/operators/reader.ts): each row's visible columns as the text-protocol row packet MariaDB
 * sends, for the column definitions the cache was registered with, in the form a session reading
 * results in UTF-8 gets (binary columns as their bytes). Decoding turns a packet back into values
 * by the JavaScript type each column's values have had ([note: value-representation]); encoding
 * refuses rows whose values would not decode back to themselves.
 */
import type { Row } from '../dataflow/delta.js';
import { enterRow, identical, packetCount, readCell, type PacketCursor, type RowText } from '../operators/packed-rows.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import { BINARY_CHARSET, zerofillWidth } from '../proxy/protocol/constants.js';
import { PacketWriter } from '../proxy/protocol/packet-writer.js';
import { writeBinaryRow } from '../proxy/protocol/result-set.js';
import { encodingOf, writeTextValue } from '../proxy/protocol/value-codec.js';
import type { Value } from '../values.js';

/** utf8mb4_general_ci: the collation the packets are encoded for (any UTF-8 one reads the same). */
const UTF8 = 45;

/** The JavaScript type of a column's values, learned from the first one encoded. */
type Kind = 'number' | 'string' | 'buffer' | null;

function kindOf(v: Exclude<Value, null>): Kind {
  return typeof v === 'string' ? 'string' : Buffer.isBuffer(v) ? 'buffer' : 'number';
}

class AnswerText implements RowText {
  readonly #types: ReadonlyArray<number>;
  readonly #decimals: ReadonlyArray<number>;
  /** Per column: the width its numbers are zero-padded to (zerofillWidth), or 0. */
  readonly #zerofill: ReadonlyArray<number>;
  /** Per column: the collation its values are encoded in (binary, or UTF-8). */
  readonly #charsets: ReadonlyArray<number>;
  readonly #latin1: ReadonlyArray<boolean>;
  readonly #kinds: Kind[];

  constructor(columns: ReadonlyArray<ColumnDefinition>) {
    this.#types = columns.map((c) => c.type);
    this.#decimals = columns.map((c) => c.decimals);
    this.#zerofill = columns.map(zerofillWidth);
    this.#charsets = columns.map((c) => (c.characterSet === BINARY_CHARSET ? BINARY_CHARSET : UTF8));
    this.#latin1 = this.#charsets.map((c) => encodingOf(c) === 'latin1');
    this.#kinds = columns.map(() => null);
  }

  encode(rows: ReadonlyArray<Row>, visible: number): string | null {
    const n = this.#types.length;
    if (visible !== n) return null;
    const w = new PacketWriter(64 + rows.length * 32);
    for (const row of rows) {
      w.begin(0);
      for (let i = 0; i < n; i++) {
        const v = row[i];
        if (v !== null) {
          const k = kindOf(v);
          if (this.#kinds[i] === null) this.#kinds[i] = k;
          else if (this.#kinds[i] !== k) return null;
        }
        writeTextValue(w, v, this.#types[i], this.#charsets[i], this.#decimals[i], this.#zerofill[i]);
      }
      w.end();
    }
    const text = w.finish().toString('latin1');
    // A row of 16 MiB or more is split over several packets: kept as values.
    if (packetCount(text) !== rows.length) return null;
    const back = this.decode(text, n);
    for (let r = 0; r < rows.length; r++) {
      for (let i = 0; i < n; i++) if (!identical(back[r][i], rows[r][i])) return null;
    }
    return text;
  }

  decode(packets: string, width: number): Row[] {
    const n = this.#types.length;
    const out: Row[] = [];
    const at: PacketCursor = { p: 0 };
    while (at.p < packets.length) {
      const end = enterRow(packets, at);
      const row: Value[] = new Array(width).fill(null);
      for (let i = 0; i < n; i++) {
        const bytes = readCell(packets, at);
        if (bytes !== null) row[i] = this.#value(i, bytes);
      }
      out.push(row);
      at.p = end;
    }
    return out;
  }

  binary(packets: string): string | null {
    const rows = this.decode(packets, this.#types.length);
    const w = new PacketWriter(packets.length + 16 + rows.length * 4);
    for (const row of rows) {
      w.begin(0);
      writeBinaryRow(w, row, this.#types, this.#charsets);
      w.end();
    }
    const out = w.finish().toString('latin1');
    // A binary row can be longer than its text row (BIGINT 1 takes 2 bytes as text, 8 as binary):
    // one split over several packets is encoded afresh from the values on every read instead.
    return packetCount(out) === rows.length ? out : null;
  }

  fits(columns: ReadonlyArray<ColumnDefinition>, charset: number | undefined): boolean {
    if (columns.length !== this.#types.length) return false;
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i];
      if (c.type !== this.#types[i] || c.decimals !== this.#decimals[i]) return false;
      const cs = c.characterSet === BINARY_CHARSET ? BINARY_CHARSET : (charset ?? c.characterSet);
      if ((encodingOf(cs) === 'latin1') !== this.#latin1[i]) return false;
    }
    return true;
  }

  /** A value from its text (one char per byte). */
  #value(i: number, bytes: string): Value {
    switch (this.#kinds[i]) {
      case 'string':
        return this.#latin1[i] ? bytes : Buffer.from(bytes, 'latin1').toString('utf8');
      case 'buffer':
        return Buffer.from(bytes, 'latin1');
      default: {
        const x = Number(bytes);
        return Number.isSafeInteger(x) || !/^-?\d+$/.test(bytes) ? x : BigInt(bytes);
      }
    }
  }
}

/** The text encoding of a reader whose visible columns `columns` define. */
export function answerText(columns: ReadonlyArray<ColumnDefinition>): RowText {
  return new AnswerText(columns);
}
