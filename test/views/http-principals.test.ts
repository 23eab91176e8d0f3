/**
 * [note: http-principals]: a Basic login is verified by the upstream once and remembered for a
 * bounded time under an HMAC of user and password, never as the password; failures are never
 * remembered; a grant change seen on the binlog, or the time limit, asks again.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { LOGIN_TTL_MS, MAX_LOGINS_PER_SOURCE, MAX_OPEN_SESSIONS, MAX_PRINCIPALS, Principal, Principals } from '../../src/views/http-principals.js';
import { PrivilegeChecks } from '../../src/views/privileges.js';
import type { AccountSession, LoginFailure } from '../../src/upstream/account-session.js';

function fakeSession(): AccountSession & { closes: number } {
  let closed = false;
  const s = {
    closes: 0,
    get closed() { return closed; },
    probe: async () => null,
    probeRow: async () => null,
    close() { closed = true; s.closes++; },
  };
  return s;
}

function fixture(password = 'right') {
  let now = 0;
  const logins: string[] = [];
  const sessions: Array<ReturnType<typeof fakeSession>> = [];
  const privileges = new PrivilegeChecks();
  const principals = new Principals(async (user, pw): Promise<AccountSession | LoginFailure> => {
    logins.push(user);
    if (pw !== password) return { kind: 'refused', error: { errno: 1045, sqlState: '28000', message: `Access denied for user '${user}'` } };
    const s = fakeSession();
    sessions.push(s);
    return s;
  }, privileges, () => now);
  return { principals, logins, sessions, privileges, tick: (ms: number) => { now += ms; } };
}

describe('HTTP logins', () => {
  it('keeps at most MAX_OPEN_SESSIONS accounts\' sessions open: the least recently used closes, its login stays and logs in again when checked', async () => {
    const f = fixture();
    const ps: Principal[] = [];
    for (let i = 0; i <= MAX_OPEN_SESSIONS; i++) {
      const p = await f.principals.verify(`u${i}`, 'right', `10.0.0.${i}`);
      assert.ok(p instanceof Principal);
      ps.push(p);
    }
    assert.equal(f.principals.openSessions, MAX_OPEN_SESSIONS);
    assert.equal(f.sessions[0].closes, 1, 'the first account\'s session closed');
    assert.equal(f.sessions.slice(1).every((s) => s.closes === 0), true);
    assert.equal(f.principals.size, MAX_OPEN_SESSIONS + 1, 'every login is still remembered');
    assert.equal(f.principals.verify('u0', 'right'), ps[0]);
    await ps[0].prober('right').probe?.('SELECT 1', 'prepare');
    assert.deepEqual(f.logins.filter((u) => u === 'u0'), ['u0', 'u0'], 'a check of the closed account logs in again');
    assert.equal(f.principals.openSessions, MAX_OPEN_SESSIONS);
    assert.equal(f.sessions[1].closes, 1, 'and the next least recently used closes');
  });

  it('logs in once and answers the next requests at once', async () => {
    const f = fixture();
    const p = await f.principals.verify('app', 'right');
    assert.ok(p instanceof Principal);
    const again = f.principals.verify('app', 'right');
    assert.equal(again, p, 'synchronously, the same account');
    assert.deepEqual(f.logins, ['app']);
  });

  it('never remembers a failure, nor a password for another one', async () => {
    const f = fixture();
    const bad = await f.principals.verify('app', 'wrong');
    assert.ok(!(bad instanceof Principal) && bad !== 'busy' && bad.kind === 'refused');
    await f.principals.verify('app', 'wrong');
    assert.deepEqual(f.logins, ['app', 'app'], 'each failure asks the upstream');
    await f.principals.verify('app', 'right');
    assert.ok((await f.principals.verify('app', 'right+')) !== f.principals.verify('app', 'right'));
  });

  it('checks a few logins of one client address at once, so a burst of guesses cannot all pass the failure limit', async () => {
    const pending: Array<() => void> = [];
    const principals = new Principals((user) => new Promise<LoginFailure>((resolve) => {
      pending.push(() => resolve({ kind: 'refused', error: { errno: 1045, sqlState: '28000', message: `Access denied for user '${user}'` } }));
    }), new PrivilegeChecks());
    const burst = Array.from({ length: MAX_LOGINS_PER_SOURCE + 3 }, (_, i) => principals.verify('app', `guess${i}`, '10.0.0.1'));
    const other = principals.verify('app', 'guess', '10.0.0.2');
    assert.equal(pending.length, MAX_LOGINS_PER_SOURCE + 1, 'the address\'s first few and the other address\'s one reach the upstream');
    const answers = await Promise.all(burst.slice(MAX_LOGINS_PER_SOURCE));
    assert.deepEqual(answers, answers.map(() => 'busy'));
    for (const release of pending.splice(0)) release();
    await Promise.all([...burst.slice(0, MAX_LOGINS_PER_SOURCE), other]);
    const later = principals.verify('app', 'again', '10.0.0.1');
    assert.equal(pending.length, 1, 'once answered, the address may try again');
    pending[0]();
    await later;
  });

  it('shares one login among concurrent requests', async () => {
    const f = fixture();
    const [a, b] = await Promise.all([f.principals.verify('app', 'right'), f.principals.verify('app', 'right')]);
    assert.equal(a, b);
    assert.deepEqual(f.logins, ['app']);
  });

  it('logs in again after the time limit, and after a grant change reached the binlog (not the periodic refresh)', async () => {
    const f = fixture();
    const p = await f.principals.verify('app', 'right');
    f.tick(LOGIN_TTL_MS - 1);
    assert.equal(f.principals.verify('app', 'right'), p);
    f.privileges.invalidate();
    assert.equal(f.principals.verify('app', 'right'), p, 'the periodic refresh does not');
    f.privileges.invalidate(true);
    const q = await f.principals.verify('app', 'right');
    assert.notEqual(q, p);
    assert.equal(f.sessions[0].closes, 1, 'the old session is closed');
    f.tick(LOGIN_TTL_MS);
    assert.notEqual(await f.principals.verify('app', 'right'), q);
    assert.equal(f.logins.length, 3);
  });

  it('keeps no password, and a bounded number of logins', async () => {
    const f = fixture('s3cret-password');
    await f.principals.verify('app', 's3cret-password');
    assert.ok(!inspect(f.principals, { depth: 10, showHidden: true }).includes('s3cret-password'));
    for (let i = 0; i < MAX_PRINCIPALS + 5; i++) await f.principals.verify(`u${i}`, 's3cret-password');
    assert.equal(f.principals.size, MAX_PRINCIPALS);
  });
});
