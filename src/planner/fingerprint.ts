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
import { SeenOnce, textHash } from './seen-once.js';
import { FROM_ENDS, isDigit, isIdentChar, JOIN_MODIFIERS, KEYWORDS, tokenize, type Tok } from './tokenizer.js';

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

// The character codes the key's spelling compares (the tokenizer has its own: a const enum is
// inlined only in the file that declares it).
const enum C { Backtick = 96, Dot = 46, LParen = 40, Zero = 48, Nine = 57 }

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
