import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PrivilegeChecks } from '../../src/views/privileges.js';
import type { SessionView } from '../../src/proxy/read-router.js';

function session(user = 'alice'): SessionView & { privilegeGeneration: number } {
  return { connectionId: 1, user, database: 'db', inTransaction: false, transactionBlocker: null, cacheBlocker: null, writes: 0, privilegeGeneration: 0, lastRoute: null, noBackslashEscapes: false };
}

describe('[note: cached-grants] PrivilegeChecks', () => {
  it('keeps MariaDB\'s verdict per session and cache', () => {
    const p = new PrivilegeChecks();
    const a = session();
    assert.equal(p.checked(a, 'q1'), undefined);
    p.begin(a, 'q1')(true);
    p.begin(a, 'q2')(false);
    assert.equal(p.checked(a, 'q1'), true);
    assert.equal(p.checked(a, 'q2'), false);
    assert.equal(p.checked(session(), 'q1'), undefined, 'another session of the same user is checked on its own');
  });

  it('forgets everything in a new epoch, and ignores a check that straddled it', () => {
    const p = new PrivilegeChecks();
    const a = session();
    p.begin(a, 'q1')(true);
    const pending = p.begin(a, 'q1');
    p.invalidate();
    assert.equal(p.checked(a, 'q1'), undefined);
    pending(true);
    assert.equal(p.checked(a, 'q1'), undefined, 'the probe began before the REVOKE was seen');
  });

  it('forgets a session\'s checks when its privileges may have changed (SET ROLE, reset, change user)', () => {
    const p = new PrivilegeChecks();
    const s = session();
    p.begin(s, 'q1')(true);
    const pending = p.begin(s, 'q1');
    s.privilegeGeneration++;
    assert.equal(p.checked(s, 'q1'), undefined);
    pending(true);
    assert.equal(p.checked(s, 'q1'), undefined);
  });
});
