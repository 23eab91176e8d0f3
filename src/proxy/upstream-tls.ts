/**
 * TLS between Rotor and a client's upstream session (STARTTLS, as a MySQL client does it): after
 * upstream's handshake, an SSLRequest, then the TLS handshake on the same socket, then the login
 * inside TLS. The client's own answer to the scramble is relayed unchanged, so TLS changes nothing
 * about who logs in; it lets a `REQUIRE SSL` account log in and keeps the hop encrypted.
 *
 * Modes: `off` never; `auto` when the client used TLS to Rotor and upstream offers TLS; `required`
 * for every session, refusing the login when upstream does not offer TLS. Without a CA the
 * upstream's certificate is not verified (encryption only, as the mariadb client's `--ssl`); with
 * `ca`, its chain and host name are.
 */
import { isIP, type Socket } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';

export type UpstreamTlsMode = 'off' | 'auto' | 'required';

export const UPSTREAM_TLS_MODES: ReadonlyArray<UpstreamTlsMode> = ['off', 'auto', 'required'];

export interface UpstreamTlsOptions {
  readonly mode: UpstreamTlsMode;
  /** PEM CA certificate(s) the upstream's certificate MUST chain to; null: not verified. */
  readonly ca: string | Buffer | null;
}

/** TLS for this session's upstream: true, false, or why the login is refused. */
export function upstreamTlsFor(opts: UpstreamTlsOptions, clientUsedTls: boolean, upstreamOffersTls: boolean): boolean | string {
  switch (opts.mode) {
    case 'off':
      return false;
    case 'auto':
      return clientUsedTls && upstreamOffersTls;
    case 'required':
      return upstreamOffersTls || 'the upstream server does not offer TLS (--upstream-tls required)';
  }
}

/**
 * Sends `sslRequest` on `socket` (which MUST have no data listener left) and runs the TLS
 * handshake over it; resolves with the TLS socket once it is secure.
 */
export function startUpstreamTls(socket: Socket, sslRequest: Buffer, host: string, opts: UpstreamTlsOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    socket.write(sslRequest);
    const tls = connect({
      socket,
      host,
      // SNI only for names (an IP address is not a valid server name); identity is checked
      // against `host` either way.
      servername: isIP(host) ? '' : host,
      ca: opts.ca ?? undefined,
      rejectUnauthorized: opts.ca !== null,
    });
    const onError = (err: Error): void => {
      tls.destroy();
      reject(err);
    };
    tls.once('error', onError);
    tls.once('secureConnect', () => {
      tls.off('error', onError);
      resolve(tls);
    });
  });
}
