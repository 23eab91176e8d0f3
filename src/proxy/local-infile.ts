/**
 * LOAD DATA LOCAL INFILE through the relay. The exchange, inside one COM_QUERY:
 *
 *   client ─ COM_QUERY "LOAD DATA LOCAL INFILE 'f' …" ─▶ upstream
 *   client ◀─ 0xFB 'f' (the file request) ─────────────── upstream
 *   client ─ file contents, packet after packet, then an empty packet ─▶ upstream
 *   client ◀─ OK / ERR (more results may follow in a multi-statement) ─ upstream
 *
 * Every packet goes through verbatim, sequence ids included. Upstream only asks for a file when
 * the session negotiated CLIENT_LOCAL_FILES, which it did only if the client itself did (the two
 * sides' capabilities are the same); otherwise MariaDB answers the statement with its own error.
 * A client that declines the request still sends the empty packet, and upstream answers that.
 * A session hands the client's packets on through {@link sendInfile} while the relay is active.
 */
import type { Socket } from 'node:net';
import type { Packet } from './protocol/framer.js';
import type { ResponseScanner } from './protocol/response-scanner.js';

export class LocalInfileRelay {
  readonly #scanner: ResponseScanner;
  #active = false;

  constructor(scanner: ResponseScanner) {
    this.#scanner = scanner;
  }

  /** True between upstream's file request and the client's empty packet. */
  get active(): boolean {
    return this.#active;
  }

  /** Upstream asked for a file: the client's next packets are its contents. */
  begin(): void {
    this.#active = true;
  }

  /**
   * Sends one packet of the client's file upstream. Returns what `write()` returned: false means
   * upstream's buffer is full and the client MUST be paused until upstream drains.
   */
  send(p: Packet, upstream: Socket): boolean {
    const flushed = upstream.write(p.raw);
    if (p.payload.length === 0) {
      this.#active = false;
      this.#scanner.localInfileSent();
    }
    return flushed;
  }
}

/** The session a file is relayed for (client-session.ts gives its own). */
export interface InfileSession {
  readonly infile: LocalInfileRelay;
  readonly client: Socket;
  readonly upstream: Socket | null;
  /** The oldest packet the client sent while its statement was relayed. */
  takeHeld(): Packet | undefined;
}

/** One packet of the client's file, sent upstream; the client is paused while upstream is not keeping up. */
export function sendInfile(s: InfileSession, p: Packet): void {
  const up = s.upstream;
  if (up && !s.infile.send(p, up)) s.client.pause();
}

/** Upstream asked for a local file: what the client sent after its statement is that file. */
export function sendHeldInfile(s: InfileSession): void {
  while (s.infile.active) {
    const p = s.takeHeld();
    if (p === undefined) return;
    sendInfile(s, p);
  }
}
