/**
 * Reads a collation's weights from the upstream, for [note: collations]: MariaDB's own
 * `WEIGHT_STRING()` of every character the collation's character set has below U+10000, how the
 * characters above weigh, whether trailing spaces count, and a check that two-character strings
 * weigh as their characters do. What Rotor cannot reproduce this way comes back as a refusal with
 * the reason, never as an approximation.
 */
import { Collation, type CollationEntry, type Supplementary } from '../dataflow/collation.js';

/** Runs one statement on Rotor's own upstream connection, rows as arrays. */
export type RowsQuery = (sql: string, values?: ReadonlyArray<unknown>) => Promise<unknown[][]>;

/** Unicode sets: any character converts into them, and only their untailored collations are reproduced. */
const UNICODE_SETS = new Set(['utf8mb3', 'utf8mb4', 'ucs2', 'utf16', 'utf16le', 'utf32']);

/**
 * Collations of Unicode sets without a language's tailoring: their weights are the characters'
 * weights one after another. A tailoring may join letters into one weight (Czech `ch`, Spanish
 * `ll`), which character weights cannot show.
 */
const UNTAILORED = /_(bin|nopad_bin|general_ci|general_nopad_ci|general_mysql500_ci|unicode_ci|unicode_nopad_ci|unicode_520_ci|unicode_520_nopad_ci|uca1400_ai_ci|uca1400_nopad_ai_ci)$/;

/** The weight bytes of one character, text in `cs` under `name`, as SQL over the code point `seq`. */
function weightSql(cs: string, name: string, chars: string): string {
  return `WEIGHT_STRING(CONVERT(${chars} USING ${cs}) COLLATE ${name})`;
}

const CHAR = (col: string): string => `CHAR(${col} USING utf32)`;

/** Loads collation `name` from the upstream: its weights, or why Rotor does not reproduce it. */
export async function loadCollation(query: RowsQuery, name: string): Promise<CollationEntry> {
  if (!/^\w+$/.test(name)) return { refused: 'not a collation name Rotor can read' };
  const found = await query(
    'SELECT c.CHARACTER_SET_NAME, s.MAXLEN FROM information_schema.COLLATIONS c JOIN information_schema.CHARACTER_SETS s USING (CHARACTER_SET_NAME) WHERE c.COLLATION_NAME = ?',
    [name],
  );
  if (found.length === 0) return { refused: 'the upstream does not list it' };
  const cs = String(found[0][0]);
  const maxLen = Number(found[0][1]);
  if (!/^\w+$/.test(cs)) return { refused: `character set ${cs}` };
  if (UNICODE_SETS.has(cs) ? !UNTAILORED.test(name) : maxLen !== 1) {
    return { refused: UNICODE_SETS.has(cs) ? 'a language tailoring may weigh letters together' : `the multi-byte character set ${cs} is not reproduced` };
  }
  try {
    return await readWeights(query, name, cs, maxLen);
  } catch (e) {
    // Without MariaDB's Sequence engine there is no table of every character to weigh; anything
    // else (the upstream away) is not a fact about the collation and is thrown.
    if ((e as { errno?: number }).errno === ER_NO_SUCH_TABLE) return { refused: 'reading its weights needs MariaDB\'s Sequence engine (seq_0_to_65535)' };
    throw e;
  }
}

const ER_NO_SUCH_TABLE = 1146;

/** The most characters above U+FFFF with weights of their own Rotor keeps for one collation. */
const MAX_LISTED = 100_000;

async function readWeights(query: RowsQuery, name: string, cs: string, maxLen: number): Promise<CollationEntry> {
  const seq = 'mysql.seq_0_to_65535';
  // Characters below U+10000 the set has: those that convert into it and back unchanged.
  const rows = await query(
    `SELECT seq, ${weightSql(cs, name, CHAR('seq'))} FROM ${seq} WHERE (seq < 55296 OR seq > 57343) `
    + `AND CAST(CONVERT(CONVERT(${CHAR('seq')} USING ${cs}) USING utf32) AS BINARY) = CAST(${CHAR('seq')} AS BINARY)`,
  );
  const bmp = new Map<number, Buffer>();
  for (const r of rows) bmp.set(Number(r[0]), asBuffer(r[1]));
  const space = bmp.get(0x20);
  if (space === undefined || space.length === 0) return { refused: 'a space has no weight' };
  const width = space.length;
  if (width > 3 || [...bmp.values()].some((w) => w.length % width !== 0)) return { refused: 'its weights are not whole units' };

  let supplementary: Supplementary = { kind: 'none' };
  if (maxLen >= 4) {
    // MariaDB weighs them by rule (one replacement weight, or the code point): every 61st is
    // checked against the rule rather than all million, which would take seconds.
    const [s] = await query(
      `SELECT COUNT(*), SUM(t.w = f.w), SUM(t.w = UNHEX(LPAD(HEX(seq), 6, '0'))), MIN(f.w) FROM `
      + `(SELECT seq, ${weightSql(cs, name, CHAR('seq'))} w FROM mysql.seq_65536_to_1114111_step_61) t `
      + `JOIN (SELECT ${weightSql(cs, name, CHAR('65536'))} w) f`,
    );
    const [count, same, codepoints, first] = [Number(s[0]), Number(s[1]), Number(s[2]), asBuffer(s[3])];
    if (same === count) supplementary = { kind: 'same', weight: first };
    else if (width === 3 && codepoints === count) supplementary = { kind: 'codepoint' };
    else if (width === 2) {
      // UCA's implicit weights but for the characters the collation lists (a few thousand in
      // UCA 5.2.0): every one that weighs otherwise is read, all million checked by the server.
      const listed = await query(
        `SELECT seq, w FROM (SELECT seq, ${weightSql(cs, name, CHAR('seq'))} w FROM mysql.seq_65536_to_1114111) t `
        + `WHERE HEX(w) <> CONCAT(HEX(0xFBC0 + (seq >> 15)), HEX((seq & 0x7FFF) | 0x8000)) LIMIT ${MAX_LISTED + 1}`,
      );
      if (listed.length > MAX_LISTED) return { refused: 'it weighs characters above U+FFFF one by one, which Rotor does not reproduce' };
      supplementary = { kind: 'implicit', listed: new Map(listed.map((r) => [Number(r[0]), asBuffer(r[1])])) };
    } else return { refused: 'it weighs characters above U+FFFF one by one, which Rotor does not reproduce' };
  }

  const [[padded]] = await query(`SELECT CONVERT('a' USING ${cs}) COLLATE ${name} = CONVERT('a ' USING ${cs})`);
  const collation = new Collation({ name, pad: Number(padded) === 1, width, bmp, supplementary });

  // Two letters weigh as the two one after the other (no contraction among the letters and signs
  // of ASCII and Latin-1), else the collation is not the sum of its characters.
  const [pair] = await query(
    `SELECT a.seq, b.seq FROM mysql.seq_33_to_255 a JOIN mysql.seq_33_to_255 b `
    + `WHERE ${weightSql(cs, name, `CONCAT(${CHAR('a.seq')}, ${CHAR('b.seq')})`)} <> CONCAT(${weightSql(cs, name, CHAR('a.seq'))}, ${weightSql(cs, name, CHAR('b.seq'))}) `
    + `AND CAST(CONVERT(CONVERT(CONCAT(${CHAR('a.seq')}, ${CHAR('b.seq')}) USING ${cs}) USING utf32) AS BINARY) = CAST(CONCAT(${CHAR('a.seq')}, ${CHAR('b.seq')}) AS BINARY) LIMIT 1`,
  );
  if (pair !== undefined) return { refused: `it weighs ${JSON.stringify(String.fromCodePoint(Number(pair[0]), Number(pair[1])))} otherwise than its two letters` };
  return collation;
}

function asBuffer(v: unknown): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(String(v ?? ''), 'latin1');
}
