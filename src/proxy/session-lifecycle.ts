/**
 * A client session's start and end, apart from its statements: its upstream session dialled and
 * Rotor's handshake offered, what its login settles (login-relay.ts relays the login itself),
 * COM_CHANGE_USER and COM_QUIT, and the ways it closes (the upstream session lost, a deferred
 * BEGIN answered differently, close). Each is a function of the session as {@link SessionPeer}
 * shows it; none runs on a statement's path.
 */
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors.js';
import type { CommandContext } from './command-table.js';
import type { BeginFailure } from './deferred-begin.js';
import type { InfileSession } from './local-infile.js';
import { LoginRelay, type LoginPeer } from './login-relay.js';
import { Cap, Com } from './protocol/constants.js';
import type { Packet, PacketFramer } from './protocol/framer.js';
import { decodeOk } from './protocol/generic-response.js';
import type { HandshakeResponse } from './protocol/handshake.js';
import type { Phase } from './session-host.js';
import { SessionState } from './session-state.js';
import type { SocketReader } from './socket-reader.js';
import { UpstreamRefused } from './upstream-link.js';
import { probeRow, runProbe, type ProbeSession } from './upstream-probe.js';

/**
 * A client session as its parts see it: its command handlers (command-table.ts), its login
 * (login-relay.ts), its probes (upstream-probe.ts), LOAD DATA LOCAL INFILE (local-infile.ts) and
 * the functions here; its fields, read and set where they are. The session makes one when it starts.
 */
export interface SessionPeer extends CommandContext, LoginPeer, ProbeSession, InfileSession {
  phase: Phase;
  readonly clientFramer: PacketFramer;
  /** While a login (or COM_CHANGE_USER) is relayed; null in the command phase. */
  login: LoginRelay | null;
  state: SessionState | null;
  readonly busy: boolean;
  /** True while no command is outstanding. */
  readonly idle: boolean;
  /** The sequence id of the command a deferred BEGIN went upstream with. */
  withBeginSeq: number;
  /** Set at the first successful login; COM_CHANGE_USER re-authenticates but is not a login. */
  everLoggedIn: boolean;
  /** Replaces the upstream socket, read by `reader` when it is the link's own (listeners bound). */
  useUpstream(up: Socket, reader?: SocketReader | null): void;
  /** Runs the commands that wait, as long as none is outstanding. */
  drainQueue(): void;
}

/** Opens the client's own upstream session and offers the client Rotor's handshake. */
export async function connect(s: SessionPeer): Promise<void> {
  let link;
  try {
    link = await s.host.upstream.open();
  } catch (err) {
    if (err instanceof UpstreamRefused) s.client.write(err.packet);
    else s.sendError('ERR_PROXY_UPSTREAM_CONNECT', [(err as Error).message], 0);
    s.close();
    return;
  }
  if (s.phase === 'closed') {
    link.socket.destroy();
    return;
  }
  const up = link.socket;
  s.host.onUpstreamVersion(link.handshake.serverVersion);
  const handshake = loginRelay(s).offer(link.handshake);
  s.useUpstream(up, link.reader ?? null);
  up.resume();
  s.phase = 'handshake';
  s.client.write(handshake);
}

/** The relay of the login under way: made when a login starts, dropped when it is done. */
export function loginRelay(s: SessionPeer): LoginRelay {
  return (s.login ??= new LoginRelay(s));
}

/** Upstream's bytes during a login, framed by `framer`. */
export function loginData(s: SessionPeer, framer: PacketFramer, chunk: Buffer): void {
  try {
    const login = loginRelay(s);
    framer.push(chunk, (p) => login.onUpstreamPacket(p));
  } catch (err) {
    // Upstream's bytes make no sense: end the connection, as a broken server's would end.
    s.host.logger?.warn({ err, id: s.id }, 'bad upstream packet during login');
    s.close();
  }
}

/** The client's login is known: the session's state begins, its probes run on its upstream session. */
export function beginState(s: SessionPeer, resp: HandshakeResponse): void {
  const state = new SessionState(s.id, resp.user, resp.capabilities & Cap.CONNECT_WITH_DB ? resp.database || null : null, resp.charset);
  s.state = state;
  state.probe = (sql, kind) => runProbe(s, sql, kind);
  state.probeRow = (sql) => probeRow((kind, onRow) => runProbe(s, sql, kind, onRow));
}

/** Upstream accepted the login with this OK payload: the command phase starts, with the commands held behind it. */
export function loggedIn(s: SessionPeer, ok: Buffer): void {
  s.phase = 'ready';
  s.everLoggedIn = true;
  s.login = null;
  s.clientFramer.maxPacket = s.host.maxPacketSize;
  if (s.state) s.state.status = decodeOk(ok, s.wire.caps).status;
  s.drainQueue();
}

/** COM_CHANGE_USER accepted upstream: every prepared statement is gone, the state starts again as `user`. */
export function relogin(s: SessionPeer, user: string, database: string | null): void {
  s.statements.clear();
  s.state?.relogin(user, database, s.wire.charset);
}

/** COM_CHANGE_USER: a login inside the command phase, after a deferred BEGIN it must follow. */
export function changeUser(s: SessionPeer, p: Packet, state: SessionState): void {
  const begin = s.deferral?.take() ?? null;
  if (begin !== null) {
    s.withBeginSeq = p.seq;
    s.upstream?.write(begin);
  }
  s.deferral?.relearn();
  loginRelay(s).changeUser(p, state.user);
}

/** COM_QUIT: sent upstream, and the session closes. */
export function quit(s: SessionPeer, raw: Buffer): void {
  // A BEGIN and a disconnect leave nothing: the deferred one is not sent. [note: deferred-begin]
  s.deferral?.drop();
  s.upstream?.end(raw);
  s.close();
}

/**
 * The upstream did not answer a deferred BEGIN as Rotor did: the command that went with it is
 * answered with BEGIN's error (or Rotor's), and the session closes, cutting the upstream
 * connection so a transaction it holds is rolled back. [note: deferred-begin]
 */
export function beginFailed(s: SessionPeer, f: BeginFailure): void {
  s.host.logger?.warn({ id: s.id, got: f.got.toString('hex'), expected: f.expected.toString('hex') }, 'a deferred BEGIN was answered differently upstream; closing the session');
  const seq = (s.withBeginSeq + 1) & 0xff;
  if (f.err !== null) {
    const err = Buffer.from(f.err);
    err[3] = seq;
    s.client.write(err);
  } else {
    s.sendError('ERR_INTERNAL', ['the upstream answered a deferred BEGIN differently'], seq);
  }
  s.close();
}

/** Answers with an error and closes the connection (malformed input, lost upstream). */
export function fatal(s: SessionPeer, code: ErrorCode, args: ReadonlyArray<string | number>, err?: unknown, seq = 1): void {
  if (s.phase === 'closed') return;
  if (err) s.host.logger?.debug({ err, id: s.id }, code);
  s.sendError(code, args, seq);
  s.close();
}

/** A bug must cost this session, never the process: logged, answered with ERR_INTERNAL, closed. */
export function failed(s: SessionPeer, err: unknown, seq?: number): void {
  s.host.logger?.error({ err, id: s.id }, 'session failed');
  fatal(s, 'ERR_INTERNAL', [(err as Error).message], err, seq);
}

/**
 * The upstream session ended (KILL, shutdown, crash, wait_timeout): whatever it sent before
 * closing (e.g. ERR 1927 after a KILL) has been relayed, and the client's connection is closed
 * the way MariaDB closes it, with no error of Rotor's own (a server never sends the client
 * library's 2013, and connectors take it for a non-fatal error and wait).
 */
export function upstreamClosed(s: SessionPeer): void {
  if (s.phase === 'closed') return;
  s.host.logger?.debug({ id: s.id, busy: s.busy, phase: s.phase }, 'upstream session closed');
  s.close();
}

/**
 * Closes both connections: upstream's with COM_QUIT when the session was idle (cut otherwise), the
 * client's at once, and tells the host. Once.
 */
export function closeSession(s: SessionPeer, session: { readonly id: number }): void {
  if (s.phase === 'closed') return;
  const wasIdle = s.phase === 'ready' && s.idle;
  s.phase = 'closed';
  s.probe?.cancel({ errno: 1105, sqlState: 'HY000', message: 'the session closed' });
  s.probe = null;
  const up = s.upstream;
  if (up && !up.destroyed) {
    if (wasIdle) up.end(QUIT_PACKET);
    else up.destroy();
  }
  if (!s.client.destroyed) s.client.end();
  // A client that never reads its socket must not hold it open forever.
  setTimeout(() => s.client.destroy(), 2000).unref();
  s.host.onClosed(session);
}

const QUIT_PACKET = Buffer.from([1, 0, 0, 0, Com.QUIT]);
