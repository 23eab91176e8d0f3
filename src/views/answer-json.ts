/**
 * A cache's answers as JSON, for reads over HTTP (src/proxy/http-read/). [note: http-values] Each
 * value is what a MySQL client reading the same SELECT over the text protocol gets, taken from the
 * very text-protocol bytes a hit serves ([note: compact-reader]), so the two cannot disagree:
 *
 * | column                                                  | JSON                               |
 * |---------------------------------------------------------|------------------------------------|
 * | TINYINT, SMALLINT, MEDIUMINT, INT, YEAR, FLOAT, DOUBLE  | number: MariaDB's text, as written |
 * | BIGINT, DECIMAL                                         | string: MariaDB's text (exact)     |
 * | DATE, TIME, DATETIME, TIMESTAMP                         | string, as MariaDB prints it       |
 * | text (CHAR, VARCHAR, TEXT, ENUM, SET)                   | string                             |
 * | JSON                                                    | the document itself (its text)     |
 * | bytes (BINARY, VARBINARY, BLOB, BIT, GEOMETRY)          | string: base64 of the bytes        |
 * | NULL                                                    | null                               |
 *
 * That is mysql2's text protocol with `supportBigNumbers` and `bigNumberStrings` (BIGINT as a
 * string at any size, so a client never loses digits) and `dateStrings`, which parses a JSON
 * column (MariaDB marks it in its extended metadata); bytes are base64 because
 * JSON has no bytes. A row is an object by column name; a later column of the same name replaces an
 * earlier one, as in mysql2's row objects (`columns` lists them all). Pinned by
 * test/views/answer-json.test.ts and test/e2e/http-read.test.ts.
 */
import { createHash } from 'node:crypto';
import type { DerivedAnswer, ReaderAnswer } from '../dataflow/operator.js';
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import { BINARY_CHARSET, Type } from '../proxy/protocol/constants.js';
import { PacketWriter } from '../proxy/protocol/packet-writer.js';
import { writeTextValue } from '../proxy/protocol/value-codec.js';
import { enterRow, readCell, type PacketCursor } from '../operators/packed-rows.js';

/** How one column's text becomes JSON. */
type JsonKind = 'number' | 'string' | 'text' | 'base64' | 'json';

/** utf8mb4: the character set the packets of text columns are in (src/views/answer-text.ts). */
const UTF8 = 45;

const NUMBER_TYPES = new Set<number>([Type.TINY, Type.SHORT, Type.INT24, Type.LONG, Type.YEAR, Type.FLOAT, Type.DOUBLE]);
const EXACT_TYPES = new Set<number>([Type.LONGLONG, Type.DECIMAL, Type.NEWDECIMAL]);
const TEMPORAL_TYPES = new Set<number>([Type.DATE, Type.NEWDATE, Type.TIME, Type.TIME2, Type.DATETIME, Type.DATETIME2, Type.TIMESTAMP, Type.TIMESTAMP2]);
/** A JSON number token: MariaDB's text of a number is one, except what this refuses (sent as a string). */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

function kindOf(c: ColumnDefinition): JsonKind {
  if (c.type === Type.JSON || c.extendedFormat === 'json') return 'json';
  if (NUMBER_TYPES.has(c.type)) return 'number';
  if (EXACT_TYPES.has(c.type) || TEMPORAL_TYPES.has(c.type)) return 'string';
  if (c.type === Type.BIT || c.type === Type.GEOMETRY || c.characterSet === BINARY_CHARSET) return 'base64';
  return 'text';
}

/** The MySQL type name a `columns` entry gives (enough to read the JSON value: exact, temporal, bytes). */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  [Type.DECIMAL]: 'DECIMAL', [Type.NEWDECIMAL]: 'DECIMAL', [Type.TINY]: 'TINYINT', [Type.SHORT]: 'SMALLINT', [Type.INT24]: 'MEDIUMINT',
  [Type.LONG]: 'INT', [Type.LONGLONG]: 'BIGINT', [Type.FLOAT]: 'FLOAT', [Type.DOUBLE]: 'DOUBLE', [Type.YEAR]: 'YEAR',
  [Type.DATE]: 'DATE', [Type.NEWDATE]: 'DATE', [Type.TIME]: 'TIME', [Type.TIME2]: 'TIME', [Type.DATETIME]: 'DATETIME',
  [Type.DATETIME2]: 'DATETIME', [Type.TIMESTAMP]: 'TIMESTAMP', [Type.TIMESTAMP2]: 'TIMESTAMP', [Type.BIT]: 'BIT',
  [Type.ENUM]: 'ENUM', [Type.SET]: 'SET', [Type.JSON]: 'JSON', [Type.GEOMETRY]: 'GEOMETRY', [Type.NULL]: 'NULL',
};

function typeName(c: ColumnDefinition): string {
  if (c.extendedFormat === 'json') return 'JSON';
  const known = TYPE_NAMES[c.type];
  if (known !== undefined) return known;
  const bytes = c.characterSet === BINARY_CHARSET;
  if (c.type === Type.VAR_STRING || c.type === Type.VARCHAR) return bytes ? 'VARBINARY' : 'VARCHAR';
  if (c.type === Type.STRING) return bytes ? 'BINARY' : 'CHAR';
  return bytes ? 'BLOB' : 'TEXT';
}

/** One key's rows as JSON, with the tag that changes whenever they do ([note: derived-answer]). */
export interface JsonAnswer extends DerivedAnswer {
  /** `[{…}, …]`, UTF-8. */
  readonly json: Buffer;
  /** A strong HTTP entity tag (with its quotes): a hash of the cache's columns and these rows. */
  readonly etag: string;
}

/** How one cache's answers become JSON: made once per cache, kept by its readers' keys per change. */
export class AnswerJson {
  readonly #kinds: ReadonlyArray<JsonKind>;
  readonly #types: ReadonlyArray<number>;
  readonly #charsets: ReadonlyArray<number>;
  readonly #decimals: ReadonlyArray<number>;
  /** Per column, `"name":` (with the comma before it), or null when a later column has its name. */
  readonly #names: ReadonlyArray<string | null>;
  /** `[{"name":…,"type":…}, …]`: the response's `columns`. */
  readonly columnsJson: string;
  /** What every tag of this cache starts from (its columns). */
  readonly #seed: string;

  constructor(columns: ReadonlyArray<ColumnDefinition>) {
    this.#kinds = columns.map(kindOf);
    this.#types = columns.map((c) => c.type);
    this.#charsets = columns.map((c) => (c.characterSet === BINARY_CHARSET ? BINARY_CHARSET : UTF8));
    this.#decimals = columns.map((c) => c.decimals);
    let first = true;
    this.#names = columns.map((c, i) => {
      if (columns.some((d, j) => j > i && d.name === c.name)) return null;
      const s = `${first ? '' : ','}${JSON.stringify(c.name)}:`;
      first = false;
      return s;
    });
    this.columnsJson = JSON.stringify(columns.map((c) => ({ name: c.name, type: typeName(c) })));
    this.#seed = this.columnsJson;
  }

  /** The key's answer as JSON ({@link JsonAnswer}); `make` of {@link Reader.answerAs}. */
  readonly make = (a: ReaderAnswer): JsonAnswer => {
    const packets = Array.isArray(a) ? this.#packets(a as ReadonlyArray<ReadonlyArray<unknown>>) : (a as { packets: string }).packets;
    const json = Buffer.from(this.#fromPackets(packets), 'utf8');
    const etag = `"${createHash('sha1').update(this.#seed).update(json).digest('base64url')}"`;
    return { json, etag, bytes: json.length + etag.length + 64 };
  };

  /** Rows kept as values ("loose" keys) as the text-protocol packets a session would get. */
  #packets(rows: ReadonlyArray<ReadonlyArray<unknown>>): string {
    const w = new PacketWriter(64 + rows.length * 32);
    for (const row of rows) {
      w.begin(0);
      for (let i = 0; i < this.#types.length; i++) writeTextValue(w, row[i] as never, this.#types[i], this.#charsets[i], this.#decimals[i]);
      w.end();
    }
    return w.finish().toString('latin1');
  }

  /** Text-protocol row packets (one char per byte; rows of 16 MiB and more are never packed) as JSON. */
  #fromPackets(packets: string): string {
    const n = this.#kinds.length;
    const out: string[] = ['['];
    const at: PacketCursor = { p: 0 };
    let firstRow = true;
    while (at.p < packets.length) {
      const end = enterRow(packets, at);
      out.push(firstRow ? '{' : ',{');
      firstRow = false;
      for (let i = 0; i < n; i++) {
        const text = readCell(packets, at);
        const name = this.#names[i];
        if (name === null) continue;
        out.push(name, text === null ? 'null' : this.#value(i, text));
      }
      out.push('}');
      at.p = end;
    }
    out.push(']');
    return out.join('');
  }

  /** One non-NULL value's JSON from its text-protocol bytes (one char per byte). */
  #value(i: number, bytes: string): string {
    switch (this.#kinds[i]) {
      case 'number':
        if (JSON_NUMBER.test(bytes)) return bytes;
        // Leading zeros (a YEAR's `0000`, a ZEROFILL column's `0042`): the number, as mysql2 reads it.
        return /^\d+$/.test(bytes) ? String(Number(bytes)) : JSON.stringify(bytes);
      case 'string':
        return JSON.stringify(bytes);
      case 'base64':
        return `"${Buffer.from(bytes, 'latin1').toString('base64')}"`;
      case 'text':
        return JSON.stringify(isAscii(bytes) ? bytes : Buffer.from(bytes, 'latin1').toString('utf8'));
      case 'json': {
        // MariaDB checks a JSON column's documents; one that does not parse is sent as its text.
        const text = isAscii(bytes) ? bytes : Buffer.from(bytes, 'latin1').toString('utf8');
        try {
          JSON.parse(text);
          return text;
        } catch {
          return JSON.stringify(text);
        }
      }
    }
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
