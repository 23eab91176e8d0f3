/**
 * What a client session is given by the server that owns it (src/proxy/server.ts), and the small
 * vocabulary its parts share: the phase of the connection and what was negotiated with both sides.
 */
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { ReadRouter } from './read-router.js';
import type { UpstreamDialler } from './upstream-link.js';

/** What a session needs from the server that owns it. */
export interface SessionHost {
  /** Opens the client's own upstream session; the host decides where it goes (tests script one). */
  readonly upstream: UpstreamDialler;
  /** Offer STARTTLS to clients with this context; null: no TLS. */
  readonly secureContext: SecureContext | null;
  readonly maxPacketSize: number;
  /** Answer a plain BEGIN at once and send it with the next command (`--defer-begin`). [note: deferred-begin] */
  readonly deferBegin?: boolean;
  readonly logger: Logger | undefined;
  router(): ReadRouter;
  onUpstreamVersion(version: string): void;
  onServed(): void;
  onRelayed(reason: string | null): void;
  /**
   * A statement (COM_QUERY, COM_STMT_EXECUTE) is answered: from a cache (ms from its arrival to its
   * answer written) or upstream (ms from sending it to its response's end).
   */
  onAnswered(destination: 'cache' | 'upstream', ms: number): void;
  onClosed(session: { readonly id: number }): void;
}

/** `upstream-tls`: the client's login waits while Rotor starts TLS with upstream. */
export type Phase = 'connecting' | 'handshake' | 'upstream-tls' | 'auth' | 'ready' | 'closed';

/**
 * What the login settled, the same towards the client and towards upstream, so responses can be
 * relayed byte for byte. `charset` is the client's (COM_CHANGE_USER may change it).
 */
export interface Negotiated {
  caps: number;
  mariadbCaps: number;
  charset: number;
}
