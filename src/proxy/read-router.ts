/**
 * The one seam between the proxy and the engine. A session asks the router, for each statement
 * the client sends, whether Rotor answers it itself or relays it upstream. The proxy imports only
 * this contract; the engine implements it (src/views/router.ts).
 *
 * [note: hot-path] `routeQuery`/`routeExecute` run for every statement. A hit MUST be answered
 * synchronously (no promise), without parsing SQL beyond the fingerprint tokenizer.
 */
import type { ColumnDefinition } from './protocol/column-definition.js';
import type { ResultRows } from './protocol/result-set.js';
import type { Value } from '../values.js';

/** What the router may know of the client session. */
export interface SessionView {
  /** Rotor's own session number (logs, stats); the client sees the upstream session's id instead. */
  readonly connectionId: number;
  readonly user: string;
  /** The session's current database (COM_INIT_DB / USE / handshake), or null. */
  readonly database: string | null;
  /** Inside BEGIN/START TRANSACTION, or autocommit off with an open transaction. */
  readonly inTransaction: boolean;
  /**
   * Inside a transaction, why even a cache that serves transactions may not answer its reads (it
   * may have changed rows, SERIALIZABLE), or null. [note: transaction-reads]
   */
  readonly transactionBlocker: string | null;
  /**
   * Why this session's state could change a cached answer (e.g. `time_zone changed`,
   * `temporary table t`), or null when cached answers are valid for it.
   */
  readonly cacheBlocker: string | null;
  /**
   * The connection's collation id (handshake or COM_CHANGE_USER; a session that sets its names is
   * blocked), which string literals and CAST(… AS CHAR) take; absent outside a real session.
   */
  readonly collation?: number;
  /** The server reported NO_BACKSLASH_ESCAPES for the session (OK/EOF status). [note: sql-mode-quoting] */
  readonly noBackslashEscapes: boolean;
  /** Statements of this session that changed rows (OK with affected rows), ever. [note: read-your-writes] */
  readonly writes: number;
  /**
   * Moves whenever the session's privileges may have changed (a statement naming a role,
   * COM_RESET_CONNECTION, COM_CHANGE_USER): checks made before do not hold. [note: cached-grants]
   */
  readonly privilegeGeneration: number;
  /** Where the session's last statement went and why (EXPLAIN LAST STATEMENT), or null before any. */
  readonly lastRoute: LastRoute | null;
  /**
   * Prepares (and closes, never executes) one statement on the session's own upstream session, as
   * its user; resolves null when MariaDB answered PREPARE_OK, else its error. Only valid while the
   * session waits for a `pending` answer of Rotor's own. Absent outside a real session.
   */
  probe?(sql: string, kind: 'prepare'): Promise<ProbeError | null>;
  /** Runs one query the same way, resolving to its first row (null when it has none) or its error. */
  probeRow?(sql: string): Promise<ReadonlyArray<string | null> | ProbeError | null>;
}

/** An error the upstream answered a probe with. */
export interface ProbeError {
  readonly errno: number;
  readonly sqlState: string;
  readonly message: string;
}

/** What the router wants to learn from a statement it sends upstream. */
export interface RelayWatch {
  /** The column definitions of the result set, once they have streamed by. */
  columns(defs: ReadonlyArray<ColumnDefinition>): void;
}

/** Rotor's own answer to a statement. */
/** Where one statement went: a cache (by name), or upstream with the reason no cache answered (null: none was asked). */
export type LastRoute =
  | { readonly destination: 'cache'; readonly cache: string }
  | { readonly destination: 'upstream'; readonly reason: string | null };

/**
 * Rotor's own answer. `cache` names the cache rows came from; rows without it (SHOW CACHES and
 * other commands) are Rotor's answers to commands, not reads served from memory.
 */
export type Answer =
  | { readonly kind: 'rows'; readonly columns: ReadonlyArray<ColumnDefinition>; readonly rows: ResultRows; readonly cache?: string }
  | { readonly kind: 'ok'; readonly affectedRows: number; readonly info: string }
  | { readonly kind: 'error'; readonly errno: number; readonly sqlState: string; readonly message: string };

/** Relay the statement upstream; `reason` (when not null) is recorded for operators. */
export interface Upstream {
  readonly kind: 'upstream';
  readonly reason: string | null;
  readonly watch?: RelayWatch;
  /**
   * The statement as the router read it, when it did (opaque to the proxy): handed back to
   * `observeRelayed` so a statement is read once, not again when its response ends.
   */
  readonly statement?: string;
}

export type Routed =
  | Upstream
  | { readonly kind: 'answer'; readonly answer: Answer }
  /**
   * Rotor's answer after a wait (a fill, a check of the session's grants, the binlog bringing the
   * session's writes); resolves to the answer, to `Upstream` to relay the statement with that
   * reason, or null to relay it because the wait failed.
   */
  | { readonly kind: 'pending'; readonly answer: Promise<Answer | Upstream | null> };

/** A prepared statement the router recognised at COM_STMT_PREPARE time. Opaque to the proxy. */
export interface PreparedMatch {
  readonly cacheId: string;
}

export interface ReadRouter {
  /** COM_QUERY. MUST NOT throw: anything unexpected is `{ kind: 'upstream' }`. */
  routeQuery(sql: string, session: SessionView): Routed;
  /** COM_STMT_PREPARE: a match when executions of `sql` could be served from a cache. */
  matchPrepared(sql: string, session: SessionView): PreparedMatch | null;
  /**
   * COM_STMT_EXECUTE of a matched statement, with its decoded parameters and the types the client
   * bound them as (enum_field_types, the unsigned flag in bit 15): a DOUBLE and an INT are both
   * numbers, a DATETIME and a VARCHAR both strings, yet MariaDB compares a column with each
   * differently ([note: value-types]). Without `types`, each value is the type its JS type says.
   */
  routeExecute(match: PreparedMatch, params: ReadonlyArray<Value>, session: SessionView, types?: ReadonlyArray<number>): Routed;
  /**
   * [note: unlogged-writes] Statements the session ran upstream with sql_log_bin=0 (their text;
   * null for one Rotor cannot read, such as a prepared execution) that may have changed rows or
   * tables the binlog will never report. Called synchronously once each such statement's response
   * has ended, and again when its transaction ends: the caches over what they name MUST forget
   * what they hold before Rotor handles anything else. MUST NOT throw.
   */
  forgetUnlogged(statements: ReadonlyArray<string | null>, session: SessionView): void;
  /**
   * A COM_QUERY the session relayed ended: `upstreamMs` from sending it to its response's end (what
   * the application waits for upstream; SHOW PROXIED QUERIES). MUST NOT throw.
   */
  observeRelayed?(sql: string, session: SessionView, upstreamMs: number, statement?: string): void;
}

/** The router used when no cache exists: everything goes upstream. */
export const passthroughRouter: ReadRouter = {
  routeQuery: () => ({ kind: 'upstream', reason: null }),
  matchPrepared: () => null,
  routeExecute: () => ({ kind: 'upstream', reason: null }),
  forgetUnlogged: () => undefined,
};

/**
 * Reads of a cache by key over HTTP (src/proxy/http-read/): the second seam of the same kind. The
 * HTTP listener parses a request's route, credentials and keys, and asks the engine, which
 * implements this (src/views/http-reads.ts), for the answer; it writes the pre-encoded JSON it
 * gets back. A read of present keys MUST be answered synchronously ([note: hot-path]).
 */
export type ReadCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly user: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

/**
 * A JSON number written with a fraction or an exponent (`1.5`, `1e3`), as its text: bound as the
 * SQL literal of the same text is (a DECIMAL, or a DOUBLE with an exponent), not as a string.
 * [note: http-keys]
 */
export interface NumberText {
  readonly number: string;
}

/** One value of a body's key: a string, an integer (number or bigint), null, or a {@link NumberText}. */
export type KeyValue = Value | NumberText;

/** The keys of one read: a query string's parameters (by name or position), or a body's key tuples. */
export type KeyRequest =
  | { readonly kind: 'query'; readonly pairs: ReadonlyArray<readonly [string, string]> }
  | { readonly kind: 'keys'; readonly keys: ReadonlyArray<ReadonlyArray<KeyValue>> };

/** A read refused or failed: the catalog's (or MariaDB's own) code, with the HTTP status. */
export interface KeyReadError {
  readonly kind: 'error';
  readonly http: number;
  /** The catalog's code (`ERR_…`), or `ER_UPSTREAM` for MariaDB's own error. */
  readonly code: string;
  readonly errno: number;
  readonly sqlState: string;
  readonly message: string;
}

/** One key's rows, pre-encoded, the same bytes until the key changes ([note: derived-answer]). */
export interface KeyJson {
  /** `[{…}, …]`, UTF-8. */
  readonly json: Buffer;
  /** A strong entity tag (quoted) that changes whenever `json` does. */
  readonly etag: string;
}

export interface KeyReadAnswer {
  readonly kind: 'rows';
  /** The response's `columns`, pre-encoded (`[{"name":…,"type":…}, …]`). */
  readonly columns: string;
  /** One per key asked, in order. */
  readonly keys: ReadonlyArray<KeyJson>;
  /** The cache may be read without credentials (an answer a shared HTTP cache may keep). */
  readonly public: boolean;
}

export interface KeyReadRouter {
  /**
   * The answer for `keys` of the cache named `cache`, read as `credentials` from `source` (the
   * client's address). MUST NOT throw: anything unexpected is a {@link KeyReadError}.
   */
  read(cache: string, keys: KeyRequest, credentials: ReadCredentials, source: string): KeyReadAnswer | KeyReadError | Promise<KeyReadAnswer | KeyReadError>;
}
