/**
 * Why a read that matched a cache goes upstream all the same: the cache cannot serve now (not
 * ready, a stale binlog: src/views/cache-reads.ts `notServing`), the session's state forbids it (a
 * transaction, a state that could change the answer such as its time zone or a temporary table,
 * the connection's collation for a cache of expressions), or the statement's parameters name no
 * key the reader can hold. The router records each reason's text (/api/status counts reads by it).
 */
import type { SessionView } from '../proxy/read-router.js';
import type { TransactionReads } from '../config.js';
import { UPQUERY_COLLATION } from '../upstream/connections.js';
import { Cache, MAX_READ_KEYS, type ValueSource } from './cache.js';
import { notServing } from './cache-reads.js';

/** What the refusals need from the engine. */
export interface RefusalBackend {
  /** `cache`: every cache serves reads inside transactions, as ALWAYS ones do. [note: transaction-reads] */
  readonly transactionReads: TransactionReads;
  /** Why no cache may answer right now (the binlog is too far behind), or null. [note: staleness-bound] */
  readonly staleReason: string | null;
  /** Why caches over TIMESTAMP columns may not answer (the upstream's time zone is not UTC), or null. */
  readonly timeZoneReason: string | null;
  /** Why caches of expressions may not answer (the upstream's sql_mode changes how text parses), or null. [note: answer-refill] */
  readonly parseModeReason?: string | null;
  /** Why caches answering CHAR values may not answer (the upstream's sql_mode pads them), or null. */
  readonly padCharReason?: string | null;
  /** Why no cache answers reads inside transactions whatever the session says (a SERIALIZABLE server), or null. [note: transaction-reads] */
  readonly serializableReason: string | null;
}

const NOT_PLAIN = 'a parameter does not compare as a plain key (NULL, or another type)';
export const BAD_LIMIT = 'a LIMIT value that is not a non-negative integer';
const TOO_MANY_KEYS = `the IN lists name more than ${MAX_READ_KEYS} keys`;

/** Why bound parameters gave no reader keys (Cache.keys returned null). */
export function noKeys(bound: ReadonlyArray<ReadonlyArray<ValueSource>>): string {
  return Cache.tooManyKeys(bound) ? TOO_MANY_KEYS : NOT_PLAIN;
}

/** Whether `cache` may answer this session's read now (else {@link whyNot} says why). */
export function sessionOk(backend: RefusalBackend, cache: Cache, session: SessionView): boolean {
  return transactionRefusal(backend, cache, session) === null && session.cacheBlocker === null && notServing(cache, backend) === null
    && (cache.plan.kind !== 'answer' || collationRefusal(session) === null);
}

/**
 * [note: transaction-reads] Why a read inside a transaction may not come from `cache`, or null
 * (outside one, null). Inside one a read goes upstream (MariaDB's snapshot, the transaction's
 * own uncommitted writes), unless its cache serves transactions — registered `ALWAYS`, or every
 * cache under `--transaction-reads cache` — and the transaction has changed no rows and neither
 * it nor the upstream's default runs SERIALIZABLE (SessionView.transactionBlocker,
 * RefusalBackend.serializableReason, read with the global settings): then it is served as
 * outside one, the cache's latest state rather than the transaction's snapshot. The session's
 * writes before the transaction are still waited for (`--consistency session`). Pinned by
 * test/e2e/transaction-reads.test.ts.
 */
function transactionRefusal(backend: RefusalBackend, cache: Cache, session: SessionView): string | null {
  if (!session.inTransaction) return null;
  if (cache.def.always !== true && backend.transactionReads !== 'cache') return 'inside a transaction';
  return session.transactionBlocker ?? backend.serializableReason;
}

/** Why `cache` may not answer this session's read now, for a read {@link sessionOk} refused. */
export function whyNot(backend: RefusalBackend, cache: Cache, session: SessionView): string {
  if (cache.status !== 'ready') return `cache ${cache.id} is ${cache.status}`;
  const tx = transactionRefusal(backend, cache, session);
  if (tx !== null) return tx;
  if (session.cacheBlocker !== null) return session.cacheBlocker;
  return notServing(cache, backend) ?? (cache.plan.kind === 'answer' ? collationRefusal(session) : null) ?? 'the cache cannot serve now';
}

/**
 * [note: answer-refill] Why a cache of expressions may not answer this session: its string
 * literals (and CAST … AS CHAR, DATE_FORMAT…) take the connection's collation, in which the fills
 * computed them (src/upstream/connections.ts, a collation SET STATEMENT cannot change); or null.
 */
function collationRefusal(session: SessionView): string | null {
  if (session.collation === undefined || session.collation === UPQUERY_COLLATION) return null;
  return `the connection's collation (id ${session.collation}) is not utf8mb4_general_ci, in which the cache's expressions are computed`;
}
