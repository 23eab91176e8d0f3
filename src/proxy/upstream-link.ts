/** Opening the upstream TCP session a client session relays to, up to its Handshake v10. */
import { connect, type Socket } from 'node:net';
import { PacketFramer, type Packet } from './protocol/framer.js';
import { decodeErr } from './protocol/generic-response.js';
import { decodeServerHandshake, type ServerHandshake } from './protocol/handshake.js';
import { SocketReader } from './socket-reader.js';
import { startUpstreamTls, type UpstreamTlsOptions } from './upstream-tls.js';

export interface UpstreamLink {
  readonly socket: Socket;
  readonly handshake: ServerHandshake;
  /**
   * Where the socket's bytes go when it reads into a reused buffer ([note: read-buffer]); absent
   * when it is read as a stream ('data' events).
   */
  readonly reader?: SocketReader;
}

/**
 * How a client session reaches its own upstream session. The server makes one for its configured
 * upstream ({@link tcpDialler}); a test may hand a session one that reaches a scripted server.
 */
export interface UpstreamDialler {
  /** When the hop to upstream uses TLS (see upstream-tls.ts). */
  readonly tls: UpstreamTlsOptions;
  /**
   * Connects and reads upstream's handshake; the socket MUST be left paused with no data listener
   * (and, with a reader, none attached to it).
   */
  open(): Promise<UpstreamLink>;
  /** STARTTLS on a socket `open` gave (its listeners removed); resolves once the TLS socket is secure. */
  startTls(socket: Socket, sslRequest: Buffer): Promise<Socket>;
}

/** The dialler for a MariaDB/MySQL server at `target`. */
export function tcpDialler(target: { readonly host: string; readonly port: number }, tls: UpstreamTlsOptions): UpstreamDialler {
  return {
    tls,
    open: () => openUpstream(target.host, target.port),
    startTls: (socket, sslRequest) => startUpstreamTls(socket, sslRequest, target.host, tls),
  };
}

/** An error packet upstream sent instead of its handshake (e.g. too many connections). */
export class UpstreamRefused extends Error {
  constructor(readonly packet: Buffer, readonly errno: number) {
    super(`upstream refused the connection: ${decodeErr(packet.subarray(4)).message}`);
    this.name = 'UpstreamRefused';
  }
}

/**
 * Connects and reads upstream's handshake. The socket is left paused with no data listener, its
 * bytes read into a reused buffer by the link's reader, with no sink attached yet.
 */
export function openUpstream(host: string, port: number, timeoutMs = 10_000): Promise<UpstreamLink> {
  return new Promise((resolve, reject) => {
    const reader = new SocketReader();
    const socket = connect({ host, port, noDelay: true, onread: reader.onread });
    const framer = new PacketFramer(1 << 20);
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      let first: Packet | null = null;
      try {
        framer.push(chunk, (p) => {
          first ??= { seq: p.seq, payload: Buffer.from(p.payload), raw: Buffer.from(p.raw) };
        });
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (!first) return;
      const packet: Packet = first;
      clearTimeout(timer);
      // Detached once the handshake is read: a listener left behind would keep this closure's
      // context (framer, timer) alive for the whole session.
      reader.attach(null);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.pause();
      if (packet.payload[0] === 0xff) {
        fail(new UpstreamRefused(packet.raw, packet.payload.readUInt16LE(1)));
        return;
      }
      try {
        resolve({ socket, handshake: decodeServerHandshake(packet.payload), reader });
      } catch (err) {
        fail(err as Error);
      }
    };
    const onError = (err: Error): void => {
      clearTimeout(timer);
      fail(err);
    };
    const onClose = (): void => {
      clearTimeout(timer);
      reject(new Error('upstream closed the connection during the handshake'));
    };
    reader.attach(onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}
