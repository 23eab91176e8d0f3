/**
 * One client connection and its own upstream session, opened as the client's own user.
 *
 * Connection phase: Rotor connects upstream first and presents upstream's scramble in its own
 * handshake, so the client's mysql_native_password answer is valid upstream and the login is
 * relayed (a wrong password gets upstream's own 1045). A client starting with another plugin
 * (caching_sha2_password) is switched to upstream's plugin first. Capabilities are the client's
 * ∩ upstream's minus what Rotor does not support, and are the same on both sides, so responses
 * can be relayed byte for byte.
 *
 * Command phase: one command at a time (later packets queue: clients may pipeline). Each command
 * is relayed verbatim and the response streamed back verbatim with backpressure, or answered by
 * the router with one pre-encoded write.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { ERRORS, type ErrorCode } from '../errors.js';
import { Cap, Com, MariaCap, Status, SUPPORTED_MARIADB_CAPS, UNSUPPORTED_CAPS } from './protocol/constants.js';
import { PacketFramer, PacketTooLarge, type Packet } from './protocol/framer.js';
import { ColumnCapture } from './protocol/column-capture.js';
import { decodeErr, decodeOk, okStatus, writeErr, writeOk, type ErrPacket } from './protocol/generic-response.js';
import {
  decodeHandshakeResponse, encodeAuthSwitch, encodeHandshakeResponse, encodeServerHandshake, encodeSslRequest, isSslRequest, takeSslRequest,
} from './protocol/handshake.js';
import { PacketReader } from './protocol/packet-reader.js';
import { PacketWriter } from './protocol/packet-writer.js';
import { encodeResultSetOnce } from './protocol/result-set.js';
import { ResponseScanner, type ResponseKind } from './protocol/response-scanner.js';
import { LocalInfileRelay } from './local-infile.js';
import { PreparedStatements } from './prepared-statements.js';
import type { Answer, ProbeError, ReadRouter, RelayWatch, Routed } from './read-router.js';
import { parseUse, SessionState } from './session-state.js';
import { openUpstream, UpstreamRefused } from './upstream-link.js';
import { startUpstreamTls, upstreamTlsFor, type UpstreamTlsOptions } from './upstream-tls.js';

/** What a session needs from the server that owns it. */
export interface SessionHost {
  readonly upstream: { readonly host: string; readonly port: number };
  readonly secureContext: SecureContext | null;
  readonly upstreamTls: UpstreamTlsOptions;
  readonly maxPacketSize: number;
  readonly logger: Logger | undefined;
  router(): ReadRouter;
  onUpstreamVersion(version: string): void;
  onServed(): void;
  onRelayed(reason: string | null): void;
  onClosed(session: ClientSession): void;
}

/** `upstream-tls`: the client's login waits while Rotor starts TLS with upstream. */
type Phase = 'connecting' | 'handshake' | 'upstream-tls' | 'auth' | 'ready' | 'closed';

const MAX_QUEUED = 64;
/**
 * The largest packet accepted before login: a handshake response, with its connection attributes,
 * or an auth-plugin packet (GSSAPI tokens run to tens of KiB). An anonymous client cannot make
 * Rotor buffer more. [note: framer-memory]
 */
const LOGIN_MAX_PACKET = 1 << 20;
const NO_SCRAMBLE = Buffer.alloc(0);

export class ClientSession {
  /** Rotor's own session number, for logs and stats; clients never see it (they see upstream's). */
  readonly id: number;
  readonly #host: SessionHost;
  #client: Socket;
  #upstream: Socket | null = null;
  #phase: Phase = 'connecting';
  /** Set at the first successful login; COM_CHANGE_USER re-authenticates but is not a login. */
  #loggedIn = false;
  readonly #clientFramer: PacketFramer;
  readonly #upstreamFramer = new PacketFramer();
  readonly #scanner: ResponseScanner;
  readonly #infile: LocalInfileRelay;
  #caps = 0;
  #upstreamOffersTls = false;
  #mariadbCaps = 0;
  #charset = 0;
  #scramble: Buffer = NO_SCRAMBLE;
  #authPlugin = 'mysql_native_password';
  #seqOffset = 0;
  #state: SessionState | null = null;
  readonly #queue: Packet[] = [];
  #busy = false;
  #closing = false;
  #afterResponse: ((ok: boolean) => void) | null = null;
  #responseFailed = false;
  /** Column definitions the router asked to learn from the response being relayed. */
  #capture: ColumnCapture | null = null;
  /** A statement of Rotor's own running on the upstream session (see {@link ClientSession.probe}). */
  #probe: { readonly kind: 'query' | 'prepare'; readonly scanner: ResponseScanner; readonly rows: ColumnCapture | null; readonly resolve: (e: ProbeError | null) => void; err: ProbeError | null; statementId: number } | null = null;
  readonly #statements = new PreparedStatements();

  constructor(id: number, client: Socket, host: SessionHost) {
    this.id = id;
    this.#client = client;
    this.#host = host;
    this.#clientFramer = new PacketFramer(Math.min(host.maxPacketSize, LOGIN_MAX_PACKET));
    this.#scanner = new ResponseScanner({
      onOk: (p) => this.#onOk(p),
      onEof: (status) => this.#setStatus(status),
      onErr: () => {
        this.#responseFailed = true;
      },
      onPrepareOk: (p) => this.#statements.prepared(p),
      onLocalInfile: () => this.#onLocalInfile(),
    });
    this.#infile = new LocalInfileRelay(this.#scanner);
    client.setNoDelay(true);
    this.#bindClient(client);
    void this.#connect();
  }

  /** True until the client has logged in (or the session has closed). */
  get loggingIn(): boolean {
    return !this.#loggedIn && this.#phase !== 'closed';
  }

  /** True while no command is outstanding. */
  get idle(): boolean {
    return !this.#busy && this.#queue.length === 0;
  }

  // ---- connection phase ----

  async #connect(): Promise<void> {
    let link;
    try {
      link = await openUpstream(this.#host.upstream.host, this.#host.upstream.port);
    } catch (err) {
      if (err instanceof UpstreamRefused) this.#client.write(err.packet);
      else this.#sendError('ERR_PROXY_UPSTREAM_CONNECT', [(err as Error).message], 0);
      this.close();
      return;
    }
    if (this.#phase === 'closed') {
      link.socket.destroy();
      return;
    }
    const up = link.socket;
    this.#upstream = up;
    this.#scramble = link.handshake.scramble;
    this.#authPlugin = link.handshake.authPlugin;
    this.#host.onUpstreamVersion(link.handshake.serverVersion);
    this.#upstreamOffersTls = (link.handshake.capabilities & Cap.SSL) !== 0;
    let caps = link.handshake.capabilities & ~UNSUPPORTED_CAPS;
    if (this.#host.secureContext) caps |= Cap.SSL;
    this.#caps = caps >>> 0;
    this.#mariadbCaps = link.handshake.mariadbCapabilities & SUPPORTED_MARIADB_CAPS;
    this.#bindUpstream(up);
    up.resume();
    this.#phase = 'handshake';
    // The client sees the upstream session's own connection id, so CONNECTION_ID(), the processlist
    // and every form of KILL mean to MariaDB what they mean to the client, with nothing rewritten.
    this.#client.write(encodeServerHandshake({ ...link.handshake, capabilities: this.#caps, mariadbCapabilities: this.#mariadbCaps }));
  }

  #bindUpstream(up: Socket): void {
    up.on('data', (chunk: Buffer) => this.#onUpstreamData(chunk));
    up.on('error', (err) => this.#host.logger?.debug({ err, id: this.id }, 'upstream socket error'));
    up.on('close', () => this.#onUpstreamClosed());
    up.on('drain', () => this.#client.resume());
  }

  #bindClient(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.#onClientData(chunk));
    socket.on('error', (err) => this.#host.logger?.debug({ err, id: this.id }, 'client socket error'));
    socket.on('close', () => this.close());
    socket.on('drain', () => this.#upstream?.resume());
  }

  #onClientData(chunk: Buffer): void {
    if (this.#phase === 'handshake' && this.#host.secureContext && !this.#tlsDone && this.#clientFramer.idle && this.#startTls(chunk)) return;
    try {
      this.#clientFramer.push(chunk, (p) => this.#onClientPacket(p));
    } catch (err) {
      if (err instanceof PacketTooLarge) this.#fatal('ERR_PROXY_PACKET_TOO_LARGE', [], undefined, (err.seq + 1) & 0xff);
      else this.#fatal('ERR_PROXY_MALFORMED_PACKET', [], err);
    }
  }

  #onClientPacket(p: Packet): void {
    switch (this.#phase) {
      case 'handshake':
        this.#onHandshakeResponse(p);
        return;
      case 'upstream-tls':
      case 'auth':
        // Only what upstream asked for is part of the login (an auth switch answer, a public key
        // request, a password): anything else the client pipelined is a command, kept for after
        // the login. Relayed now, it would run unseen by the session state and the router, and its
        // answer would arrive where a probe's is expected.
        if (this.#phase === 'upstream-tls' || this.#authTurns === 0) {
          this.#queue.push({ seq: p.seq, payload: Buffer.from(p.payload), raw: Buffer.from(p.raw) });
          if (this.#queue.length > MAX_QUEUED) this.#client.pause();
          return;
        }
        this.#authTurns--;
        // Backpressure here too: a client may send without waiting for upstream.
        if (this.#upstream?.write(reseq(p.raw, p.seq - this.#seqOffset)) === false) this.#client.pause();
        return;
      case 'ready':
        if (this.#infile.active) {
          this.#sendInfile(p);
          return;
        }
        // Packets must outlive the chunk they arrived in while queued.
        this.#queue.push(this.#busy ? { seq: p.seq, payload: Buffer.from(p.payload), raw: Buffer.from(p.raw) } : p);
        if (this.#queue.length > MAX_QUEUED) this.#client.pause();
        if (!this.#busy) this.#drainQueue();
        return;
      default:
        return;
    }
  }

  #handshakePending: Packet | null = null;
  /** Login packets upstream asked the client for and has not had yet. */
  #authTurns = 0;
  #tlsDone = false;
  #sslProbe: Buffer | null = null;

  /**
   * STARTTLS: the client's SSLRequest is followed at once by its TLS ClientHello, possibly in the
   * same chunk, so the request is recognised before the framer sees the bytes and whatever follows
   * it is handed back to the socket for the TLS layer. Returns false when the bytes are a plain
   * handshake response (they then go through the framer as usual).
   */
  #startTls(chunk: Buffer): boolean {
    const buf = this.#sslProbe ? Buffer.concat([this.#sslProbe, chunk]) : chunk;
    this.#sslProbe = null;
    const found = takeSslRequest(buf);
    if (found === 'more') {
      this.#sslProbe = Buffer.from(buf);
      return true;
    }
    this.#tlsDone = true;
    if (found === 'no') {
      // Bytes that turned out not to be an SSLRequest are framed normally.
      if (buf === chunk) return false;
      this.#onClientData(buf);
      return true;
    }
    const raw = this.#client;
    raw.removeAllListeners('data');
    raw.pause();
    if (found.rest.length > 0) raw.unshift(Buffer.from(found.rest));
    const tls = new TLSSocket(raw, { isServer: true, secureContext: this.#host.secureContext as SecureContext });
    this.#client = tls;
    this.#bindClient(tls);
    return true;
  }

  #onHandshakeResponse(p: Packet): void {
    if (this.#handshakePending) {
      // The client's answer to Rotor's auth switch.
      this.#forwardLogin(this.#handshakePending, Buffer.from(p.payload), p.seq);
      return;
    }
    if (isSslRequest(p.payload)) {
      // Only reachable without a certificate (or a second SSLRequest): Rotor did not offer TLS.
      this.#fatal('ERR_PROXY_NOT_SUPPORTED', ['TLS without a configured certificate'], undefined, p.seq + 1);
      return;
    }
    let resp;
    try {
      resp = decodeHandshakeResponse(p.payload);
    } catch (err) {
      this.#fatal('ERR_PROXY_HANDSHAKE', [], err, p.seq + 1);
      return;
    }
    if (resp.capabilities & Cap.COMPRESS) {
      this.#fatal('ERR_PROXY_NOT_SUPPORTED', ['compression'], undefined, p.seq + 1);
      return;
    }
    const copy: Packet = { seq: p.seq, payload: Buffer.from(p.payload), raw: p.raw };
    if (resp.authPlugin && resp.authPlugin !== this.#authPlugin && this.#authPlugin === 'mysql_native_password') {
      this.#handshakePending = copy;
      this.#client.write(encodeAuthSwitch(this.#authPlugin, this.#scramble, p.seq + 1));
      return;
    }
    this.#forwardLogin(copy, null, p.seq);
  }

  /** Sends the client's login upstream as sequence 1, with negotiated capabilities. */
  #forwardLogin(p: Packet, switchedAuth: Buffer | null, lastClientSeq: number): void {
    const resp = decodeHandshakeResponse(p.payload);
    const caps = (resp.capabilities & this.#caps & ~Cap.SSL) >>> 0;
    this.#caps = caps;
    this.#charset = resp.charset;
    this.#mariadbCaps = caps & Cap.LONG_PASSWORD ? 0 : resp.mariadbCapabilities & this.#mariadbCaps;
    this.#state = new SessionState(this.id, resp.user, resp.capabilities & Cap.CONNECT_WITH_DB ? resp.database || null : null, resp.charset);
    this.#state.probe = (sql, kind) => this.#runProbe(sql, kind);
    this.#state.probeRow = async (sql) => {
      let row: ReadonlyArray<string | null> | null = null;
      const err = await this.#runProbe(sql, 'query', (values) => { row = values; });
      return err ?? row;
    };
    const tls = upstreamTlsFor(this.#host.upstreamTls, this.#client instanceof TLSSocket, this.#upstreamOffersTls);
    if (typeof tls === 'string') {
      this.#fatal('ERR_PROXY_UPSTREAM_CONNECT', [tls], undefined, lastClientSeq + 1);
      return;
    }
    // Inside TLS the login is the packet after the SSLRequest, and carries CLIENT_SSL too.
    const loginSeq = tls ? 2 : 1;
    let login: Buffer;
    try {
      login = encodeHandshakeResponse({
        ...resp, capabilities: tls ? (caps | Cap.SSL) >>> 0 : caps, mariadbCapabilities: this.#mariadbCaps,
        authResponse: switchedAuth ?? resp.authResponse,
        authPlugin: switchedAuth ? this.#authPlugin : resp.authPlugin,
      }, loginSeq);
    } catch (err) {
      // An auth response the negotiated form cannot carry (an over-long auth switch answer).
      this.#fatal('ERR_PROXY_HANDSHAKE', [], err, lastClientSeq + 1);
      return;
    }
    this.#seqOffset = lastClientSeq - loginSeq;
    if (!tls) {
      this.#phase = 'auth';
      this.#authTurns = 0;
      this.#upstream?.write(login);
      return;
    }
    const raw = this.#upstream;
    if (!raw) return;
    this.#phase = 'upstream-tls';
    for (const event of ['data', 'error', 'close', 'drain']) raw.removeAllListeners(event);
    raw.on('error', () => undefined);
    const request = encodeSslRequest({ ...resp, capabilities: caps, mariadbCapabilities: this.#mariadbCaps }, 1);
    startUpstreamTls(raw, request, this.#host.upstream.host, this.#host.upstreamTls).then((up) => {
      if (this.#phase !== 'upstream-tls') {
        up.destroy();
        return;
      }
      this.#upstream = up;
      this.#bindUpstream(up);
      this.#phase = 'auth';
      this.#authTurns = 0;
      up.write(login);
    }, (err: unknown) => {
      if (this.#phase !== 'upstream-tls') return;
      this.#fatal('ERR_PROXY_UPSTREAM_CONNECT', [`TLS: ${(err as Error).message}`], err, lastClientSeq + 1);
    });
  }

  /** Upstream packets while authenticating: relayed with the client's sequence numbering. */
  #onAuthPacket(p: Packet): void {
    this.#client.write(reseq(p.raw, p.seq + this.#seqOffset));
    const first = p.payload[0];
    // Neither OK nor ERR: upstream waits for one more packet of the login from the client, which
    // may already be here (a client that did not wait for the question): it goes up as login data.
    if (first !== 0x00 && first !== 0xff) {
      const early = this.#queue.shift();
      if (early === undefined) this.#authTurns++;
      else this.#upstream?.write(reseq(early.raw, early.seq - this.#seqOffset));
    }
    if (first === 0x00) {
      this.#authTurns = 0;
      this.#phase = 'ready';
      this.#loggedIn = true;
      this.#clientFramer.maxPacket = this.#host.maxPacketSize;
      // Only the handshake uses the scramble, and it is a view into a shared 8 KiB Buffer pool slab
      // that an idle session would otherwise keep alive.
      this.#scramble = NO_SCRAMBLE;
      if (this.#state) this.#state.status = decodeOk(p.payload, this.#caps).status;
      this.#drainQueue();
    } else if (first === 0xff) {
      this.close();
    }
  }

  // ---- command phase ----

  #onUpstreamData(chunk: Buffer): void {
    if (this.#phase === 'auth' || this.#phase === 'handshake') {
      try {
        this.#upstreamFramer.push(chunk, (p) => this.#onAuthPacket(p));
      } catch (err) {
        // Upstream's bytes make no sense: end the connection, as a broken server's would end.
        this.#host.logger?.warn({ err, id: this.id }, 'bad upstream packet during login');
        this.close();
      }
      return;
    }
    if (this.#phase !== 'ready') return;
    if (this.#probe !== null) {
      this.#probeData(chunk);
      return;
    }
    if (this.#capture !== null && this.#capture.feed(chunk)) this.#capture = null;
    if (!this.#client.write(chunk)) this.#upstream?.pause();
    if (!this.#busy) return;
    try {
      const end = this.#scanner.feed(chunk);
      if (end >= 0) this.#responseDone();
    } catch (err) {
      // A bug must cost this session, never the process.
      this.#host.logger?.error({ err, id: this.id }, 'session failed');
      this.#fatal('ERR_INTERNAL', [(err as Error).message], err, (this.#scanner.lastSeq + 1) & 0xff);
    }
  }

  #responseDone(): void {
    this.#busy = false;
    const after = this.#afterResponse;
    this.#afterResponse = null;
    after?.(!this.#responseFailed);
    this.#drainQueue();
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
    const payload = p.payload;
    if (payload.length === 0) {
      this.#fatal('ERR_PROXY_MALFORMED_PACKET', [], undefined, p.seq + 1);
      return;
    }
    const state = this.#state as SessionState;
    switch (payload[0]) {
      case Com.QUIT:
        this.#upstream?.end(p.raw);
        this.close();
        return;
      case Com.QUERY:
        this.#query(p, state);
        return;
      case Com.INIT_DB: {
        const db = payload.toString('utf8', 1);
        this.#relay(p.raw, 'single', (ok) => {
          if (ok) state.database = db;
        });
        return;
      }
      case Com.PING:
      case Com.PROCESS_KILL:
      case Com.SET_OPTION:
      case Com.STMT_RESET:
      case Com.REFRESH:
      case Com.DEBUG:
      case Com.CREATE_DB:
      case Com.DROP_DB:
      case Com.STATISTICS:
        if (payload[0] === Com.STMT_RESET) this.#statements.onStatementCommand('reset', payload);
        this.#relay(p.raw, 'single');
        return;
      case Com.PROCESS_INFO:
        this.#relay(p.raw, 'query');
        return;
      case Com.FIELD_LIST:
        this.#relay(p.raw, 'field-list');
        return;
      case Com.RESET_CONNECTION:
        this.#relay(p.raw, 'single', (ok) => {
          if (!ok) return;
          state.reset();
          this.#statements.clear();
        });
        return;
      case Com.CHANGE_USER:
        this.#changeUser(p, state);
        return;
      case Com.STMT_PREPARE: {
        const sql = payload.toString('utf8', 1);
        this.#statements.expect(safe(() => this.#host.router().matchPrepared(sql, state), null));
        state.noteStatement(sql, true);
        this.#relay(p.raw, 'prepare', () => this.#statements.prepareDone());
        return;
      }
      case Com.STMT_EXECUTE:
        this.#execute(p, state);
        return;
      case Com.STMT_SEND_LONG_DATA:
      case Com.STMT_CLOSE: {
        this.#statements.onStatementCommand(payload[0] === Com.STMT_CLOSE ? 'close' : 'long-data', payload);
        // No response: the next command follows at once, unless upstream is not keeping up.
        if (this.#upstream?.write(p.raw) === false) this.#client.pause();
        return;
      }
      case Com.STMT_FETCH:
        this.#relay(p.raw, 'fetch');
        return;
      case Com.STMT_BULK_EXECUTE:
        if (this.#mariadbCaps & MariaCap.STMT_BULK_OPERATIONS) {
          state.noteExecute(false);
          this.#relay(p.raw, 'query', (ok) => this.#statementDone(state, ok));
          return;
        }
        this.#sendError('ERR_PROXY_UNKNOWN_COMMAND', [], p.seq + 1);
        return;
      default:
        this.#sendError('ERR_PROXY_UNKNOWN_COMMAND', [], p.seq + 1);
    }
  }

  #query(p: Packet, state: SessionState): void {
    const sql = p.payload.toString('utf8', 1);
    const routed = safe<Routed>(() => this.#host.router().routeQuery(sql, state), { kind: 'upstream', reason: 'router error' });
    this.#route(routed, false, (watch) => {
      state.noteStatement(sql);
      const db = parseUse(sql);
      this.#relay(p.raw, 'query', (ok) => {
        if (ok && db !== null) state.database = db;
        this.#statementDone(state, ok);
      }, watch);
    });
  }

  #execute(p: Packet, state: SessionState): void {
    const plan = this.#statements.planExecute(p);
    const routable = plan.routable;
    const relay = (watch?: RelayWatch): void => {
      // A statement matched to a cache is a SELECT; any other may write. [note: unlogged-writes]
      state.noteExecute(routable !== null);
      this.#relay(plan.upstreamPacket(), 'execute', (ok) => this.#statementDone(state, ok), watch);
    };
    if (!routable) {
      relay();
      return;
    }
    const routed = safe<Routed>(() => this.#host.router().routeExecute(routable.match, routable.params, state), { kind: 'upstream', reason: 'router error' });
    this.#route(routed, true, relay);
  }

  /**
   * A relayed statement's response ended: what the session wrote with sql_log_bin=0 is forgotten
   * now, synchronously, before Rotor handles any other session's read. [note: unlogged-writes]
   */
  #statementDone(state: SessionState, ok: boolean): void {
    const forget = state.statementDone(ok);
    if (forget !== null) safe(() => this.#host.router().forgetUnlogged(forget, state), undefined);
  }

  /** Acts on the router's decision; `relay` sends the statement upstream. */
  #route(routed: Routed, binary: boolean, relay: (watch?: RelayWatch) => void): void {
    if (routed.kind === 'upstream') {
      this.#host.onRelayed(routed.reason);
      relay(routed.watch);
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
      if (a) this.#answer(a, binary, relay);
      else {
        this.#host.onRelayed('fill failed');
        relay();
      }
      this.#drainQueue();
    }).catch((err: unknown) => {
      this.#host.logger?.error({ err, id: this.id }, 'session failed');
      this.#fatal('ERR_INTERNAL', [(err as Error).message], err);
    });
  }

  /** Writes Rotor's own answer; one that cannot be encoded is relayed upstream instead. */
  #answer(a: Answer, binary: boolean, relay: () => void): void {
    const state = this.#state as SessionState;
    let bytes: Buffer;
    try {
      if (a.kind === 'rows') {
        bytes = encodeResultSetOnce(a.columns, a.rows, {
          binary, deprecateEof: (this.#caps & Cap.DEPRECATE_EOF) !== 0, statusFlags: state.answerStatus, startSeq: 1,
          extendedMetadata: (this.#mariadbCaps & MariaCap.EXTENDED_METADATA) !== 0, resultCharset: this.#charset,
        });
      } else if (a.kind === 'ok') {
        const w = new PacketWriter(32);
        writeOk(w, { affectedRows: a.affectedRows, insertId: 0, status: state.answerStatus, warnings: 0, info: a.info }, 1);
        bytes = w.finish();
      } else {
        const w = new PacketWriter(64 + a.message.length);
        writeErr(w, a, 1);
        bytes = w.finish();
      }
    } catch (err) {
      this.#host.logger?.warn({ err, id: this.id }, 'cached answer could not be encoded; relaying');
      this.#host.onRelayed('answer not encodable');
      relay();
      return;
    }
    this.#host.onServed();
    this.#respond(bytes);
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

  #changeUser(p: Packet, state: SessionState): void {
    let user = state.user;
    let db: string | null = null;
    try {
      const r = new PacketReader(p.payload, 1);
      user = r.nulString();
      if (this.#caps & Cap.SECURE_CONNECTION) r.skip(r.u8());
      else r.nulString('latin1');
      db = r.remaining > 0 ? r.nulString() || null : null;
      if (r.remaining >= 2) this.#charset = r.u16() & 0xff;
    } catch {
      this.#fatal('ERR_PROXY_MALFORMED_PACKET', [], undefined, p.seq + 1);
      return;
    }
    // The exchange that follows is a login: relay it like the first one (#onAuthPacket).
    this.#phase = 'auth';
    this.#authTurns = 0;
    this.#seqOffset = 0;
    this.#statements.clear();
    state.relogin(user, db, this.#charset);
    this.#upstream?.write(p.raw);
  }

  /** Sends a command upstream and streams its response back. */
  #relay(raw: Buffer, kind: ResponseKind, after?: (ok: boolean) => void, watch?: RelayWatch): void {
    const up = this.#upstream;
    if (!up) return;
    this.#busy = true;
    this.#responseFailed = false;
    this.#afterResponse = after ?? null;
    const learn = watch?.columns;
    this.#capture = learn === undefined ? null : new ColumnCapture((this.#mariadbCaps & MariaCap.EXTENDED_METADATA) !== 0, learn);
    this.#scanner.begin(kind, (this.#caps & Cap.DEPRECATE_EOF) !== 0);
    if (!up.write(raw)) this.#client.pause();
  }

  /**
   * Runs one statement of Rotor's own on the upstream session (SessionView.probe): its response is
   * read here, never relayed. Only while a pending answer holds the session (nothing else is in
   * flight upstream).
   */
  #runProbe(sql: string, kind: 'query' | 'prepare', onRow?: (values: ReadonlyArray<string | null>) => void): Promise<ProbeError | null> {
    const up = this.#upstream;
    if (up === null || this.#phase !== 'ready' || this.#probe !== null) {
      return Promise.resolve({ errno: 1105, sqlState: 'HY000', message: 'the upstream session is not available' });
    }
    return new Promise((resolve) => {
      const deprecateEof = (this.#caps & Cap.DEPRECATE_EOF) !== 0;
      const rows = onRow === undefined ? null : new ColumnCapture((this.#mariadbCaps & MariaCap.EXTENDED_METADATA) !== 0, () => undefined, { deprecateEof, deliver: onRow });
      const probe = {
        err: null as ProbeError | null, statementId: -1, resolve, rows, kind,
        scanner: new ResponseScanner({
          onOk: () => undefined,
          onEof: () => undefined,
          onErr: (payload) => {
            probe.err = decodeErr(payload);
          },
          onPrepareOk: (payload) => {
            probe.statementId = payload.readUInt32LE(1);
          },
        }),
      };
      probe.scanner.begin(kind, deprecateEof);
      this.#probe = probe;
      const body = Buffer.from(sql, 'utf8');
      const w = new PacketWriter(body.length + 8).begin(0).u8(kind === 'prepare' ? Com.STMT_PREPARE : Com.QUERY).bytes(body).end();
      up.write(w.finish());
    });
  }

  #probeData(chunk: Buffer): void {
    const probe = this.#probe;
    if (probe === null) return;
    let end: number;
    try {
      probe.rows?.feed(chunk);
      end = probe.scanner.feed(chunk);
    } catch (err) {
      this.#fatal('ERR_INTERNAL', [(err as Error).message], err);
      return;
    }
    if (end < 0) return;
    this.#probe = null;
    // Fails closed: a prepare answered by anything but PREPARE_OK proves nothing.
    if (probe.err === null && probe.kind === 'prepare' && probe.statementId < 0) probe.err = { errno: 1105, sqlState: 'HY000', message: 'an unexpected answer to a prepare' };
    if (probe.statementId >= 0) {
      // COM_STMT_CLOSE has no response.
      this.#upstream?.write(new PacketWriter(16).begin(0).u8(Com.STMT_CLOSE).u32(probe.statementId).end().finish());
    }
    probe.resolve(probe.err);
  }

  /** Upstream asked for a local file: what the client sent after its statement is that file. */
  #onLocalInfile(): void {
    this.#infile.begin();
    while (this.#infile.active && this.#queue.length > 0) this.#sendInfile(this.#queue.shift() as Packet);
  }

  #sendInfile(p: Packet): void {
    const up = this.#upstream;
    if (up && !this.#infile.send(p, up)) this.#client.pause();
  }

  #onOk(payload: Buffer): void {
    const state = this.#state;
    if (!state) return;
    const status = okStatus(payload);
    // An OK (not a result's terminator) whose affected-rows count is not 0. [note: read-your-writes]
    if (payload[0] === 0x00 && payload[1] !== 0x00) state.writes++;
    if (!(status & Status.SESSION_STATE_CHANGED)) {
      this.#setStatus(status);
      return;
    }
    try {
      const ok = decodeOk(payload, this.#caps);
      this.#setStatus(ok.status);
      if (ok.schema) state.database = ok.schema;
      // A setting changed where Rotor could not see it (a stored function, a trigger): MariaDB
      // reports the variables it tracks (time_zone, character_set_*, by default).
      for (const name of ok.variables ?? []) if (name.toLowerCase() !== 'autocommit') state.block(`${name.toLowerCase()} changed`);
    } catch {
      // A terminator too short to decode still ended the result.
    }
  }

  #setStatus(status: number): void {
    if (this.#state) this.#state.status = status & ~Status.MORE_RESULTS_EXISTS;
  }

  // ---- errors and teardown ----

  #writeErr(err: ErrPacket, seq: number): void {
    const w = new PacketWriter(64 + err.message.length);
    writeErr(w, err, seq);
    this.#respond(w.finish());
  }

  #sendError(code: ErrorCode, args: ReadonlyArray<string | number>, seq: number): void {
    const spec = ERRORS[code];
    let i = 0;
    const message = spec.message.replace(/%s/g, () => String(args[i++] ?? ''));
    this.#writeErr({ errno: spec.errno, sqlState: spec.sqlState, message }, seq);
  }

  /** Answers with an error and closes the connection (malformed input, lost upstream). */
  #fatal(code: ErrorCode, args: ReadonlyArray<string | number>, err?: unknown, seq = 1): void {
    if (this.#phase === 'closed') return;
    if (err) this.#host.logger?.debug({ err, id: this.id }, code);
    this.#sendError(code, args, seq);
    this.close();
  }

  /**
   * The upstream session ended (KILL, shutdown, crash, wait_timeout): whatever it sent before
   * closing (e.g. ERR 1927 after a KILL) has been relayed, and the client's connection is closed
   * the way MariaDB closes it, with no error of Rotor's own (a server never sends the client
   * library's 2013, and connectors take it for a non-fatal error and wait).
   */
  #onUpstreamClosed(): void {
    if (this.#phase === 'closed') return;
    this.#host.logger?.debug({ id: this.id, busy: this.#busy, phase: this.#phase }, 'upstream session closed');
    this.close();
  }

  /** Closes after the outstanding command, or at once when idle. */
  drain(): void {
    this.#closing = true;
    if (this.idle) this.close();
  }

  close(): void {
    if (this.#phase === 'closed') return;
    const wasIdle = this.#phase === 'ready' && this.idle;
    this.#phase = 'closed';
    this.#probe?.resolve({ errno: 1105, sqlState: 'HY000', message: 'the session closed' });
    this.#probe = null;
    const up = this.#upstream;
    if (up && !up.destroyed) {
      if (wasIdle) up.end(QUIT_PACKET);
      else up.destroy();
    }
    if (!this.#client.destroyed) this.#client.end();
    // A client that never reads its socket must not hold it open forever.
    setTimeout(() => this.#client.destroy(), 2000).unref();
    this.#host.onClosed(this);
  }
}

const QUIT_PACKET = Buffer.from([1, 0, 0, 0, Com.QUIT]);

/** The same frame with another sequence id (login packets are small, single-frame). */
function reseq(raw: Buffer, seq: number): Buffer {
  const copy = Buffer.from(raw);
  copy[3] = seq & 0xff;
  return copy;
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}
