/**
 * The connection phase of a client session, relayed to the client's own upstream session.
 *
 * Rotor connects upstream first and presents upstream's scramble in its own handshake, so the
 * client's mysql_native_password answer is valid upstream and the login is relayed (a wrong
 * password gets upstream's own 1045). A client starting with another plugin
 * (caching_sha2_password) is switched to upstream's plugin first. Capabilities are the client's
 * ∩ upstream's minus what Rotor does not support, and are the same on both sides, so responses
 * can be relayed byte for byte. STARTTLS is offered to the client when the host has a
 * certificate, and used towards upstream as `--upstream-tls` says (upstream-tls.ts).
 * COM_CHANGE_USER starts a login again inside the command phase and is relayed the same way.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { ErrorCode } from '../errors.js';
import { Cap, SUPPORTED_MARIADB_CAPS, UNSUPPORTED_CAPS } from './protocol/constants.js';
import type { Packet } from './protocol/framer.js';
import {
  decodeHandshakeResponse, encodeAuthSwitch, encodeHandshakeResponse, encodeServerHandshake, encodeSslRequest, isSslRequest, takeSslRequest,
  type HandshakeResponse, type ServerHandshake,
} from './protocol/handshake.js';
import { PacketReader } from './protocol/packet-reader.js';
import type { Negotiated, Phase, SessionHost } from './session-host.js';
import { upstreamTlsFor } from './upstream-tls.js';

/** The session a login is relayed for. */
export interface LoginPeer {
  readonly id: number;
  readonly host: SessionHost;
  readonly wire: Negotiated;
  phase: Phase;
  readonly client: Socket;
  readonly upstream: Socket | null;
  /** Replaces the client's socket with its TLS socket (listeners bound). */
  useClient(tls: Socket): void;
  /** Replaces the upstream socket with its TLS socket (listeners bound). */
  useUpstream(tls: Socket): void;
  /** Keeps a command the client pipelined behind its login, to run after it. */
  hold(p: Packet): void;
  /** The oldest held packet: upstream asked for more login data, and this is it. */
  takeHeld(): Packet | undefined;
  /** The client's login is known: the session's state begins. */
  begin(resp: HandshakeResponse): void;
  /** COM_CHANGE_USER: the session's state starts again as `user`. */
  relogin(user: string, database: string | null): void;
  /** Upstream accepted the login with this OK payload. */
  loggedIn(ok: Buffer): void;
  fatal(code: ErrorCode, args: ReadonlyArray<string | number>, err?: unknown, seq?: number): void;
  close(): void;
}

const NO_SCRAMBLE = Buffer.alloc(0);

export class LoginRelay {
  readonly #peer: LoginPeer;
  #scramble: Buffer = NO_SCRAMBLE;
  #authPlugin = 'mysql_native_password';
  #upstreamOffersTls = false;
  /** Client sequence id minus upstream's, for the packets of the login. */
  #seqOffset = 0;
  #handshakePending: Packet | null = null;
  /** Login packets upstream asked the client for and has not had yet. */
  #authTurns = 0;
  #tlsDone = false;
  #sslProbe: Buffer | null = null;

  constructor(peer: LoginPeer) {
    this.#peer = peer;
  }

  /** Upstream's handshake arrived: returns Rotor's own handshake for the client. */
  offer(h: ServerHandshake): Buffer {
    const wire = this.#peer.wire;
    this.#scramble = h.scramble;
    this.#authPlugin = h.authPlugin;
    this.#upstreamOffersTls = (h.capabilities & Cap.SSL) !== 0;
    let caps = h.capabilities & ~UNSUPPORTED_CAPS;
    if (this.#peer.host.secureContext) caps |= Cap.SSL;
    wire.caps = caps >>> 0;
    wire.mariadbCaps = h.mariadbCapabilities & SUPPORTED_MARIADB_CAPS;
    // The client sees the upstream session's own connection id, so CONNECTION_ID(), the processlist
    // and every form of KILL mean to MariaDB what they mean to the client, with nothing rewritten.
    return encodeServerHandshake({ ...h, capabilities: wire.caps, mariadbCapabilities: wire.mariadbCaps });
  }

  /** True while the client's next bytes may be an SSLRequest. */
  get awaitsTls(): boolean {
    return this.#peer.phase === 'handshake' && this.#peer.host.secureContext !== null && !this.#tlsDone;
  }

  /**
   * STARTTLS: the client's SSLRequest is followed at once by its TLS ClientHello, possibly in the
   * same chunk, so the request is recognised before the framer sees the bytes and whatever follows
   * it is handed back to the socket for the TLS layer. Returns the bytes to frame as usual when they
   * are a plain handshake response, or null when they were taken.
   */
  startTls(chunk: Buffer): Buffer | null {
    const buf = this.#sslProbe ? Buffer.concat([this.#sslProbe, chunk]) : chunk;
    this.#sslProbe = null;
    const found = takeSslRequest(buf);
    if (found === 'more') {
      this.#sslProbe = Buffer.from(buf);
      return null;
    }
    this.#tlsDone = true;
    if (found === 'no') return buf;
    const raw = this.#peer.client;
    raw.removeAllListeners('data');
    raw.pause();
    if (found.rest.length > 0) raw.unshift(Buffer.from(found.rest));
    this.#peer.useClient(new TLSSocket(raw, { isServer: true, secureContext: this.#peer.host.secureContext as SecureContext }));
    return null;
  }

  /** A client packet before the command phase (`handshake`, `upstream-tls` or `auth`). */
  onClientPacket(p: Packet): void {
    const peer = this.#peer;
    if (peer.phase === 'handshake') {
      this.#onHandshakeResponse(p);
      return;
    }
    // Only what upstream asked for is part of the login (an auth switch answer, a public key
    // request, a password): anything else the client pipelined is a command, kept for after
    // the login. Relayed now, it would run unseen by the session state and the router, and its
    // answer would arrive where a probe's is expected.
    if (peer.phase === 'upstream-tls' || this.#authTurns === 0) {
      peer.hold(p);
      return;
    }
    this.#authTurns--;
    // Backpressure here too: a client may send without waiting for upstream.
    if (peer.upstream?.write(reseq(p.raw, p.seq - this.#seqOffset)) === false) peer.client.pause();
  }

  /** Upstream packets while authenticating: relayed with the client's sequence numbering. */
  onUpstreamPacket(p: Packet): void {
    const peer = this.#peer;
    peer.client.write(reseq(p.raw, p.seq + this.#seqOffset));
    const first = p.payload[0];
    // Neither OK nor ERR: upstream waits for one more packet of the login from the client, which
    // may already be here (a client that did not wait for the question): it goes up as login data.
    if (first !== 0x00 && first !== 0xff) {
      const early = peer.takeHeld();
      if (early === undefined) this.#authTurns++;
      else peer.upstream?.write(reseq(early.raw, early.seq - this.#seqOffset));
    }
    if (first === 0x00) {
      this.#authTurns = 0;
      // Only the handshake uses the scramble, and it is a view into a shared 8 KiB Buffer pool slab
      // that an idle session would otherwise keep alive.
      this.#scramble = NO_SCRAMBLE;
      peer.loggedIn(p.payload);
    } else if (first === 0xff) {
      peer.close();
    }
  }

  /** COM_CHANGE_USER: the exchange that follows is a login, relayed like the first one. */
  changeUser(p: Packet, currentUser: string): void {
    const peer = this.#peer;
    let user = currentUser;
    let db: string | null = null;
    try {
      const r = new PacketReader(p.payload, 1);
      user = r.nulString();
      if (peer.wire.caps & Cap.SECURE_CONNECTION) r.skip(r.u8());
      else r.nulString('latin1');
      db = r.remaining > 0 ? r.nulString() || null : null;
      if (r.remaining >= 2) peer.wire.charset = r.u16() & 0xff;
    } catch {
      peer.fatal('ERR_PROXY_MALFORMED_PACKET', [], undefined, p.seq + 1);
      return;
    }
    peer.phase = 'auth';
    this.#authTurns = 0;
    this.#seqOffset = 0;
    peer.relogin(user, db);
    peer.upstream?.write(p.raw);
  }

  #onHandshakeResponse(p: Packet): void {
    const peer = this.#peer;
    if (this.#handshakePending) {
      // The client's answer to Rotor's auth switch.
      this.#forwardLogin(this.#handshakePending, Buffer.from(p.payload), p.seq);
      return;
    }
    if (isSslRequest(p.payload)) {
      // Only reachable without a certificate (or a second SSLRequest): Rotor did not offer TLS.
      peer.fatal('ERR_PROXY_NOT_SUPPORTED', ['TLS without a configured certificate'], undefined, p.seq + 1);
      return;
    }
    let resp;
    try {
      resp = decodeHandshakeResponse(p.payload);
    } catch (err) {
      peer.fatal('ERR_PROXY_HANDSHAKE', [], err, p.seq + 1);
      return;
    }
    if (resp.capabilities & Cap.COMPRESS) {
      peer.fatal('ERR_PROXY_NOT_SUPPORTED', ['compression'], undefined, p.seq + 1);
      return;
    }
    const copy: Packet = { seq: p.seq, payload: Buffer.from(p.payload), raw: p.raw };
    if (resp.authPlugin && resp.authPlugin !== this.#authPlugin && this.#authPlugin === 'mysql_native_password') {
      this.#handshakePending = copy;
      peer.client.write(encodeAuthSwitch(this.#authPlugin, this.#scramble, p.seq + 1));
      return;
    }
    this.#forwardLogin(copy, null, p.seq);
  }

  /** Sends the client's login upstream as sequence 1, with negotiated capabilities. */
  #forwardLogin(p: Packet, switchedAuth: Buffer | null, lastClientSeq: number): void {
    const peer = this.#peer;
    const wire = peer.wire;
    const resp = decodeHandshakeResponse(p.payload);
    const caps = (resp.capabilities & wire.caps & ~Cap.SSL) >>> 0;
    wire.caps = caps;
    wire.charset = resp.charset;
    wire.mariadbCaps = caps & Cap.LONG_PASSWORD ? 0 : resp.mariadbCapabilities & wire.mariadbCaps;
    peer.begin(resp);
    const tls = upstreamTlsFor(peer.host.upstream.tls, peer.client instanceof TLSSocket, this.#upstreamOffersTls);
    if (typeof tls === 'string') {
      peer.fatal('ERR_PROXY_UPSTREAM_CONNECT', [tls], undefined, lastClientSeq + 1);
      return;
    }
    // Inside TLS the login is the packet after the SSLRequest, and carries CLIENT_SSL too.
    const loginSeq = tls ? 2 : 1;
    let login: Buffer;
    try {
      login = encodeHandshakeResponse({
        ...resp, capabilities: tls ? (caps | Cap.SSL) >>> 0 : caps, mariadbCapabilities: wire.mariadbCaps,
        authResponse: switchedAuth ?? resp.authResponse,
        authPlugin: switchedAuth ? this.#authPlugin : resp.authPlugin,
      }, loginSeq);
    } catch (err) {
      // An auth response the negotiated form cannot carry (an over-long auth switch answer).
      peer.fatal('ERR_PROXY_HANDSHAKE', [], err, lastClientSeq + 1);
      return;
    }
    this.#seqOffset = lastClientSeq - loginSeq;
    if (!tls) {
      peer.phase = 'auth';
      this.#authTurns = 0;
      peer.upstream?.write(login);
      return;
    }
    const raw = peer.upstream;
    if (!raw) return;
    peer.phase = 'upstream-tls';
    for (const event of ['data', 'error', 'close', 'drain']) raw.removeAllListeners(event);
    raw.on('error', () => undefined);
    const request = encodeSslRequest({ ...resp, capabilities: caps, mariadbCapabilities: wire.mariadbCaps }, 1);
    peer.host.upstream.startTls(raw, request).then((up) => {
      if (peer.phase !== 'upstream-tls') {
        up.destroy();
        return;
      }
      peer.useUpstream(up);
      peer.phase = 'auth';
      this.#authTurns = 0;
      up.write(login);
    }, (err: unknown) => {
      if (peer.phase !== 'upstream-tls') return;
      peer.fatal('ERR_PROXY_UPSTREAM_CONNECT', [`TLS: ${(err as Error).message}`], err, lastClientSeq + 1);
    });
  }
}

/** The same frame with another sequence id (login packets are small, single-frame). */
function reseq(raw: Buffer, seq: number): Buffer {
  const copy = Buffer.from(raw);
  copy[3] = seq & 0xff;
  return copy;
}
