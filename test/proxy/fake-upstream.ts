/**
 * A scripted MySQL-protocol server standing in for MariaDB in pure proxy tests: it sends a
 * Handshake v10, accepts any login, and then lets the test read each command Rotor relays and
 * write the answer it wants, packet by packet, with Rotor's own protocol encoders.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Cap, Status } from '../../src/proxy/protocol/constants.js';
import { PacketFramer, type Packet } from '../../src/proxy/protocol/framer.js';
import { decodeHandshakeResponse, encodeServerHandshake, type HandshakeResponse } from '../../src/proxy/protocol/handshake.js';
import { writeErr, writeOk, type ErrPacket } from '../../src/proxy/protocol/generic-response.js';
import { PacketWriter } from '../../src/proxy/protocol/packet-writer.js';
import { tcpDialler, type UpstreamDialler } from '../../src/proxy/upstream-link.js';

export const FAKE_CAPS = (Cap.LONG_PASSWORD | Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH | Cap.TRANSACTIONS
  | Cap.MULTI_RESULTS | Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA | Cap.DEPRECATE_EOF | Cap.CONNECT_WITH_DB) >>> 0;

/** One upstream session of the fake: what Rotor sent, and a way to answer. */
export class FakeSession {
  readonly socket: Socket;
  /** Rotor's login (HandshakeResponse41), once it arrived. */
  login: HandshakeResponse | null = null;
  /** What happened on this session, in order: `recv <text>` and `sent <label>` entries. */
  readonly log: string[] = [];
  closed = false;
  readonly #framer = new PacketFramer();
  readonly #packets: Packet[] = [];
  #waiters: Array<() => void> = [];

  constructor(socket: Socket, connectionId: number) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#framer.push(chunk, (p) => {
        const copy = { seq: p.seq, payload: Buffer.from(p.payload), raw: Buffer.from(p.raw) };
        if (this.login === null) {
          this.login = decodeHandshakeResponse(copy.payload);
          this.socket.write(okPacket(copy.seq + 1));
          return;
        }
        this.log.push(`recv ${describe(copy.payload)}`);
        this.#packets.push(copy);
      });
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
    socket.write(encodeServerHandshake({
      serverVersion: '5.5.5-10.11.0-MariaDB-fake', connectionId, scramble: Buffer.alloc(20, 0x41), capabilities: FAKE_CAPS,
      charset: 45, status: Status.AUTOCOMMIT, authPlugin: 'mysql_native_password', mariadbCapabilities: 0,
    }));
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** The next packet Rotor sent after the login; rejects when the session closes first. */
  async read(): Promise<Packet> {
    for (;;) {
      const p = this.#packets.shift();
      if (p) return p;
      if (this.closed) throw new Error('upstream session closed');
      await new Promise<void>((res) => this.#waiters.push(res));
    }
  }

  /** Packets Rotor sent that the test has not read yet. */
  get unread(): number {
    return this.#packets.length;
  }

  send(bytes: Buffer, label: string): void {
    this.log.push(`sent ${label}`);
    this.socket.write(bytes);
  }

  async closedByRotor(): Promise<void> {
    while (!this.closed) await new Promise<void>((res) => this.#waiters.push(res));
  }
}

/** The fake server; its {@link FakeUpstream.dialler} is handed to Rotor as its upstream. */
export class FakeUpstream {
  readonly sessions: FakeSession[] = [];
  readonly dialler: UpstreamDialler;
  readonly #server: Server;
  #waiters: Array<() => void> = [];

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.dialler = tcpDialler({ host: '127.0.0.1', port }, { mode: 'off', ca: null });
  }

  static async start(): Promise<FakeUpstream> {
    let fake: FakeUpstream | null = null;
    const server = createServer({ noDelay: true }, (socket) => {
      const f = fake as FakeUpstream;
      f.sessions.push(new FakeSession(socket, 100 + f.sessions.length));
      const w = f.#waiters;
      f.#waiters = [];
      for (const x of w) x();
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    fake = new FakeUpstream(server, addr.port);
    return fake;
  }

  /** The n-th upstream session Rotor opened (0-based), once it has connected. */
  async session(n: number): Promise<FakeSession> {
    while (this.sessions.length <= n) await new Promise<void>((res) => this.#waiters.push(res));
    return this.sessions[n] as FakeSession;
  }

  close(): Promise<void> {
    for (const s of this.sessions) s.socket.destroy();
    return new Promise((res) => this.#server.close(() => res()));
  }
}

export function okPacket(seq: number, affectedRows = 0): Buffer {
  const w = new PacketWriter(32);
  writeOk(w, { affectedRows, insertId: 0, status: Status.AUTOCOMMIT, warnings: 0, info: '' }, seq);
  return w.finish();
}

export function errPacket(err: ErrPacket, seq: number): Buffer {
  const w = new PacketWriter(64 + err.message.length);
  writeErr(w, err, seq);
  return w.finish();
}

/** A command packet as a client sends it (sequence id 0). */
export function command(com: number, body: Buffer | string = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return new PacketWriter(b.length + 8).begin(0).u8(com).bytes(b).end().finish();
}

function describe(payload: Buffer): string {
  if (payload[0] === 0x03) return `query ${payload.toString('utf8', 1)}`;
  return `command 0x${(payload[0] ?? 0).toString(16)} (${payload.length} bytes)`;
}
