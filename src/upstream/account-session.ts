/**
 * A session on the upstream as an application's own account, opened by a real login with its
 * password: how an HTTP read's Basic credentials are verified, and where MariaDB is then asked
 * whether that account may read a cache (the probes of [note: cached-grants], as a SQL session's own
 * upstream session answers them). The password is used for the login and not kept.
 */
import type mysql from 'mysql2/promise';
import { connectTo } from './connections.js';

/** An error MariaDB answered with (the shape of the proxy's ProbeError). */
export interface AccountError {
  readonly errno: number;
  readonly sqlState: string;
  readonly message: string;
}

/** A logged-in session of one account. Its probes resolve, never reject. */
export interface AccountSession {
  /** Prepares (and closes, never executes) `sql`: null when MariaDB answered PREPARE_OK, else its error. */
  probe(sql: string, kind: 'prepare'): Promise<AccountError | null>;
  /** Runs `sql`: its first row as text (null when it has none), or its error. */
  probeRow(sql: string): Promise<ReadonlyArray<string | null> | AccountError | null>;
  /** The connection ended (an error, the upstream away, {@link close}): open another. */
  readonly closed: boolean;
  close(): void;
}

/** What a failed login says: MariaDB's own error (a wrong password: 1045), or that the upstream could not be reached. */
export type LoginFailure = { readonly kind: 'refused'; readonly error: AccountError } | { readonly kind: 'unreachable'; readonly message: string };

function accountError(e: unknown): AccountError | null {
  const x = e as { errno?: unknown; sqlState?: unknown; message?: unknown };
  if (typeof x?.errno !== 'number') return null;
  return { errno: x.errno, sqlState: typeof x.sqlState === 'string' ? x.sqlState : 'HY000', message: String(x.message ?? '') };
}

class Session implements AccountSession {
  #closed = false;
  constructor(readonly conn: mysql.Connection) {
    // A connection that fails later (the upstream restarts, kills it) only closes this session.
    conn.on('error', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  async probe(sql: string): Promise<AccountError | null> {
    try {
      await this.conn.prepare(sql);
      // Closed and forgotten: mysql2 keeps a prepared statement by its text and answers the next
      // prepare() of that text from its cache without asking MariaDB, so a check after a REVOKE
      // the binlog did not carry would pass. [note: cached-grants]
      this.conn.unprepare(sql);
      return null;
    } catch (e) {
      return this.#failed(e);
    }
  }

  async probeRow(sql: string): Promise<ReadonlyArray<string | null> | AccountError | null> {
    try {
      const [rows] = await this.conn.query({ sql, rowsAsArray: true });
      const first = Array.isArray(rows) ? (rows[0] as unknown[] | undefined) : undefined;
      return first === undefined ? null : first.map((v) => (v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
    } catch (e) {
      return this.#failed(e);
    }
  }

  /** MariaDB's error for the statement; anything else (the connection lost) closes the session. */
  #failed(e: unknown): AccountError {
    const err = accountError(e);
    if (err !== null && !(e as { fatal?: boolean }).fatal) return err;
    this.close();
    return err ?? { errno: 2013, sqlState: 'HY000', message: 'Lost connection to the upstream during the check' };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.destroy();
  }
}

/**
 * Logs in to the upstream as `user` with `password`: the session, or why not (MariaDB's own
 * refusal, or the upstream out of reach).
 */
export async function openAccountSession(target: { host: string; port: number }, user: string, password: string, timeoutMs = 5_000): Promise<AccountSession | LoginFailure> {
  try {
    const conn = await connectTo({ host: target.host, port: target.port, user, password }, timeoutMs);
    return new Session(conn);
  } catch (e) {
    const error = accountError(e);
    if (error !== null) return { kind: 'refused', error };
    return { kind: 'unreachable', message: e instanceof Error ? e.message : String(e) };
  }
}

/** True for a login's failure rather than a session. */
export function isLoginFailure(x: AccountSession | LoginFailure): x is LoginFailure {
  return 'kind' in x;
}
