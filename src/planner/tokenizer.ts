/**
 * The fingerprint's tokenizer: a statement split into words, literals, placeholders and
 * punctuation in one pass over the string, without the SQL parser, as the server reads it under
 * the session's sql_mode. Comments and whitespace vanish; a known word is recognised by a hash
 * computed as it is scanned (known-words.ts); a statement holding what the fingerprint must not
 * guess (a double quote, an executable comment, an unterminated quote) gives no tokens.
 *
 * [note: hot-path] Runs for every SELECT the proxy sees that the fingerprint memo does not hold:
 * one pass over the string, no regexes.
 */
import type { Value } from '../values.js';
import { KnownWords, WORD_HASH, wordHash } from './known-words.js';

/**
 * The `sql_mode` flags that change how a statement tokenizes, as bits. [note: sql-mode-quoting]
 * The fingerprint MUST read a statement as the server that runs it does: a literal that ends
 * elsewhere for the server than for Rotor is a different statement. Under NO_BACKSLASH_ESCAPES a
 * backslash in a string is itself (the session's server status says when). A double quote is a
 * string or, under ANSI_QUOTES, an identifier, which a session can switch in ways Rotor may not
 * see: a statement with one is never fingerprinted. So are executable comments (`/*!`, `/*M!`),
 * whose contents the server runs. Pinned by test/planner/fingerprint.test.ts and
 * test/e2e/injection.test.ts.
 */
export const SqlMode = { NoBackslashEscapes: 1, AnsiQuotes: 2 } as const;

/** The {@link SqlMode} bits of an `@@sql_mode` value. */
export function sqlModeBits(sqlMode: string): number {
  const flags = new Set(sqlMode.toUpperCase().split(','));
  return (flags.has('NO_BACKSLASH_ESCAPES') ? SqlMode.NoBackslashEscapes : 0) | (flags.has('ANSI_QUOTES') ? SqlMode.AnsiQuotes : 0);
}

/** The keywords: upper-cased in keys, and never a table or an alias to the table scan. */
export const KEYWORDS = new Set([
  'SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'BETWEEN', 'GROUP', 'BY', 'HAVING',
  'ORDER', 'ASC', 'DESC', 'AS', 'COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'DISTINCT', 'LIMIT', 'OFFSET', 'JOIN',
  'INNER', 'LEFT', 'RIGHT', 'OUTER', 'ON', 'USING', 'UNION', 'ALL', 'LIKE', 'TRUE', 'FALSE', 'CREATE',
  'DROP', 'SHOW', 'CACHE', 'CACHES', 'FOR', 'UPDATE', 'SHARE', 'LOCK', 'MODE', 'XOR', 'DIV', 'MOD', 'EXISTS',
]);

/** Words that end a FROM clause at its own depth. */
export const FROM_ENDS = new Set(['WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'UNION', 'FOR', 'LOCK', 'INTO', 'WINDOW', 'PROCEDURE', 'EXCEPT', 'INTERSECT']);
/** Words that may come before JOIN. */
export const JOIN_MODIFIERS = new Set(['INNER', 'LEFT', 'RIGHT', 'OUTER', 'CROSS', 'NATURAL']);
/**
 * Every word the fingerprint and its table scan compare a word with: a word token's `kw`. The
 * keywords are also upper-cased in keys.
 */
const KNOWN = new KnownWords(KEYWORDS, [...FROM_ENDS, ...JOIN_MODIFIERS, 'STRAIGHT_JOIN']);

const enum C {
  Space = 32, Tab = 9, Nl = 10, Cr = 13, Quote = 39, DQuote = 34, Backtick = 96, Backslash = 92,
  Dash = 45, Hash = 35, Slash = 47, Star = 42, Dot = 46, Semi = 59, LParen = 40, RParen = 41, Comma = 44,
  Question = 63, Zero = 48, Nine = 57,
}

export function isIdentChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c > 127;
}

function isSpace(c: number): boolean {
  return c === C.Space || c === C.Tab || c === C.Nl || c === C.Cr || c === 12 || c === 11;
}

export interface Tok {
  readonly t: 'word' | 'lit' | 'param' | 'punct' | 'raw';
  readonly text: string;
  readonly value: Value | undefined;
  readonly start: number;
  readonly end: number;
  /**
   * A word's upper-case spelling when that is one of the words the fingerprint knows
   * ({@link KNOWN}: what `text.toUpperCase()` would be compared with), else ''. '' for any other token.
   */
  readonly kw: string;
}

/** A token; every token has the same fields, in the same order (one object shape). */
function tok(t: Tok['t'], text: string, value: Value | undefined, start: number, end: number, kw = ''): Tok {
  return { t, text, value, start, end, kw };
}

/** Splits a statement into tokens; null when it holds something the fingerprint must not guess. */
export function tokenize(sql: string, mode: number): Tok[] | null {
  const backslashEscapes = (mode & SqlMode.NoBackslashEscapes) === 0;
  const out: Tok[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) { i++; continue; }
    // `--` starts a comment before whitespace or any control character, as the server reads it.
    if (c === C.Hash || (c === C.Dash && sql.charCodeAt(i + 1) === C.Dash && (i + 2 >= n || sql.charCodeAt(i + 2) <= 32))) {
      while (i < n && sql.charCodeAt(i) !== C.Nl) i++;
      continue;
    }
    if (c === C.Slash && sql.charCodeAt(i + 1) === C.Star) {
      // Executable (/*! */, /*M! */) and hint (/*+ */) comments change meaning: never fingerprint those.
      const k = sql.charCodeAt(i + 2);
      if (k === 33 || k === 43 || (k === 77 && sql.charCodeAt(i + 3) === 33)) return null;
      const e = sql.indexOf('*/', i + 2);
      if (e < 0) return null;
      i = e + 2;
      continue;
    }
    if (c === C.DQuote) return null;
    if (c === C.Quote) {
      const start = i;
      let s = '';
      let j = i + 1;
      let seg = j;
      for (;;) {
        if (j >= n) return null;
        const d = sql.charCodeAt(j);
        if (d === C.Backslash && backslashEscapes) {
          s += sql.slice(seg, j) + unescapeChar(sql.charCodeAt(j + 1));
          j += 2; seg = j; continue;
        }
        if (d === c) {
          if (sql.charCodeAt(j + 1) === c) { s += sql.slice(seg, j + 1); j += 2; seg = j; continue; }
          s += sql.slice(seg, j);
          break;
        }
        j++;
      }
      i = j + 1;
      out.push(tok('lit', '?', s, start, i));
      continue;
    }
    if (c === C.Backtick) {
      const e = sql.indexOf('`', i + 1);
      if (e < 0) return null;
      const inner = sql.slice(i + 1, e);
      let plain = inner.length > 0 && !KEYWORDS.has(inner.toUpperCase()) && !(inner.charCodeAt(0) >= C.Zero && inner.charCodeAt(0) <= C.Nine);
      for (let k = 0; plain && k < inner.length; k++) plain = isIdentChar(inner.charCodeAt(k));
      const text = plain ? inner : sql.slice(i, e + 1);
      out.push(tok('word', text, undefined, i, e + 1, KNOWN.get(text.toUpperCase())?.upper ?? ''));
      i = e + 1;
      continue;
    }
    if ((c >= C.Zero && c <= C.Nine) || (c === C.Dot && isDigit(sql.charCodeAt(i + 1)))) {
      const start = i;
      if (c === C.Zero && (sql.charCodeAt(i + 1) === 120 || sql.charCodeAt(i + 1) === 98)) {
        let j = i + 2;
        while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
        out.push(tok('raw', sql.slice(i, j), undefined, start, j));
        i = j;
        continue;
      }
      let j = i;
      let isInt = true;
      // The integer's value as its digits go by: exact below 16 digits (< 2^53), as Number(text).
      let v = 0;
      for (let d = sql.charCodeAt(j); j < n && isDigit(d); d = sql.charCodeAt(++j)) v = v * 10 + (d - C.Zero);
      if (sql.charCodeAt(j) === C.Dot) { isInt = false; j++; while (j < n && isDigit(sql.charCodeAt(j))) j++; }
      const e = sql.charCodeAt(j);
      if (e === 101 || e === 69) {
        const k = sql.charCodeAt(j + 1) === 43 || sql.charCodeAt(j + 1) === C.Dash ? j + 2 : j + 1;
        if (isDigit(sql.charCodeAt(k))) { isInt = false; j = k; while (j < n && isDigit(sql.charCodeAt(j))) j++; }
      }
      if (j < n && isIdentChar(sql.charCodeAt(j))) {
        // An identifier starting with digits (`1abc`): keep it whole.
        while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
        out.push(tok('word', sql.slice(start, j), undefined, start, j));
        i = j;
        continue;
      }
      out.push(tok('lit', '?', !isInt ? sql.slice(start, j) : j - start < 16 ? v : integer(sql.slice(start, j)), start, j));
      i = j;
      continue;
    }
    if (isIdentChar(c)) {
      const start = i;
      // The word's hash, for KNOWN, as it is scanned: no upper-cased copy. [note: hot-path]
      let h = wordHash(WORD_HASH, c);
      let ascii = c < 128;
      let j = i + 1;
      for (; j < n; j++) {
        const d = sql.charCodeAt(j);
        if (!isIdentChar(d)) break;
        h = wordHash(h, d);
        if (d > 127) ascii = false;
      }
      const next = sql.charCodeAt(j);
      // x'..', b'..', N'..' and _charset'..' literals: context-typed, keep them verbatim.
      if (next === C.Quote && (j - start === 1 || c === 95)) {
        // The quoted part ends where the server's string ends (escapes and doubled quotes included).
        let e = j + 1;
        for (;;) {
          if (e >= n) return null;
          const d = sql.charCodeAt(e);
          if (d === C.Backslash && backslashEscapes) { e += 2; continue; }
          if (d === C.Quote) {
            if (sql.charCodeAt(e + 1) === C.Quote) { e += 2; continue; }
            break;
          }
          e++;
        }
        out.push(tok('raw', sql.slice(start, e + 1), undefined, start, e + 1));
        i = e + 1;
        continue;
      }
      // A word with other than ASCII characters is known by what toUpperCase makes of it (`ſelect`).
      const known = ascii ? KNOWN.find(sql, start, j, h) : KNOWN.get(sql.slice(start, j).toUpperCase());
      // Keywords are upper-cased; other words keep their case.
      out.push(tok('word', known?.keyword === true ? known.upper : sql.slice(start, j), undefined, start, j, known?.upper ?? ''));
      i = j;
      continue;
    }
    if (c === C.Question) { out.push(tok('param', '?', undefined, i, i + 1)); i++; continue; }
    // Multi-character operators.
    const op = operator(c, sql.charCodeAt(i + 1), sql.charCodeAt(i + 2));
    if (op !== null) {
      out.push(tok('punct', op, undefined, i, i + op.length));
      i += op.length;
      continue;
    }
    out.push(tok('punct', sql[i], undefined, i, i + 1));
    i++;
  }
  while (out.length > 0 && out[out.length - 1].text === ';') out.pop();
  return out;
}

/** The operator of two or three characters starting with `a`, `b`, `c`, or null. */
function operator(a: number, b: number, c: number): string | null {
  switch (a) {
    case 60: // <
      if (b === 61) return c === 62 ? '<=>' : '<=';
      return b === 62 ? '<>' : b === 60 ? '<<' : null;
    case 62: // >
      return b === 61 ? '>=' : b === 62 ? '>>' : null;
    case 33: // !
      return b === 61 ? '!=' : null;
    case 124: // |
      return b === 124 ? '||' : null;
    case 38: // &
      return b === 38 ? '&&' : null;
    case 58: // :
      return b === 61 ? ':=' : null;
    default:
      return null;
  }
}

export function isDigit(c: number): boolean {
  return c >= C.Zero && c <= C.Nine;
}

function integer(text: string): number | bigint | string {
  if (text.length < 16) return Number(text);
  const b = BigInt(text);
  return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

function unescapeChar(c: number): string {
  switch (c) {
    case 48: return '\0';
    case 98: return '\b';
    case 110: return '\n';
    case 114: return '\r';
    case 116: return '\t';
    case 90: return '\x1a';
    // `\%` and `\_` keep their backslash (they are LIKE escapes).
    case 37: return '\\%';
    case 95: return '\\_';
    default: return Number.isNaN(c) ? '' : String.fromCharCode(c);
  }
}
