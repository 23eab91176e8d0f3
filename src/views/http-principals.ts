/**
 * [note: http-principals] An HTTP read with Basic credentials is read as that MySQL account, as a
 * SQL session of it would be: the password is checked by a real login to the upstream, and whether
 * the account may read a cache is asked of MariaDB on that account's own session, through the same
 * grants check SQL reads use ([note: cached-grants], `mayRead`), kept per account and cache until
 * the privilege epoch moves.
 *
 * A verified login is remembered for {@link LOGIN_TTL_MS}, so a request costs no login, keyed by an
 * HMAC of user and password under a key made at start and never kept anywhere: the password itself
 * is never kept (the account's session, opened by the login, stays open while it is used, and a
 * check that needs it again after it closed logs in with the password of the request at hand).
 * A change of accounts, passwords or grants that reaches the binlog (`PrivilegeChecks.accountEpoch`,
 * src/binlog/ddl.ts `changesPrivileges`), a wrong password, a dropped account or a changed
 * password all need a new login; a failed login is never remembered (the listener limits failures
 * per client address, src/proxy/http-read/). At most {@link MAX_OPEN_SESSIONS} accounts' sessions are
 * open at once (the least recently used closes). At most {@link MAX_PRINCIPALS} logins are remembered
 * (the oldest go first), at most {@link MAX_LOGINS_IN_FLIGHT} are checked at once, and at most
 * {@link MAX_LOGINS_PER_SOURCE} of one client address: the listener counts a failure when its
 * login has answered, so logins sent at once would all pass its limit before the first failure
 * is counted (and one address would take every slot). Pinned by
 * test/views/http-principals.test.ts and test/e2e/http-read.test.ts.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { ProbeError } from '../proxy/read-router.js';
import type { AccountSession, LoginFailure } from '../upstream/account-session.js';
import type { Checked, PrivilegeChecks, Prober } from './privileges.js';

/** How long a verified login is trusted without asking the upstream again. */
export const LOGIN_TTL_MS = 60_000;
/** Verified logins remembered at most. */
export const MAX_PRINCIPALS = 1_000;
/** Logins being checked with the upstream at once, at most. */
export const MAX_LOGINS_IN_FLIGHT = 32;
/** Logins of one client address being checked at once, at most. */
export const MAX_LOGINS_PER_SOURCE = 4;
/** An account's session unused this long is closed (longer than the default privilege refresh). */
const SESSION_IDLE_MS = 30_000;
/**
 * Accounts' sessions open at once, at most: past it the least recently used is closed (its login
 * stays remembered; its next grants check logs in again). Each is a connection to MariaDB, whose
 * default max_connections (151) a thousand remembered logins would otherwise take from every
 * other client.
 */
export const MAX_OPEN_SESSIONS = 32;

/** The open accounts' sessions, least recently used first. */
class SessionBudget {
  readonly #open = new Set<Principal>();

  used(p: Principal): void {
    this.#open.delete(p);
    this.#open.add(p);
    while (this.#open.size > MAX_OPEN_SESSIONS) {
      const oldest = this.#open.values().next().value as Principal;
      this.#open.delete(oldest);
      oldest.closeSession();
    }
  }

  closed(p: Principal): void {
    this.#open.delete(p);
  }

  get size(): number {
    return this.#open.size;
  }
}

/** Logs in as an account (src/upstream/account-session.ts `openAccountSession`). */
export type Login = (user: string, password: string) => Promise<AccountSession | LoginFailure>;

/** A verified account: what its grants checks are kept under. */
export class Principal implements Checked {
  /** Checks of this account are never moved by a session's own state: only the privilege epoch. */
  readonly privilegeGeneration = 0;
  #session: AccountSession | null;
  #idle: NodeJS.Timeout | null = null;

  constructor(readonly user: string, readonly verifiedAt: number, readonly accountEpoch: number, session: AccountSession, readonly login: Login, readonly budget: SessionBudget = new SessionBudget()) {
    this.#session = session;
    this.#touch();
  }

  /**
   * What a grants check of this account asks MariaDB through: its session, opened again with
   * `password` (the request's own) when it was closed.
   */
  prober(password: string): Prober {
    const session = async (): Promise<AccountSession | ProbeError> => {
      let s = this.#session;
      if (s === null || s.closed) {
        const opened = await this.login(this.user, password);
        if ('kind' in opened) return opened.kind === 'refused' ? opened.error : { errno: 2003, sqlState: 'HY000', message: opened.message };
        this.#session?.close();
        this.#session = s = opened;
      }
      this.#touch();
      return s;
    };
    return {
      probe: async (sql) => {
        const s = await session();
        return 'probe' in s ? s.probe(sql, 'prepare') : s;
      },
      probeRow: async (sql) => {
        const s = await session();
        return 'probe' in s ? s.probeRow(sql) : s;
      },
    };
  }

  #touch(): void {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.close(), SESSION_IDLE_MS);
    this.#idle.unref();
    this.budget.used(this);
  }

  /** Closes the account's session; a later check logs in again. */
  closeSession(): void {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    this.#session?.close();
    this.#session = null;
  }

  close(): void {
    this.closeSession();
    this.budget.closed(this);
  }
}

export class Principals {
  readonly #key = randomBytes(32);
  /** HMAC of user and password → the verified account (insertion order: oldest first). */
  readonly #verified = new Map<string, Principal>();
  readonly #checking = new Map<string, Promise<Principal | LoginFailure>>();
  /** Logins being checked per client address. */
  readonly #bySource = new Map<string, number>();
  /** Logins used once and not remembered (a grant change came during the login): closed at {@link close} too. */
  readonly #unremembered = new Set<Principal>();
  readonly #budget = new SessionBudget();

  constructor(readonly login: Login, readonly privileges: PrivilegeChecks, readonly now: () => number = Date.now) {}

  /** Logins remembered now. */
  get size(): number {
    return this.#verified.size;
  }

  /** Accounts' sessions open now (at most {@link MAX_OPEN_SESSIONS}). */
  get openSessions(): number {
    return this.#budget.size;
  }

  /**
   * The account these credentials log in as: at once when verified recently, else after a login;
   * or MariaDB's refusal, the upstream out of reach, or `busy` when too many logins are being
   * checked (in all, or from `source`, the client's address).
   */
  verify(user: string, password: string, source = ''): Principal | Promise<Principal | LoginFailure | 'busy'> {
    const h = createHmac('sha256', this.#key).update(user).update('\0').update(password).digest('base64url');
    const known = this.#verified.get(h);
    if (known !== undefined) {
      if (this.now() - known.verifiedAt < LOGIN_TTL_MS && known.accountEpoch === this.privileges.accountEpoch) return known;
      this.#verified.delete(h);
      known.close();
    }
    const inFlight = this.#checking.get(h);
    if (inFlight !== undefined) return inFlight;
    const fromSource = this.#bySource.get(source) ?? 0;
    if (this.#checking.size >= MAX_LOGINS_IN_FLIGHT || fromSource >= MAX_LOGINS_PER_SOURCE) return Promise.resolve('busy');
    this.#bySource.set(source, fromSource + 1);
    const done = (): void => {
      this.#checking.delete(h);
      const n = (this.#bySource.get(source) ?? 1) - 1;
      if (n <= 0) this.#bySource.delete(source);
      else this.#bySource.set(source, n);
    };
    const epoch = this.privileges.accountEpoch;
    const checking = this.login(user, password).then((r): Principal | LoginFailure => {
      done();
      if ('kind' in r) return r;
      const p = new Principal(user, this.now(), epoch, r, this.login, this.#budget);
      // A grant change seen while the login ran: this login is used once, not remembered.
      if (epoch !== this.privileges.accountEpoch) {
        this.#unremembered.add(p);
        if (this.#unremembered.size > MAX_LOGINS_IN_FLIGHT) for (const q of this.#unremembered) { q.close(); this.#unremembered.delete(q); break; }
        return p;
      }
      this.#verified.set(h, p);
      while (this.#verified.size > MAX_PRINCIPALS) {
        const [oldest, q] = this.#verified.entries().next().value as [string, Principal];
        this.#verified.delete(oldest);
        q.close();
      }
      return p;
    }, (e: unknown): LoginFailure => {
      done();
      return { kind: 'unreachable', message: e instanceof Error ? e.message : String(e) };
    });
    this.#checking.set(h, checking);
    return checking;
  }

  /** Closes every account's session (stop). */
  close(): void {
    for (const p of [...this.#verified.values(), ...this.#unremembered]) p.close();
    this.#verified.clear();
    this.#unremembered.clear();
  }
}
