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
