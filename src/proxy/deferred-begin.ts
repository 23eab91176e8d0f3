/**
 * [note: deferred-begin] With `--defer-begin on`, a plain `BEGIN` or `START TRANSACTION` (any case
 * and whitespace, an optional `;`, nothing else) from a session that is not in a transaction is
 * answered at once with the OK MariaDB sends, and goes upstream in the same write as the session's
 * next relayed command (MariaDB runs pipelined commands in order); Rotor swallows its response.
 * The session state notes it as a relayed BEGIN at once, so routing sees the transaction from the
 * moment the client does. The upstream sees the same commands in the same order, only later:
 * nothing but Rotor's own answers comes between the BEGIN and the command it goes with. COM_QUIT
 * drops it (a BEGIN and a disconnect leave nothing); COM_STMT_CLOSE and COM_STMT_SEND_LONG_DATA
 * (no response, nothing transactional) leave it waiting.
 *
 * Exactness, in three nets:
 * 1. Which sessions: the first BEGIN of each form in a session (and after COM_CHANGE_USER or
 *    COM_RESET_CONNECTION) is relayed and its OK compared with the one Rotor would make (status
 *    `AUTOCOMMIT`/`NO_BACKSLASH_ESCAPES`/`ANSI_QUOTES` as before it plus `IN_TRANS`, no affected rows, no
 *    warnings, no info, no session-state change): a server whose BEGIN says anything else
 *    (session-state tracking, a read-only transaction, a slow-query flag, sql_mode=ORACLE's
 *    syntax error) never has it deferred in that session. A statement that could change that
 *    answer, or make a later BEGIN fail, stops deferral for the session for good: XA, LOCK
 *    (TABLES), FLUSH, BACKUP, CALL, PREPARE, EXECUTE (statements Rotor does not see), anything
 *    naming session_track*, sql_mode, read only, long_query_time, idle_*transaction_timeout (an
 *    idle transaction is timed from its BEGIN) or wsrep, and COM_REFRESH.
 * 2. When: only while the session's last relayed command ended without an error, so its status
 *    flags are fresh (an ERR carries none) and say it is outside a transaction with autocommit on.
 * 3. Checked: the response to the deferred BEGIN is compared with the OK the client was given.
 *    Any difference (but the slow-query flag, which says how long the statement took) closes the
 *    session: the command sent with the BEGIN is answered with BEGIN's error (or Rotor's), and
 *    the upstream connection is cut, so a transaction it opened is rolled back.
 * What the nets cannot stop: a BEGIN that fails without opening a transaction although nothing
 * the session did allows it (KILL QUERY in the microseconds it runs, Galera's wsrep_sync_wait
 * timing out, a server out of memory) lets the command pipelined with it run in autocommit; the
 * session is then closed, but a write it made stays. And a server whose global
 * idle_transaction_timeout (or idle_readonly_…) is set times an idle transaction from the BEGIN it
 * has not received yet. This is why the option is off by default.
 * Pinned by test/e2e/deferred-begin.test.ts.
 */
import { Com, Status } from './protocol/constants.js';

/** Whitespace as MariaDB's lexer skips it (ASCII only: JS's `\s` takes more). */
const BEGIN_FORMS = /^[ \t\n\r\v\f]*(?:(BEGIN)|START[ \t\n\r\v\f]+TRANSACTION)[ \t\n\r\v\f]*(?:;[ \t\n\r\v\f]*)?$/i;
/** Longer packets are never a plain BEGIN worth deferring (whitespace runs are relayed). */
const MAX_BEGIN_PACKET = 64;
/** Statements after which a deferred BEGIN could be answered differently, or fail. */
const STOPS = /\b(?:XA|LOCK|FLUSH|BACKUP|CALL|PREPARE|EXECUTE)\b|session_track|sql_mode|read[ \t\n\r\v\f_]+only|long_query_time|idle_\w*transaction_timeout|wsrep/i;
/** SERVER_STATUS_ANSI_QUOTES: MariaDB reports sql_mode's ANSI_QUOTES in every status. */
const ANSI_QUOTES = 0x8000;
/** Status flags a BEGIN keeps from the session's state. */
const KEPT = Status.AUTOCOMMIT | Status.NO_BACKSLASH_ESCAPES | ANSI_QUOTES;
/** A flag that says how long the statement took, not what it did. */
const SLOW_HI = Status.QUERY_WAS_SLOW >> 8;

type Form = 'begin' | 'start';

/** The upstream's response to a deferred BEGIN is not the OK the client was given. */
export interface BeginFailure {
  /** MariaDB's ERR packet (sequence id as MariaDB sent it), or null when it answered an OK unlike Rotor's. */
  readonly err: Buffer | null;
  readonly got: Buffer;
  readonly expected: Buffer;
}

/** The status flags of a session as a deferred BEGIN reads them. */
export interface StatusView {
  readonly status: number;
  readonly inTransaction: boolean;
}

export class BeginDeferral {
  /** Why this session never defers, or null. */
  #stopped: string | null = null;
  #learned: Record<Form, boolean> = { begin: false, start: false };
  /** The last relayed command ended without an error (its status flags are fresh). */
  #fresh = true;
  /** A BEGIN answered, not sent yet, and the OK it was answered with. */
  #pending: Buffer | null = null;
  #sent: Buffer | null = null;
  /** What the upstream's first packet is compared with, and how: learn (passed on) or check (swallowed). */
  #awaiting: { readonly mode: 'learn' | 'check'; readonly expected: Buffer; readonly form: Form } | null = null;
  #got: Buffer = Buffer.alloc(0);
  readonly #onFailure: (f: BeginFailure) => void;

  constructor(onFailure: (f: BeginFailure) => void) {
    this.#onFailure = onFailure;
  }

  /** Why the session no longer defers BEGIN, or null. */
  get stopped(): string | null {
    return this.#stopped;
  }

  /** True while a BEGIN was answered and not sent. */
  get pending(): boolean {
    return this.#pending !== null;
  }

  /** True while the upstream's response to a BEGIN is expected first. */
  get awaiting(): boolean {
    return this.#awaiting !== null;
  }

  /** A statement text the session sends upstream (COM_QUERY, COM_STMT_PREPARE). */
  screen(sql: string): void {
    if (this.#stopped !== null) return;
    const m = STOPS.exec(sql);
    if (m !== null) this.stop(`a statement naming ${m[0].toUpperCase()}`);
  }

  stop(reason: string): void {
    this.#stopped ??= reason;
  }

  /** COM_CHANGE_USER, COM_RESET_CONNECTION: session variables are the server's defaults again. */
  relearn(): void {
    this.#learned = { begin: false, start: false };
  }

  /** A relayed command's response ended (`ok`: not with an ERR). */
  ended(ok: boolean): void {
    this.#fresh = ok;
  }

  /**
   * A COM_QUERY about to go upstream: the OK to answer it with when it is a BEGIN to defer (then
   * pending), else null. A BEGIN this session has not had answered by the upstream yet is relayed
   * and its answer learned.
   */
  defer(raw: Buffer, state: StatusView): Buffer | null {
    if (this.#stopped !== null || raw.length > MAX_BEGIN_PACKET || raw[4] !== Com.QUERY || raw.length < 9) return null;
    const m = BEGIN_FORMS.exec(raw.toString('latin1', 5));
    if (m === null || !this.#fresh || state.inTransaction || this.#pending !== null || this.#awaiting !== null) return null;
    const form: Form = m[1] === undefined ? 'start' : 'begin';
    const ok = beginOk((state.status & KEPT) | Status.IN_TRANS, (raw[3] + 1) & 0xff);
    if (!this.#learned[form]) {
      this.#awaiting = { mode: 'learn', expected: ok, form };
      this.#got = Buffer.alloc(0);
      return null;
    }
    this.#pending = Buffer.from(raw);
    this.#sent = ok;
    return ok;
  }

  /** The BEGIN to send before the next command (its response then expected first), or null. */
  take(): Buffer | null {
    const begin = this.#pending;
    if (begin === null) return null;
    this.#pending = null;
    this.#awaiting = { mode: 'check', expected: this.#sent as Buffer, form: 'begin' };
    this.#got = Buffer.alloc(0);
    return begin;
  }

  /** COM_QUIT: the BEGIN is not sent. */
  drop(): void {
    this.#pending = null;
  }

  /**
   * Upstream bytes, before anything else reads them: what is left for the command's response
   * (null: nothing). A learned BEGIN's response is passed on; a deferred one's is swallowed.
   */
  feed(chunk: Buffer): Buffer | null {
    const a = this.#awaiting;
    if (a === null) return chunk;
    let need = packetLength(this.#got, chunk);
    const take = need < 0 ? chunk.length : Math.min(chunk.length, need - this.#got.length);
    this.#got = this.#got.length === 0 && take === chunk.length ? Buffer.from(chunk) : Buffer.concat([this.#got, chunk.subarray(0, take)]);
    need = packetLength(this.#got, Buffer.alloc(0));
    if (need < 0 || this.#got.length < need) return a.mode === 'learn' ? chunk : null;
    this.#awaiting = null;
    const got = this.#got;
    this.#got = Buffer.alloc(0);
    if (a.mode === 'learn') {
      // Exactly, the slow flag too: a server that flags BEGIN slow is not one to answer for.
      if (got.equals(a.expected)) this.#learned[a.form] = true;
      else this.stop('the upstream answered BEGIN with more than Rotor would');
      return chunk;
    }
    if (!sameOk(got, a.expected)) {
      this.stop('a deferred BEGIN was answered differently');
      this.#onFailure({ err: got[4] === 0xff ? got : null, got, expected: a.expected });
      return null;
    }
    return take < chunk.length ? chunk.subarray(take) : null;
  }
}

/** The OK packet MariaDB answers a plain BEGIN with, over any capabilities, when nothing is tracked. */
export function beginOk(status: number, seq: number): Buffer {
  return Buffer.from([7, 0, 0, seq, 0x00, 0, 0, status & 0xff, status >> 8, 0, 0]);
}

/** Equal, but for the slow-query flag. */
function sameOk(got: Buffer, expected: Buffer): boolean {
  if (got.length !== expected.length) return false;
  for (let i = 0; i < got.length; i++) {
    const diff = got[i] ^ expected[i];
    if (diff !== 0 && !(i === 8 && diff === SLOW_HI)) return false;
  }
  return true;
}

/** The whole length of the packet starting `a` then `b` (header included), or -1 while its header is incomplete. */
function packetLength(a: Buffer, b: Buffer): number {
  const at = (i: number): number => (i < a.length ? a[i] : b[i - a.length]);
  if (a.length + b.length < 4) return -1;
  return 4 + (at(0) | (at(1) << 8) | (at(2) << 16));
}
