/**
 * The response to one relayed command, read as it streams back verbatim to the client: where it
 * ends (so the next command may go), whether it failed, and what it tells the session state
 * (status flags, rows written, a schema or variable changed out of sight). Also learns column
 * definitions the router asked for, and hands LOAD DATA LOCAL INFILE to its relay.
 */
import { Cap, MariaCap, Status } from './protocol/constants.js';
import { ColumnCapture } from './protocol/column-capture.js';
import { decodeOk, okStatus } from './protocol/generic-response.js';
import { ResponseScanner, type ResponseKind } from './protocol/response-scanner.js';
import { LocalInfileRelay } from './local-infile.js';
import type { PreparedStatements } from './prepared-statements.js';
import type { RelayWatch } from './read-router.js';
import type { Negotiated } from './session-host.js';
import type { SessionState } from './session-state.js';

/** The session a response is read for. */
export interface ResponsePeer {
  readonly wire: Negotiated;
  readonly statements: PreparedStatements;
  state(): SessionState | null;
  /** Upstream asked for the local file (the infile relay has begun). */
  onLocalInfile(): void;
}

export class ResponseRelay {
  readonly #peer: ResponsePeer;
  readonly #scanner: ResponseScanner;
  readonly infile: LocalInfileRelay;
  #after: ((ok: boolean) => void) | null = null;
  #failed = false;
  /** Column definitions the router asked to learn from the response being relayed. */
  #capture: ColumnCapture | null = null;

  constructor(peer: ResponsePeer) {
    this.#peer = peer;
    this.#scanner = new ResponseScanner({
      onOk: (p) => this.#onOk(p),
      onEof: (status) => this.#setStatus(status),
      onErr: () => {
        this.#failed = true;
      },
      onPrepareOk: (p) => peer.statements.prepared(p),
      onLocalInfile: () => {
        this.infile.begin();
        peer.onLocalInfile();
      },
    });
    this.infile = new LocalInfileRelay(this.#scanner);
  }

  /** The response ended, or is ending, with an ERR. */
  get failed(): boolean {
    return this.#failed;
  }

  /** The sequence id of the last packet header read. */
  get lastSeq(): number {
    return this.#scanner.lastSeq;
  }

  /** A command of `kind` went upstream: `after` runs when its response ends (ok: not an ERR). */
  begin(kind: ResponseKind, after?: (ok: boolean) => void, watch?: RelayWatch): void {
    const wire = this.#peer.wire;
    this.#failed = false;
    this.#after = after ?? null;
    const learn = watch?.columns;
    this.#capture = learn === undefined ? null : new ColumnCapture((wire.mariadbCaps & MariaCap.EXTENDED_METADATA) !== 0, learn);
    this.#scanner.begin(kind, (wire.caps & Cap.DEPRECATE_EOF) !== 0);
  }

  /** Upstream bytes, before they are written to the client. */
  capture(chunk: Buffer): void {
    if (this.#capture !== null && this.#capture.feed(chunk)) this.#capture = null;
  }

  /** Upstream bytes of the response; true when it has ended. Throws on bytes that make no sense. */
  scan(chunk: Buffer): boolean {
    return this.#scanner.feed(chunk) >= 0;
  }

  /** The response ended: runs its `after`. */
  end(): void {
    const after = this.#after;
    this.#after = null;
    after?.(!this.#failed);
  }

  #onOk(payload: Buffer): void {
    const state = this.#peer.state();
    if (!state) return;
    const status = okStatus(payload);
    // An OK (not a result's terminator) whose affected-rows count is not 0. [note: read-your-writes]
    if (payload[0] === 0x00 && payload[1] !== 0x00) state.writes++;
    if (!(status & Status.SESSION_STATE_CHANGED)) {
      this.#setStatus(status);
      return;
    }
    try {
      const ok = decodeOk(payload, this.#peer.wire.caps);
      this.#setStatus(ok.status);
      if (ok.schema) state.database = ok.schema;
      // A setting changed where Rotor could not see it (a stored function, a trigger): MariaDB
      // reports the variables it tracks (time_zone, character_set_*, by default).
      for (const name of ok.variables ?? []) if (name.toLowerCase() !== 'autocommit') state.block(`${name.toLowerCase()} changed`);
    } catch {
      // A terminator too short to decode still ended the result.
    }
  }

  #setStatus(status: number): void {
    const state = this.#peer.state();
    state?.noteStatus(status);
  }
}
