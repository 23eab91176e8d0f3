/**
 * A TCP pass-through that records what crosses it, connection by connection: each chunk the
 * connecting side wrote (one write of a socket on localhost arrives as one chunk when it is small)
 * and the bytes the other side answered. For tests that count round trips or compare bytes.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TappedConnection {
  /** Chunks from the connecting side, in order. */
  readonly sent: Buffer[];
  /** Bytes from the server, concatenated. */
  received: Buffer;
}

export interface TcpTap {
  readonly port: number;
  readonly connections: TappedConnection[];
  /** The connection whose sent bytes hold `marker`. */
  find(marker: string): TappedConnection | undefined;
  close(): Promise<void>;
}

export async function tcpTap(host: string, port: number): Promise<TcpTap> {
  const connections: TappedConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (client) => {
    const c: TappedConnection = { sent: [], received: Buffer.alloc(0) };
    connections.push(c);
    const up = connect({ host, port, noDelay: true });
    sockets.add(client).add(up);
    client.on('data', (chunk: Buffer) => {
      c.sent.push(Buffer.from(chunk));
      up.write(chunk);
    });
    up.on('data', (chunk: Buffer) => {
      c.received = Buffer.concat([c.received, chunk]);
      client.write(chunk);
    });
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    client.on('error', () => undefined);
    up.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no tap address');
  return {
    port: addr.port,
    connections,
    find: (marker) => connections.find((c) => c.sent.some((b) => b.includes(marker))),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
