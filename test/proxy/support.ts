/** Shared setup for proxy tests: Rotor in front of the private MariaDB, and a raw protocol client. */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { createProxyServer, type ProxyOptions, type ProxyServer } from '../../src/proxy/server.js';
import { PacketFramer, type Packet } from '../../src/proxy/protocol/framer.js';
import { PacketWriter } from '../../src/proxy/protocol/packet-writer.js';
import { Cap } from '../../src/proxy/protocol/constants.js';
import { decodeServerHandshake, encodeHandshakeResponse, type ServerHandshake } from '../../src/proxy/protocol/handshake.js';

export interface RunningProxy {
  readonly proxy: ProxyServer;
  readonly port: number;
  close(): Promise<void>;
}

export async function startProxy(upstream: { host: string; port: number }, extra: Partial<ProxyOptions> = {}): Promise<RunningProxy> {
  const proxy = createProxyServer({ upstream, listen: { host: '127.0.0.1', port: 0 }, ...extra });
  const { port } = await proxy.listen();
  return { proxy, port, close: () => proxy.close() };
}

/** mysql_native_password's answer to a scramble. */
export function nativeToken(password: string, scramble: Buffer): Buffer {
  const sha1 = (b: Buffer): Buffer => createHash('sha1').update(b).digest();
  const p1 = sha1(Buffer.from(password));
  const p3 = sha1(Buffer.concat([scramble, sha1(p1)]));
  return Buffer.from(p1.map((b, i) => b ^ p3[i]));
}

export const CLIENT_CAPS = (Cap.LONG_PASSWORD | Cap.PROTOCOL_41 | Cap.SECURE_CONNECTION | Cap.PLUGIN_AUTH | Cap.TRANSACTIONS
  | Cap.MULTI_RESULTS | Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA | Cap.DEPRECATE_EOF | Cap.CONNECT_WITH_DB) >>> 0;

/** A minimal protocol client that speaks packets, for what no driver lets a test send. */
export class RawClient {
  readonly socket: Socket;
  readonly #framer = new PacketFramer();
  readonly #packets: Packet[] = [];
  #waiters: Array<() => void> = [];
  closed = false;
  handshake: ServerHandshake | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.#framer.push(c, (p) => this.#packets.push({ seq: p.seq, payload: Buffer.from(p.payload), raw: Buffer.from(p.raw) }));
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((res, rej) => socket.once('connect', res).once('error', rej));
    const c = new RawClient(socket);
    const hs = await c.read();
    c.handshake = decodeServerHandshake(hs.payload);
    return c;
  }

  /** Opens and logs in with mysql_native_password (or announces `plugin` first). */
  static async login(
    port: number, user: string, password: string, database: string, plugin = 'mysql_native_password', capabilities = CLIENT_CAPS,
  ): Promise<{ client: RawClient; reply: Packet }> {
    const c = await RawClient.open(port);
    const hs = c.handshake as ServerHandshake;
    const auth = plugin === 'mysql_native_password' ? nativeToken(password, hs.scramble) : Buffer.alloc(32, 1);
    c.socket.write(encodeHandshakeResponse({
      capabilities, maxPacket: 1 << 24, charset: 45, mariadbCapabilities: 0, user, authResponse: auth, database,
      authPlugin: plugin, attributes: null,
    }, 1));
    let reply = await c.read();
    if (reply.payload[0] === 0xfe) {
      const data = reply.payload.subarray(reply.payload.indexOf(0, 1) + 1, reply.payload.length - 1);
      c.send(reply.seq + 1, nativeToken(password, data));
      reply = await c.read();
    }
    return { client: c, reply };
  }

  send(seq: number, payload: Buffer): void {
    this.socket.write(new PacketWriter(payload.length + 8).begin(seq).bytes(payload).end().finish());
  }

  /** The next packet; rejects when the connection closes first. */
  async read(): Promise<Packet> {
    for (;;) {
      const p = this.#packets.shift();
      if (p) return p;
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((res) => this.#waiters.push(res));
    }
  }

  /** Resolves when the server has closed the connection. */
  async closedByServer(): Promise<void> {
    while (!this.closed) await new Promise<void>((res) => this.#waiters.push(res));
  }

  end(): void {
    this.socket.destroy();
  }
}
