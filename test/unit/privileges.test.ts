import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PrivilegeChecks } from '../../src/views/privileges.js';
import type { SessionView } from '../../src/proxy/read-router.js';

function session(user: string, loginAt: number, role = ''): SessionView & { role: string } {
  return { connectionId: 1, user, database: 'db', inTransaction: false, cacheBlocker: null, writes: 0, role, loginAt, noBackslashEscapes: false };
}

describe('[note: cached-grants] PrivilegeChecks', () => {
  it('allows a principal once its relayed read succeeded, and only that principal', () => {
    const p = new PrivilegeChecks();
    const a = session('alice', performance.now());
    assert.equal(p.allowed(a, 'q1'), false);
    p.checker(a, 'q1')(false);
    assert.equal(p.allowed(a, 'q1'), false, 'a failed read records nothing');
    p.checker(a, 'q1')(true);
    assert.equal(p.allowed(a, 'q1'), true);
    assert.equal(p.allowed(a, 'q2'), false, 'per cache');
    assert.equal(p.allowed(session('bob', a.loginAt), 'q1'), false, 'per user');
    const sameUser = session('alice', a.loginAt);
    assert.equal(p.allowed(sameUser, 'q1'), true, 'sessions of one user in one epoch share the check');
  });

  it('forgets everything in a new epoch, and ignores a check that straddled it', () => {
    const p = new PrivilegeChecks();
    const a = session('alice', performance.now());
    p.checker(a, 'q1')(true);
    const pending = p.checker(a, 'q1');
    p.invalidate();
    assert.equal(p.allowed(a, 'q1'), false);
    pending(true);
    assert.equal(p.allowed(a, 'q1'), false, 'the relay began before the REVOKE was seen');
  });

  it('keeps sessions that logged in before a privilege change apart from those after it', () => {
    const p = new PrivilegeChecks();
    const old = session('alice', performance.now());
    p.invalidate();
    const fresh = session('alice', performance.now() + 1);
    p.checker(old, 'q1')(true);
    assert.equal(p.allowed(old, 'q1'), true);
    assert.equal(p.allowed(fresh, 'q1'), false, 'its default roles may differ');
  });

  it('keeps a session apart once it set roles of its own', () => {
    const p = new PrivilegeChecks();
    const s = session('alice', performance.now());
    p.checker(s, 'q1')(true);
    s.role = 'admin';
    assert.equal(p.allowed(s, 'q1'), false);
    s.role = '';
    assert.equal(p.allowed(s, 'q1'), true);
  });
});
