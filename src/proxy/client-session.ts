/**
 * One client connection and its own upstream session, opened as the client's own user through the
 * host's dialler.
 *
 * Connection phase: the upstream session dialled, and what the login settles, in
 * session-lifecycle.ts; the login itself relayed by {@link LoginRelay} (login-relay.ts).
 *
 * Command phase: one command at a time (later packets queue: clients may pipeline), dispatched by
 * the command table (command-table.ts). Each command is relayed verbatim and the response streamed
 * back verbatim with backpressure (read by response-relay.ts), or answered by the router with one
 * pre-encoded write (answer-writer.ts). This file keeps what every statement crosses; the rarer
 * paths (COM_CHANGE_USER, COM_QUIT, errors, closing) are in session-lifecycle.ts, probes in
 * upstream-probe.ts, LOAD DATA LOCAL INFILE in local-infile.ts, each given the session as one
 * {@link SessionPeer} made when it starts.
 */
import type { Socket } from 'node:net';
// Imported, not the global: `globalThis.performance` is a getter, half the cost of each of the
// clock reads a relayed statement makes.
import { performance } from 'node:perf_hooks';
import type { ErrorCode } from '../errors.js';
import { catalogError, encodeAnswer, encodeErrPacket } from './answer-writer.js';
import { dispatch } from './command-table.js';
import { BeginDeferral } from './deferred-begin.js';
import { sendHeldInfile, sendInfile } from './local-infile.js';
import type { LoginRelay } from './login-relay.js';
import { PacketFramer, PacketTooLarge, type Packet } from './protocol/framer.js';
import type { ResponseKind } from './protocol/response-scanner.js';
import { PreparedStatements } from './prepared-statements.js';
import { ResponseRelay } from './response-relay.js';
import type { Answer, RelayWatch, Routed, Upstream } from './read-router.js';
import type { Negotiated, Phase, SessionHost } from './session-host.js';
import {
  beginFailed, beginState, changeUser, closeSession, connect, failed, fatal, loggedIn, loginData, loginRelay, quit, relogin,
  upstreamClosed, type SessionPeer,
} from './session-lifecycle.js';
import type { SessionState } from './session-state.js';
import type { SocketReader } from './socket-reader.js';
import { probeData, type UpstreamProbe } from './upstream-probe.js';

const MAX_QUEUED = 64;
/**
 * The largest packet accepted before login: a handshake response, with its connection attributes,
 * or an auth-plugin packet (GSSAPI tokens run to tens of KiB). An anonymous client cannot make
 * Rotor buffer more. [note: framer-memory]
 */
const LOGIN_MAX_PACKET = 1 << 20;

export class ClientSession {
  /** Rotor's own session number, for logs and stats; clients never see it (they see upstream's). */
  readonly id: number;
  readonly #host: SessionHost;
  #client: Socket;
  #upstream: Socket | null = null;
  /** What reads the upstream socket while it is the link's own (not TLS). [note: read-buffer] */
  #upstreamReader: SocketReader | null = null;
  #phase: Phase = 'connecting';
  readonly #clientFramer: PacketFramer;
  readonly #upstreamFramer = new PacketFramer();
  readonly #response: ResponseRelay;
  readonly #wire: Negotiated = { caps: 0, mariadbCaps: 0, charset: 0 };
  /** While a login (or COM_CHANGE_USER) is relayed; an idle session does not keep one. */
  #login: LoginRelay | null = null;
  #state: SessionState | null = null;
  readonly #queue: Packet[] = [];
  #busy = false;
  /** When the command being handled arrived, and when its statement went upstream (0: it did not), for onAnswered. */
  #commandAt = 0;
  #relayedAt = 0;
  /** How long the response to the last statement relayed took, from #relayedAt to its end (ms). */
  #upstreamMs = 0;
  #closing = false;
  /** A statement of Rotor's own running on the upstream session (upstream-probe.ts). */
  #probe: UpstreamProbe | null = null;
  readonly #statements = new PreparedStatements();
  /** `--defer-begin`: the BEGIN answered and not sent yet, and the check of its response. [note: deferred-begin] */
  readonly #deferral: BeginDeferral | null;
  /** The sequence id of the command a deferred BEGIN went upstream with. */
  #withBeginSeq = 0;
  /** The session as its parts see it. */
  readonly #peer: SessionPeer;

  constructor(id: number, client: Socket, host: SessionHost) {
    this.id = id;
    this.#client = client;
    this.#host = host;
    this.#clientFramer = new PacketFramer(Math.min(host.maxPacketSize, LOGIN_MAX_PACKET));
    this.#response = new ResponseRelay({
      wire: this.#wire,
      statements: this.#statements,
      state: () => this.#state,
      onLocalInfile: () => sendHeldInfile(this.#peer),
    });
    this.#deferral = host.deferBegin === true ? new BeginDeferral((f) => beginFailed(this.#peer, f)) : null;
    this.#peer = this.#sessionPeer();
    client.setNoDelay(true);
    this.#bindClient(client);
    void connect(this.#peer);
  }

  /** True until the client has logged in (or the session has closed). */
  get loggingIn(): boolean {
    return !this.#peer.everLoggedIn && this.#phase !== 'closed';
  }

  /** True while no command is outstanding. */
  get idle(): boolean {
    return !this.#busy && this.#queue.length === 0;
  }

  // ---- sockets ----

  #bindUpstream(up: Socket, reader: SocketReader | null): void {
    // A TLS socket takes the link's socket over: the reader hands nothing on from then.
    this.#upstreamReader?.attach(null);
    this.#upstreamReader = reader;
    // [note: read-buffer] A chunk's bytes are held while the client has bytes not yet written:
    // the write of a relayed chunk that did not complete at once.
    if (reader !== null) reader.attach((chunk) => this.#onUpstreamData(chunk), () => this.#client.writableLength > 0);
    else up.on('data', (chunk: Buffer) => this.#onUpstreamData(chunk));
    up.on('error', (err) => this.#host.logger?.debug({ err, id: this.id }, 'upstream socket error'));
    up.on('close', () => upstreamClosed(this.#peer));
    up.on('drain', () => this.#client.resume());
  }

  #bindClient(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.#onClientData(chunk));
    socket.on('error', (err) => this.#host.logger?.debug({ err, id: this.id }, 'client socket error'));
    socket.on('close', () => this.close());
    socket.on('drain', () => this.#upstream?.resume());
  }

  #onClientData(chunk: Buffer): void {
    let bytes: Buffer | null = chunk;
    const login = this.#login;
    if (login !== null && login.awaitsTls && this.#clientFramer.idle) bytes = login.startTls(chunk);
    if (bytes === null) return;
    // A client that pipelines gets the answers Rotor gives at once to the commands of one chunk in
    // one write (one system call), not one each; a relayed command's response is written as it
    // comes. The socket is the one corked even if the login swaps it for a TLS socket meanwhile.
    const client = this.#client;
    // A chunk of one whole command, once logged in, is answered with one write at most: no cork.
    const corked = this.#phase !== 'ready' || !this.#clientFramer.idle || bytes.length !== 4 + (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16));
    if (corked) client.cork();
    try {
      this.#clientFramer.push(bytes, (p) => this.#onClientPacket(p));
    } catch (err) {
      if (err instanceof PacketTooLarge) fatal(this.#peer, 'ERR_PROXY_PACKET_TOO_LARGE', [], undefined, (err.seq + 1) & 0xff);
      else fatal(this.#peer, 'ERR_PROXY_MALFORMED_PACKET', [], err);
    } finally {
      if (corked) client.uncork();
    }
  }

  #onClientPacket(p: Packet): void {
    switch (this.#phase) {
      case 'handshake':
      case 'upstream-tls':
      case 'auth':
        loginRelay(this.#peer).onClientPacket(p);
        return;
      case 'ready':
        if (this.#response.infile.active) {
          sendInfile(this.#peer, p);
          return;
        }
        if (!this.#busy && this.#queue.length === 0) {
          // The usual case, nothing outstanding: no trip through the queue.
          this.#command(p);
          if (this.#closing && this.idle) this.close();
          return;
        }
        // Packets must outlive the chunk they arrived in while queued.
        this.#queue.push(this.#busy ? copyPacket(p) : p);
        if (this.#queue.length > MAX_QUEUED) this.#client.pause();
        if (!this.#busy) this.#drainQueue();
        return;
      default:
        return;
    }
  }

  /**
   * The session as its parts see it (session-lifecycle.ts), made once: command handlers
   * (command-table.ts) use it on every statement, and call closures made here ([note: named-closures]).
   */
  #sessionPeer(): SessionPeer {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const wire = this.#wire;
    const peer: SessionPeer = {
      id: this.id,
      host: this.#host,
      wire,
      statements: this.#statements,
      deferral: this.#deferral,
      infile: this.#response.infile,
      clientFramer: this.#clientFramer,
      everLoggedIn: false,
      get mariadbCaps() { return wire.mariadbCaps; },
      router: () => this.#host.router(),
      upstreamMs: () => this.#upstreamMs,
      relay: (raw, kind, after, watch) => this.#relay(raw, kind, after, watch),
      send: (raw) => {
        // Unless upstream is not keeping up.
        if (this.#upstream?.write(raw) === false) this.#client.pause();
      },
      route: (routed, binary, relay) => this.#route(routed, binary, relay),
      get phase() { return self.#phase; },
      set phase(phase: Phase) { self.#phase = phase; },
      get client() { return self.#client; },
      get upstream() { return self.#upstream; },
      get login() { return self.#login; },
      set login(login: LoginRelay | null) { self.#login = login; },
      get state() { return self.#state; },
      set state(state: SessionState | null) { self.#state = state; },
      get probe() { return self.#probe; },
      set probe(probe: UpstreamProbe | null) { self.#probe = probe; },
      get busy() { return self.#busy; },
      get idle() { return self.idle; },
      get withBeginSeq() { return self.#withBeginSeq; },
      set withBeginSeq(seq: number) { self.#withBeginSeq = seq; },
      useClient: (tls) => {
        this.#client = tls;
        this.#bindClient(tls);
      },
      useUpstream: (up, reader = null) => {
        this.#upstream = up;
        this.#bindUpstream(up, reader);
      },
      hold: (p) => {
        this.#queue.push(copyPacket(p));
        if (this.#queue.length > MAX_QUEUED) this.#client.pause();
      },
      takeHeld: () => this.#queue.shift(),
      begin: (resp) => beginState(peer, resp),
      relogin: (user, database) => relogin(peer, user, database),
      loggedIn: (ok) => loggedIn(peer, ok),
      drainQueue: () => this.#drainQueue(),
      changeUser: (p, state) => changeUser(peer, p, state),
      quit: (raw) => quit(peer, raw),
      fatal: (code, args, err, seq) => fatal(peer, code, args, err, seq),
      sendError: (code, args, seq) => this.#sendError(code, args, seq),
      close: () => this.close(),
    };
    return peer;
  }

  // ---- command phase ----

  /** Upstream bytes: a view of the reader's buffer, so whatever keeps some copies them. [note: read-buffer] */
  #onUpstreamData(data: Buffer): void {
    let chunk = data;
    // [note: deferred-begin] The response to a BEGIN sent late comes before anything else.
    const deferral = this.#deferral;
    if (deferral !== null && deferral.awaiting) {
      const rest = deferral.feed(chunk);
      if (rest === null) return;
      chunk = rest;
    }
    if (this.#phase === 'auth' || this.#phase === 'handshake') {
      loginData(this.#peer, this.#upstreamFramer, chunk);
      return;
    }
    if (this.#phase !== 'ready') return;
    if (this.#probe !== null) {
      probeData(this.#peer, chunk);
      return;
    }
    this.#response.capture(chunk);
    if (!this.#client.write(chunk)) this.#upstream?.pause();
    if (!this.#busy) return;
    try {
      if (this.#response.scan(chunk)) {
        this.#busy = false;
        deferral?.ended(!this.#response.failed);
        if (this.#relayedAt !== 0) {
          this.#upstreamMs = performance.now() - this.#relayedAt;
          this.#host.onAnswered('upstream', this.#upstreamMs);
          this.#relayedAt = 0;
        }
        this.#response.end();
        this.#drainQueue();
      }
    } catch (err) {
      failed(this.#peer, err, (this.#response.lastSeq + 1) & 0xff);
    }
  }

  #drainQueue(): void {
    while (!this.#busy && this.#phase === 'ready' && this.#queue.length > 0) {
      const p = this.#queue.shift() as Packet;
      if (this.#queue.length < MAX_QUEUED / 2) this.#client.resume();
      this.#command(p);
    }
    if (this.#closing && this.idle) this.close();
  }

  #command(p: Packet): void {
    this.#commandAt = performance.now();
    if (p.payload.length === 0) fatal(this.#peer, 'ERR_PROXY_MALFORMED_PACKET', [], undefined, p.seq + 1);
    else dispatch(this.#peer, p, this.#state as SessionState);
  }

  /** Acts on the router's decision; `relay` sends the statement upstream. */
  #route(routed: Routed, binary: boolean, relay: (up?: Upstream) => void): void {
    if (routed.kind === 'upstream') {
      this.#relayed(routed.reason);
      relay(routed);
      return;
    }
    if (routed.kind === 'answer') {
      this.#answer(routed.answer, binary, relay);
      return;
    }
    this.#busy = true;
    routed.answer.then(
      (a) => a,
      (err: unknown) => {
        this.#host.logger?.warn({ err, id: this.id }, 'cache fill failed; relaying');
        return null;
      },
    ).then((a) => {
      if (this.#phase !== 'ready') return;
      this.#busy = false;
      if (a === null) {
        this.#relayed('fill failed');
        relay();
      } else if (a.kind === 'upstream') {
        this.#relayed(a.reason);
        relay(a);
      } else this.#answer(a, binary, relay);
      this.#drainQueue();
    }).catch((err: unknown) => failed(this.#peer, err));
  }

  /** Writes Rotor's own answer; one that cannot be encoded is relayed upstream instead. */
  #answer(a: Answer, binary: boolean, relay: () => void): void {
    const state = this.#state as SessionState;
    let bytes: Buffer;
    try {
      bytes = encodeAnswer(a, binary, this.#wire, state.answerStatus);
    } catch (err) {
      this.#host.logger?.warn({ err, id: this.id }, 'cached answer could not be encoded; relaying');
      this.#relayed('answer not encodable');
      relay();
      return;
    }
    // Rows from a cache are a read served from memory; any other answer is Rotor's to a command.
    if (a.kind === 'rows' && a.cache !== undefined) {
      this.#host.onServed();
      this.#host.onAnswered('cache', performance.now() - this.#commandAt);
      state.lastRoute = { destination: 'cache', cache: a.cache };
      this.#host.logger?.debug({ id: this.id, destination: 'cache', cache: a.cache }, 'statement routed');
    }
    this.#respond(bytes);
  }

  /** A statement goes upstream: counted, remembered for EXPLAIN LAST STATEMENT, logged at debug. */
  #relayed(reason: string | null): void {
    this.#host.onRelayed(reason);
    this.#relayedAt = performance.now();
    (this.#state as SessionState).lastRoute = { destination: 'upstream', reason };
    this.#host.logger?.debug({ id: this.id, destination: 'upstream', reason }, 'statement routed');
  }

  /**
   * Writes a response of Rotor's own (an answer or an error). A client that does not read its
   * responses gets no more until it does: its commands queue, and past MAX_QUEUED its socket is
   * no longer read, so a flood of commands Rotor answers itself cannot grow Rotor's write buffer.
   */
  #respond(bytes: Buffer): void {
    if (this.#client.write(bytes) || this.#busy || this.#phase !== 'ready') return;
    this.#busy = true;
    this.#client.once('drain', () => {
      this.#busy = false;
      this.#drainQueue();
    });
  }

  /** Sends a command upstream and streams its response back. */
  #relay(raw: Buffer, kind: ResponseKind, after?: (ok: boolean) => void, watch?: RelayWatch): void {
    const up = this.#upstream;
    if (!up) return;
    const deferral = this.#deferral;
    let begin: Buffer | null = null;
    if (deferral !== null) {
      // [note: deferred-begin]
      const ok = kind === 'query' ? deferral.defer(raw, this.#state as SessionState) : null;
      if (ok !== null) {
        this.#answerBegin(ok, after);
        return;
      }
      begin = deferral.take();
    }
    this.#busy = true;
    this.#response.begin(kind, after, watch);
    if (begin === null) {
      if (!up.write(raw)) this.#client.pause();
      return;
    }
    // The BEGIN and the command in one write (one system call, one wake-up of the server).
    this.#withBeginSeq = raw[3];
    up.cork();
    up.write(begin);
    const flowing = up.write(raw);
    up.uncork();
    if (!flowing) this.#client.pause();
  }

  /**
   * A BEGIN answered at once: the session state notes its OK as it would a relayed one's, and the
   * statement is done as a relayed one is when its response ends. [note: deferred-begin]
   */
  #answerBegin(ok: Buffer, after: ((ok: boolean) => void) | undefined): void {
    (this.#state as SessionState).noteStatus(ok.readUInt16LE(7));
    // Timed as any relayed statement is (the proxied-queries time of its `after` reads it).
    this.#upstreamMs = this.#relayedAt !== 0 ? performance.now() - this.#relayedAt : 0;
    if (this.#relayedAt !== 0) {
      this.#host.onAnswered('upstream', this.#upstreamMs);
      this.#relayedAt = 0;
    }
    this.#respond(ok);
    after?.(true);
  }

  #sendError(code: ErrorCode, args: ReadonlyArray<string | number>, seq: number): void {
    this.#respond(encodeErrPacket(catalogError(code, args), seq));
  }

  /** Closes after the outstanding command, or at once when idle. */
  drain(): void {
    this.#closing = true;
    if (this.idle) this.close();
  }

  /** Closes both connections (session-lifecycle.ts), once. */
  close(): void {
    closeSession(this.#peer, this);
  }
}

/** A packet that outlives the chunk it arrived in. */
function copyPacket(p: Packet): Packet {
  return { seq: p.seq, payload: Buffer.from(p.payload), raw: Buffer.from(p.raw) };
}
