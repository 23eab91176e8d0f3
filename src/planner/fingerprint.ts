/**
 * The fingerprint: a statement reduced, in microseconds and without the SQL parser, to a key that
 * every textual variant of "the same query with other literals" shares, plus the literals it took
 * out. `SELECT  fans FROM fan_count where item_id=42 -- hi` and
 * `SELECT fans FROM fan_count WHERE item_id = ?` both become
 * `SELECT fans FROM fan_count WHERE item_id = ?`; the first yields the literal 42.
 *
 * Rules: comments and whitespace vanish; known keywords are upper-cased (identifiers keep their
 * case: table names are case-sensitive upstream); backticks around plain identifiers are dropped;
 * numbers and quoted strings become `?` and are returned as literals (hex, bit and
 * charset-introduced literals stay in the key: their type depends on context); a parenthesised
 * list of literals/placeholders after IN folds to `IN (?+)` and is returned as one list literal.
 *
 * [note: hot-path] Runs for every SELECT the proxy sees: one pass over the string, no regexes.
 */
import type { Value } from '../values.js';
import { KnownWords, WORD_HASH, wordHash } from './known-words.js';
import { SeenOnce, textHash } from './seen-once.js';

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

/** One literal taken out of a statement, in order of appearance. */
export type Literal =
  /** `number`: a number written with a point or an exponent (its value is its text, as a string's is). */
  | { readonly kind: 'value'; readonly value: Value; readonly number?: true }
  | { readonly kind: 'param' }
  | { readonly kind: 'list'; readonly items: ReadonlyArray<Literal> };

export interface Fingerprint {
  readonly key: string;
  readonly literals: ReadonlyArray<Literal>;
  /** Offsets of the select list (after SELECT/DISTINCT, before the top-level FROM), or -1. */
  readonly selectStart: number;
  readonly selectEnd: number;
  /** Offset just after the last significant token (trailing `;`, comments and spaces excluded). */
  readonly end: number;
  /** Offset of the statement's own (outermost) LIMIT, or -1. */
  readonly limitStart: number;
  /**
   * Offsets in `key` of the tables the statement names without their database, or null when it
   * names tables where the fingerprint cannot tell them all apart ([note: scoped-key]).
   */
  readonly unqualifiedTables: ReadonlyArray<number> | null;
}

const KEYWORDS = new Set([
  'SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'BETWEEN', 'GROUP', 'BY', 'HAVING',
  'ORDER', 'ASC', 'DESC', 'AS', 'COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'DISTINCT', 'LIMIT', 'OFFSET', 'JOIN',
  'INNER', 'LEFT', 'RIGHT', 'OUTER', 'ON', 'USING', 'UNION', 'ALL', 'LIKE', 'TRUE', 'FALSE', 'CREATE',
  'DROP', 'SHOW', 'CACHE', 'CACHES', 'FOR', 'UPDATE', 'SHARE', 'LOCK', 'MODE', 'XOR', 'DIV', 'MOD', 'EXISTS',
]);

/** Words that end a FROM clause at its own depth. */
const FROM_ENDS = new Set(['WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'UNION', 'FOR', 'LOCK', 'INTO', 'WINDOW', 'PROCEDURE', 'EXCEPT', 'INTERSECT']);
/** Words that may come before JOIN. */
const JOIN_MODIFIERS = new Set(['INNER', 'LEFT', 'RIGHT', 'OUTER', 'CROSS', 'NATURAL']);
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

function isIdentChar(c: number): boolean {
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

function isDigit(c: number): boolean {
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

/**
 * [note: hot-path] The fingerprints of recent statements, by their exact text (and sql_mode bits):
 * an application repeats the same texts (a hot key's read, an UPDATE of a counter), and a repeat
 * skips the tokenizer. A text is kept from the second time it is seen ([note: seen-once]), in the
 * slot its hash picks (pushing out the text there): one hash of the text serves the doorkeeper and
 * the memo, and a text the memo does not hold costs one slot compared, where a map costs a second
 * hash and a walk of a large table (measured at about a microsecond per relayed statement).
 * Bounded: {@link MEMO_SIZE} texts; a text longer than {@link MEMO_TEXT} characters is not kept.
 * Fingerprints are never changed once made, so one may be handed out many times.
 */
class FingerprintMemo {
  readonly #texts: Array<string | null> = new Array<string | null>(MEMO_SIZE).fill(null);
  // The texts' hashes: most texts not held are told apart from the one in their slot without
  // reading it (texts that differ in one literal are mostly of one length and one prefix).
  readonly #hashes = new Int32Array(MEMO_SIZE);
  readonly #modes = new Uint8Array(MEMO_SIZE);
  readonly #fingerprints: Array<Fingerprint | null> = new Array<Fingerprint | null>(MEMO_SIZE).fill(null);
  readonly #seen = new SeenOnce();

  get(sql: string, mode: number): Fingerprint | null {
    const m = mode & 3;
    const h = textHash(sql, m);
    const slot = h & (MEMO_SIZE - 1);
    if (this.#hashes[slot] === h && this.#texts[slot] === sql && this.#modes[slot] === m) return this.#fingerprints[slot];
    const fp = fingerprintOf(sql, mode);
    if (this.#seen.againHashed(h)) {
      this.#texts[slot] = sql;
      this.#hashes[slot] = h;
      this.#modes[slot] = m;
      this.#fingerprints[slot] = fp;
    }
    return fp;
  }
}

/** A power of two: the hash's low bits pick the slot. */
const MEMO_SIZE = 8192;
const MEMO_TEXT = 1024;
const memo = new FingerprintMemo();

/**
 * The fingerprint of a statement, or null when it cannot be fingerprinted safely (unterminated
 * quotes, executable comments, several statements).
 */
export function fingerprint(sql: string, mode = 0): Fingerprint | null {
  return sql.length > MEMO_TEXT ? fingerprintOf(sql, mode) : memo.get(sql, mode);
}

function fingerprintOf(sql: string, mode: number): Fingerprint | null {
  const toks = tokenize(sql, mode);
  if (toks === null || toks.length === 0) return null;
  const literals: Literal[] = [];
  let key = '';
  let depth = 0;
  let selectStart = -1;
  let selectEnd = -1;
  let limitStart = -1;
  const tables = new TableScan();
  // The key's last token, for the spacing rule (never read back from `key`: reading a string being
  // built by `+=` flattens it, once per token).
  let prev = '';
  for (let i = 0; i < toks.length; i++) {
    const tk = toks[i];
    if (tk.text === ';') return null;
    if (tables.token(toks, i)) tables.at(key.length + joiner(prev, tk.text).length);
    if (tk.text === '(') depth++;
    else if (tk.text === ')') depth--;
    if (depth === 0 && tk.t === 'word') {
      if (tk.text === 'SELECT' && selectStart < 0) {
        let s = i + 1;
        while (s < toks.length && (toks[s].text === 'DISTINCT' || toks[s].text === 'ALL')) s++;
        selectStart = s < toks.length ? toks[s].start : tk.end;
      } else if (tk.text === 'FROM' && selectStart >= 0 && selectEnd < 0) {
        selectEnd = toks[i - 1].end;
      } else if (tk.text === 'LIMIT') {
        limitStart = tk.start;
      }
    }
    if (tk.text === 'IN' && toks[i + 1]?.text === '(') {
      const folded = foldList(sql, toks, i + 2);
      if (folded !== null) {
        literals.push({ kind: 'list', items: folded.items });
        key += (prev === '' ? '' : ' ') + 'IN (?+)';
        prev = 'IN (?+)';
        i = folded.close;
        continue;
      }
    }
    let text: string;
    if (tk.t === 'lit') { literals.push(valueLiteral(sql, tk)); text = '?'; }
    else if (tk.t === 'param') { literals.push(PARAM); text = '?'; }
    else text = tk.text;
    key += joiner(prev, text) + text;
    prev = text;
  }
  return { key, literals, selectStart, selectEnd, end: toks[toks.length - 1].end, limitStart, unqualifiedTables: tables.unqualified };
}

/**
 * [note: scoped-key] The key a statement is routed by, in the database `database` names when the
 * statement names a table without one (the session's current database, or the database a cache was
 * registered in). Two statements route alike only when they read the same tables: a statement whose
 * every table the fingerprint located is keyed by its tables with their databases written out
 * (`SELECT v FROM kv` in `shop` and `SELECT v FROM shop.kv` anywhere share a key); any other is keyed
 * by the database and its own text, so it matches only caches registered from that database. Null
 * when an unqualified table has no database to resolve it (no session database): nothing matches.
 * Pinned by test/planner/fingerprint.test.ts and test/e2e/routing.test.ts.
 */
export function scopedKey(fp: Fingerprint, database: string | null): string | null {
  const at = fp.unqualifiedTables;
  if (at === null) return database === null ? null : `${database}\0${fp.key}`;
  if (at.length === 0) return `\0${fp.key}`;
  if (database === null) return null;
  const prefix = `${identifierText(database)}.`;
  let out = '\0';
  let from = 0;
  for (const p of at) {
    out += fp.key.slice(from, p) + prefix;
    from = p;
  }
  return out + fp.key.slice(from);
}

/** An identifier as the key spells it: bare when the tokenizer drops its backticks, else quoted. */
function identifierText(name: string): string {
  let plain = name.length > 0 && !KEYWORDS.has(name.toUpperCase()) && !isDigit(name.charCodeAt(0));
  for (let k = 0; plain && k < name.length; k++) plain = isIdentChar(name.charCodeAt(k)) && name.charCodeAt(k) !== C.Backtick;
  return plain ? name : `\`${name}\``;
}

/**
 * Where in a FROM clause the scan is: `table` a table (or a derived table) comes next; `dot` the
 * word just read may be a database (`db.t`); `named` a table was read (an alias may follow);
 * `aliased` its alias too; `joining` join modifiers were read (JOIN comes next); `condition` inside
 * ON/USING, where only JOIN, a comma or the clause's end bring another table.
 */
type FromState = 'table' | 'dot' | 'qualified' | 'named' | 'aliased' | 'joining' | 'condition';

/**
 * [note: scoped-key] Finds the tables of a statement as its tokens go by, without a parser: after
 * FROM (at the depth of a SELECT), JOIN, or a comma of the FROM list. It gives up (null) on
 * anything in a FROM clause it does not follow: nested join lists `FROM (a, b)`, STRAIGHT_JOIN,
 * index hints, PARTITION, LATERAL — never a guess, since a table it missed would resolve in another
 * database than the key says.
 */
class TableScan {
  /** Offsets of unqualified tables in the key, or null once the scan gave up. */
  unqualified: number[] | null = [];
  /** Per open parenthesis (and the statement): whether a SELECT began there, and its FROM state. */
  readonly #frames: Array<{ select: boolean; from: FromState | null }> = [{ select: false, from: null }];

  /** Records where the table {@link token} just found begins in the key. */
  at(offset: number): void {
    this.unqualified?.push(offset);
  }

  /** Reads the token at `i`; true when it names a table without its database (its offset comes next, {@link at}). */
  token(toks: ReadonlyArray<Tok>, i: number): boolean {
    if (this.unqualified === null) return false;
    const tk = toks[i];
    const frame = this.#frames[this.#frames.length - 1];
    const upper = tk.kw;
    const from = frame.from;
    if (tk.text === ')') {
      if (this.#frames.length > 1) this.#frames.pop();
      return false;
    }
    if (from === null) {
      if (upper === 'SELECT') frame.select = true;
      else if (upper === 'FROM' && frame.select) frame.from = 'table';
      if (tk.text === '(') this.#frames.push({ select: false, from: null });
      return false;
    }
    if (from === 'dot') {
      // The word before was a database: this dot and the table after it are read as a whole.
      frame.from = tk.text === '.' ? 'qualified' : this.#afterTable(frame, toks, i, 'named');
      return false;
    }
    if (from === 'qualified') {
      frame.from = tk.t === 'word' ? 'named' : null;
      if (tk.t !== 'word') this.unqualified = null;
      return false;
    }
    if (from === 'table') {
      if (tk.text === '(' && toks[i + 1]?.kw === 'SELECT') {
        frame.from = 'named';
        this.#frames.push({ select: false, from: null });
      } else if (tk.t === 'word' && !KEYWORDS.has(upper)) {
        frame.from = 'dot';
        return toks[i + 1]?.text !== '.';
      } else {
        this.unqualified = null;
      }
      return false;
    }
    this.#afterTable(frame, toks, i, from);
    return false;
  }

  /** A token after a table, an alias, join modifiers or inside a join condition. */
  #afterTable(frame: { select: boolean; from: FromState | null }, toks: ReadonlyArray<Tok>, i: number, from: FromState): FromState | null {
    const tk = toks[i];
    const upper = tk.kw;
    let next: FromState | null = from;
    if (FROM_ENDS.has(upper)) next = null;
    else if (tk.text === ',' || upper === 'JOIN') next = 'table';
    else if (upper === 'STRAIGHT_JOIN') this.unqualified = null;
    else if (JOIN_MODIFIERS.has(upper) && toks[i + 1]?.text !== '(') next = 'joining';
    else if (from === 'joining') this.unqualified = null;
    else if (upper === 'ON' || upper === 'USING') next = 'condition';
    else if (from === 'condition') {
      if (tk.text === '(') this.#frames.push({ select: false, from: null });
    } else if (from === 'named' && upper === 'AS') next = 'named';
    else if ((from === 'named' || from === 'dot') && tk.t === 'word' && !KEYWORDS.has(upper)) next = 'aliased';
    else this.unqualified = null;
    frame.from = next;
    if (next === null && upper === 'UNION') frame.select = false;
    return next;
  }
}

const PARAM: Literal = { kind: 'param' };

/** What goes between the key's last token `prev` ('' at the start) and the next, `text`. */
function joiner(prev: string, text: string): string {
  if (prev.length === 0) return '';
  const last = prev.charCodeAt(prev.length - 1);
  if (last === C.LParen || last === C.Dot || text === ')' || text === ',' || text === '.') return '';
  // `COUNT(*)` and `f(x)` stay compact; `IN (`, `AND (` keep their space.
  if (text === '(' && isIdentChar(last) && !KEY_SPACE_BEFORE_PAREN.has(lastWord(prev))) return '';
  return ' ';
}

const KEY_SPACE_BEFORE_PAREN = new Set(['IN', 'AND', 'OR', 'NOT', 'WHERE', 'ON', 'FROM', 'JOIN', 'SELECT', 'HAVING', 'BY', 'AS', 'XOR', 'EXISTS']);

function lastWord(key: string): string {
  let j = key.length;
  while (j > 0 && isIdentChar(key.charCodeAt(j - 1))) j--;
  return key.slice(j);
}

function foldList(sql: string, toks: Tok[], from: number): { items: Literal[]; close: number } | null {
  const items: Literal[] = [];
  let i = from;
  for (;;) {
    const tk = toks[i];
    if (tk === undefined) return null;
    if (tk.t === 'lit') items.push(valueLiteral(sql, tk));
    else if (tk.t === 'param') items.push(PARAM);
    else if (tk.t === 'word' && tk.text === 'NULL') items.push({ kind: 'value', value: null });
    else return null;
    const sep = toks[i + 1];
    if (sep?.text === ')') return { items, close: i + 1 };
    if (sep?.text !== ',') return null;
    i += 2;
  }
}

/** `sql` with every `?` placeholder (outside quotes and comments) replaced by `replacement`. */
export function replacePlaceholders(sql: string, replacement: string, mode = 0): string {
  const toks = tokenize(sql, mode);
  if (toks === null) return sql;
  let out = '';
  let at = 0;
  for (const t of toks) {
    if (t.t !== 'param') continue;
    out += sql.slice(at, t.start) + replacement;
    at = t.end;
  }
  return out + sql.slice(at);
}

/**
 * A literal token's value; a decimal or floating-point number is marked, as its value is its text
 * like a quoted string's: `1.5` and `'1.5'` are different constants (DECIMAL, string).
 */
function valueLiteral(sql: string, tk: Tok): Literal {
  const c = sql.charCodeAt(tk.start);
  return typeof tk.value === 'string' && ((c >= C.Zero && c <= C.Nine) || c === C.Dot) ? { kind: 'value', value: tk.value, number: true } : { kind: 'value', value: tk.value as Value };
}
