/**
 * [note: deferred-begin] BeginDeferral alone: which texts and sessions defer, what stops it, and
 * the check of the upstream's response to a deferred BEGIN, with the response split at every byte.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BeginDeferral, beginOk, type BeginFailure } from '../../src/proxy/deferred-begin.js';
import { Status } from '../../src/proxy/protocol/constants.js';
import { eachSplit } from './protocol/split.js';

const OUTSIDE = { status: Status.AUTOCOMMIT, inTransaction: false };

function query(sql: string, seq = 0): Buffer {
  const payload = Buffer.concat([Buffer.from([0x03]), Buffer.from(sql, 'latin1')]);
  return Buffer.concat([Buffer.from([payload.length & 0xff, payload.length >> 8, 0, seq]), payload]);
}

const OK = beginOk(Status.AUTOCOMMIT | Status.IN_TRANS, 1);
const INSERT_OK = Buffer.from([7, 0, 0, 1, 0, 1, 0, 3, 0, 0, 0]);
const ERR = Buffer.concat([Buffer.from([0x0d, 0, 0, 1, 0xff, 0x35, 0x04, 0x23]), Buffer.from('XAE07boom')]);

/** A deferral whose BEGIN of both forms was learned. */
function learned(failures: BeginFailure[] = []): BeginDeferral {
  const d = new BeginDeferral((f) => failures.push(f));
  for (const form of ['BEGIN', 'START TRANSACTION']) {
    assert.equal(d.defer(query(form), OUTSIDE), null);
    assert.equal(d.feed(OK), OK);
  }
  return d;
}

/** Feeds `chunks`, returning what is left for the command's response. */
function feedAll(d: BeginDeferral, chunks: Buffer[]): Buffer {
  const rest: Buffer[] = [];
  for (const c of chunks) {
    const r = d.awaiting ? d.feed(c) : c;
    if (r !== null) rest.push(r);
  }
  return Buffer.concat(rest);
}

describe('BeginDeferral', () => {
  test('learns each form from the first relayed BEGIN, then defers it', () => {
    const d = new BeginDeferral(() => assert.fail('no failure'));
    assert.equal(d.defer(query('begin'), OUTSIDE), null);
    assert.ok(d.awaiting);
    assert.equal(d.feed(OK), OK);
    assert.deepEqual(d.defer(query('BEGIN;'), OUTSIDE), OK);
    assert.ok(d.pending);
    assert.equal(d.take()?.toString('latin1', 5), 'BEGIN;');
    feedAll(d, [OK]);
    // START TRANSACTION is learned on its own (sql_mode=ORACLE takes it, and not BEGIN).
    assert.equal(d.defer(query('START TRANSACTION'), OUTSIDE), null);
  });

  test('only the plain forms, outside a transaction, with fresh status flags', () => {
    const d = learned();
    for (const sql of ['BEGIN WORK', 'START TRANSACTION READ ONLY', 'START TRANSACTION WITH CONSISTENT SNAPSHOT', 'BEGIN /* x */', '/*!BEGIN*/', 'BEGIN; SELECT 1', 'BEGIN\u00a0', 'BEGINN', 'SELECT 1']) {
      assert.equal(d.defer(query(sql), OUTSIDE), null, sql);
    }
    assert.equal(d.defer(query('BEGIN'), { status: Status.AUTOCOMMIT | Status.IN_TRANS, inTransaction: true }), null);
    assert.equal(d.defer(query('BEGIN'), { status: 0, inTransaction: true }), null);
    d.ended(false);
    assert.equal(d.defer(query('BEGIN'), OUTSIDE), null);
    d.ended(true);
    assert.deepEqual(d.defer(query(' \tstart\n transaction ; '), OUTSIDE), OK);
  });

  test('keeps the session\'s escaping and quoting flags, and answers with the sequence id after the command\'s', () => {
    const d = learned();
    const ok = d.defer(query('BEGIN', 3), { status: Status.AUTOCOMMIT | Status.NO_BACKSLASH_ESCAPES | 0x8000 | Status.NO_INDEX_USED, inTransaction: false });
    assert.deepEqual(ok, beginOk(Status.AUTOCOMMIT | Status.NO_BACKSLASH_ESCAPES | 0x8000 | Status.IN_TRANS, 4));
  });

  test('an OK with more than Rotor would make is not learned', () => {
    const d = new BeginDeferral(() => assert.fail('no failure'));
    d.defer(query('BEGIN'), OUTSIDE);
    const tracked = Buffer.from([7, 0, 0, 1, 0, 0, 0, 3, 0x40, 0, 0]);
    d.feed(tracked);
    assert.match(String(d.stopped), /more than Rotor/);
    assert.equal(d.defer(query('BEGIN'), OUTSIDE), null);
  });

  test('statements that may change BEGIN\'s answer, or fail it, stop deferral for good', () => {
    for (const sql of ['XA START \'x\'', 'LOCK TABLES t WRITE', 'FLUSH TABLES WITH READ LOCK', 'BACKUP STAGE START', 'CALL p()', 'EXECUTE s', 'PREPARE s FROM @q',
      'SET SESSION session_track_state_change = 1', 'SET sql_mode = ORACLE', 'SET SESSION TRANSACTION READ ONLY', 'SET tx_read_only = 1', 'SET long_query_time = 0', 'SET idle_transaction_timeout = 5', 'SET SESSION idle_readonly_transaction_timeout = 5', 'SET wsrep_sync_wait = 1']) {
      const d = learned();
      d.screen(sql);
      assert.ok(d.stopped !== null, sql);
      assert.equal(d.defer(query('BEGIN'), OUTSIDE), null, sql);
      d.relearn();
      assert.equal(d.defer(query('BEGIN'), OUTSIDE), null, sql);
    }
    const d = learned();
    for (const sql of ['SELECT GET_LOCK(\'a\', 1)', 'INSERT INTO t VALUES (1)', 'SELECT * FROM t FOR UPDATE']) d.screen(sql);
    assert.equal(d.stopped, null);
  });

  test('swallows the BEGIN\'s OK and passes the rest on, however the bytes arrive', () => {
    eachSplit(Buffer.concat([OK, INSERT_OK]), (chunks, label) => {
      const d = learned();
      d.defer(query('BEGIN'), OUTSIDE);
      d.take();
      assert.deepEqual(feedAll(d, chunks), INSERT_OK, label);
      assert.equal(d.awaiting, false);
    });
  });

  test('tolerates the slow-query flag alone', () => {
    const d = learned();
    d.defer(query('BEGIN'), OUTSIDE);
    d.take();
    const slow = Buffer.from(OK);
    slow[8] |= Status.QUERY_WAS_SLOW >> 8;
    assert.deepEqual(feedAll(d, [Buffer.concat([slow, INSERT_OK])]), INSERT_OK);
    assert.equal(d.stopped, null);
  });

  test('an ERR, or another OK, is a failure, however the bytes arrive', () => {
    for (const answer of [ERR, Buffer.from([7, 0, 0, 1, 0, 0, 0, 3, 0x20, 0, 0])]) {
      eachSplit(Buffer.concat([answer, INSERT_OK]), (chunks, label) => {
        const failures: BeginFailure[] = [];
        const d = learned(failures);
        d.defer(query('BEGIN'), OUTSIDE);
        d.take();
        const passed: Buffer[] = [];
        for (const c of chunks) {
          if (!d.awaiting) break;
          const r = d.feed(c);
          if (r !== null) passed.push(r);
        }
        assert.deepEqual(passed, [], label);
        assert.equal(failures.length, 1, label);
        assert.deepEqual(failures[0].got, answer);
        assert.deepEqual(failures[0].err, answer === ERR ? ERR : null);
        assert.notEqual(d.stopped, null);
      });
    }
  });

  test('COM_QUIT drops the BEGIN', () => {
    const d = learned();
    d.defer(query('BEGIN'), OUTSIDE);
    d.drop();
    assert.equal(d.take(), null);
    assert.equal(d.awaiting, false);
  });
});
