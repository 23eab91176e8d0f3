/**
 * Rotor's MySQL endpoint: accepts clients, gives each its own upstream session
 * ({@link ClientSession}), and keeps the counters the admin API reports.
 *
 * Each client costs two file descriptors (client and upstream socket): 8,000 clients need a limit
 * of at least 16,000 open files (`ulimit -n`; Node cannot raise it itself, so raise it before
 * starting Rotor), and upstream's `max_connections` must allow them. Measured on the 2-core box:
 * 8,000 idle clients held in one process at ≈9 KB of heap and buffers and ≈10 KB RSS each
 * (test/proxy/edges.test.ts holds 2,000 to stay light in CI).
 */
import { LatencyHistogram } from '../latency.js';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { catalogError, encodeErrPacket } from './answer-writer.js';
import { ClientSession } from './client-session.js';
import { passthroughRouter, type ReadRouter } from './read-router.js';
import type { SessionHost } from './session-host.js';
import { tcpDialler, type UpstreamDialler } from './upstream-link.js';
import type { UpstreamTlsOptions } from './upstream-tls.js';

export interface ProxyOptions {
  /** The real MariaDB/MySQL server. */
  upstream: { host: string; port: number };
  /** Where to accept clients; port 0 picks a free port. */
  listen: { host: string; port: number };
  /** Listen backlog (default 4096). */
  backlog?: number;
  /** Decides what Rotor answers itself (default: relay everything). */
  router?: ReadRouter;
  /** Offer STARTTLS with this certificate. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** TLS between Rotor and upstream sessions (default: `auto`, without verification). */
  upstreamTls?: UpstreamTlsOptions;
  /**
   * How sessions reach upstream (default: TCP to `upstream`, with `upstreamTls`). Tests hand in
   * one that reaches a scripted server.
   */
  dialUpstream?: UpstreamDialler;
  /** Refuse clients beyond this many with ERR 1040 (default: unlimited). */
  maxClients?: number;
  /** The largest client packet accepted (default 1 GiB, MariaDB's own ceiling); larger gets ERR 1153. */
  maxPacketSize?: number;
  /** Answer a plain BEGIN at once and send it with the next command (default: off). [note: deferred-begin] */
  deferBegin?: boolean;
  /**
   * A client that has not logged in this long after connecting is disconnected (default 10 s, as
   * MariaDB's connect_timeout), so half-sent handshakes cannot hold sessions and sockets forever.
   */
  loginTimeoutMs?: number;
  logger?: Logger;
}

export interface ProxyStats {
  clients: number;
  totalConnections: number;
  upstreamVersion: string | null;
  servedFromCache: number;
  relayed: number;
  notCachedReasons: Record<string, number>;
  /** How long statements took, answered from caches and upstream (the histograms themselves, live). */
  durations: { readonly cache: LatencyHistogram; readonly upstream: LatencyHistogram };
}

export interface ProxyServer {
  /** Starts accepting; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }>;
  /** Stops accepting and ends every session after its outstanding command (drain). */
  close(): Promise<void>;
  /** Replaces the router for the statements that follow. */
  setRouter(router: ReadRouter): void;
  stats(): ProxyStats;
}

/** How long close() lets sessions finish their outstanding command before cutting them. */
const DRAIN_MS = 5000;

export function createProxyServer(opts: ProxyOptions): ProxyServer {
  let router = opts.router ?? passthroughRouter;
  const sessions = new Map<number, ClientSession>();
  let nextId = 1;
  let totalConnections = 0;
  let upstreamVersion: string | null = null;
  let servedFromCache = 0;
  let relayed = 0;
  const notCachedReasons: Record<string, number> = Object.create(null);
  const durations = { cache: new LatencyHistogram(), upstream: new LatencyHistogram() };
  const secureContext: SecureContext | null = opts.tls ? createSecureContext({ cert: opts.tls.cert, key: opts.tls.key }) : null;
  let closing = false;
  let onAllClosed: (() => void) | null = null;

  const host: SessionHost = {
    upstream: opts.dialUpstream ?? tcpDialler(opts.upstream, opts.upstreamTls ?? { mode: 'auto', ca: null }),
    secureContext,
    maxPacketSize: opts.maxPacketSize ?? 1 << 30,
    deferBegin: opts.deferBegin === true,
    logger: opts.logger,
    router: () => router,
    onUpstreamVersion: (v) => {
      upstreamVersion = v;
    },
    onServed: () => {
      servedFromCache++;
    },
    onAnswered: (destination, ms) => {
      durations[destination].observe(ms);
    },
    onRelayed: (reason) => {
      relayed++;
      if (reason !== null) notCachedReasons[reason] = (notCachedReasons[reason] ?? 0) + 1;
    },
    onClosed: (s) => {
      sessions.delete(s.id);
      if (sessions.size === 0) onAllClosed?.();
    },
  };

  const refuse = (socket: Socket, code: 'ERR_PROXY_TOO_MANY_CONNECTIONS' | 'ERR_PROXY_SHUTTING_DOWN'): void => {
    socket.end(encodeErrPacket(catalogError(code), 0));
    socket.on('error', () => undefined);
  };

  const server: Server = createServer({ noDelay: true }, (socket) => {
    if (closing) return refuse(socket, 'ERR_PROXY_SHUTTING_DOWN');
    if (opts.maxClients !== undefined && sessions.size >= opts.maxClients) return refuse(socket, 'ERR_PROXY_TOO_MANY_CONNECTIONS');
    totalConnections++;
    const id = nextId;
    nextId = nextId >= 0xfffffffe ? 1 : nextId + 1;
    const session = new ClientSession(id, socket, host);
    sessions.set(id, session);
    const login = setTimeout(() => {
      if (session.loggingIn) {
        opts.logger?.debug({ id }, 'login timed out');
        session.close();
      }
    }, opts.loginTimeoutMs ?? 10_000);
    login.unref();
    socket.once('close', () => clearTimeout(login));
  });
  server.on('error', (err) => opts.logger?.error({ err }, 'proxy listener error'));

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: opts.listen.host, port: opts.listen.port, backlog: opts.backlog ?? 4096 }, () => {
          server.off('error', reject);
          const addr = server.address();
          if (addr && typeof addr === 'object') resolve({ host: addr.address, port: addr.port });
          else resolve({ host: opts.listen.host, port: opts.listen.port });
        });
      });
    },
    async close() {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      if (sessions.size > 0) {
        const drained = new Promise<void>((resolve) => {
          onAllClosed = resolve;
        });
        for (const s of sessions.values()) s.drain();
        const timer = setTimeout(() => {
          for (const s of [...sessions.values()]) s.close();
        }, DRAIN_MS);
        await drained;
        clearTimeout(timer);
      }
      await stopped;
    },
    setRouter(r) {
      router = r;
    },
    stats() {
      return { clients: sessions.size, totalConnections, upstreamVersion, servedFromCache, relayed, notCachedReasons: { ...notCachedReasons }, durations };
    },
  };
}
