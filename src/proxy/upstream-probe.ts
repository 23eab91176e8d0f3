/**
 * A statement of Rotor's own running on a client's upstream session (SessionView.probe): its
 * response is read here, never relayed to the client. The session runs one only while a pending
 * answer holds it, so nothing else is in flight upstream. A session runs its probes through
 * {@link runProbe} and hands upstream's bytes to {@link probeData} while one runs.
 */
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors.js';
import { Cap, Com, MariaCap } from './protocol/constants.js';
import { ColumnCapture } from './protocol/column-capture.js';
import { decodeErr } from './protocol/generic-response.js';
import { PacketWriter } from './protocol/packet-writer.js';
import { ResponseScanner } from './protocol/response-scanner.js';
import type { ProbeError } from './read-router.js';
import type { Negotiated, Phase } from './session-host.js';

export type ProbeKind = 'query' | 'prepare';

export class UpstreamProbe {
  readonly #kind: ProbeKind;
  readonly #scanner: ResponseScanner;
  readonly #rows: ColumnCapture | null;
  readonly #resolve: (e: ProbeError | null) => void;
  #err: ProbeError | null = null;
  #statementId = -1;

  /** `onRow` receives the text values of each row of a query's result. */
  constructor(kind: ProbeKind, wire: Negotiated, resolve: (e: ProbeError | null) => void, onRow?: (values: ReadonlyArray<string | null>) => void) {
    this.#kind = kind;
    this.#resolve = resolve;
    const deprecateEof = (wire.caps & Cap.DEPRECATE_EOF) !== 0;
    const extended = (wire.mariadbCaps & MariaCap.EXTENDED_METADATA) !== 0;
    this.#rows = onRow === undefined ? null : new ColumnCapture(extended, () => undefined, { deprecateEof, deliver: onRow });
    this.#scanner = new ResponseScanner({
      onOk: () => undefined,
      onEof: () => undefined,
      onErr: (payload) => {
        this.#err = decodeErr(payload);
      },
      onPrepareOk: (payload) => {
        this.#statementId = payload.readUInt32LE(1);
      },
    });
    this.#scanner.begin(kind, deprecateEof);
  }

  /** The command that runs `sql` upstream. */
  static request(sql: string, kind: ProbeKind): Buffer {
    const body = Buffer.from(sql, 'utf8');
    return new PacketWriter(body.length + 8).begin(0).u8(kind === 'prepare' ? Com.STMT_PREPARE : Com.QUERY).bytes(body).end().finish();
  }

  /** Reads upstream's bytes; true once the response has ended. Throws on bytes that make no sense. */
  feed(chunk: Buffer): boolean {
    this.#rows?.feed(chunk);
    return this.#scanner.feed(chunk) >= 0;
  }

  /** The response ended: closes a prepared statement upstream (through `send`) and settles. */
  finish(send: (packet: Buffer) => void): void {
    // Fails closed: a prepare answered by anything but PREPARE_OK proves nothing.
    if (this.#err === null && this.#kind === 'prepare' && this.#statementId < 0) this.#err = { errno: 1105, sqlState: 'HY000', message: 'an unexpected answer to a prepare' };
    // COM_STMT_CLOSE has no response.
    if (this.#statementId >= 0) send(new PacketWriter(16).begin(0).u8(Com.STMT_CLOSE).u32(this.#statementId).end().finish());
    this.#resolve(this.#err);
  }

  /** Settles without an answer (the session closed). */
  cancel(err: ProbeError): void {
    this.#resolve(err);
  }
}

/** The row a query probe run by `run` returns (SessionView.probeRow; the last, if several), null, or its error. */
export async function probeRow(
  run: (kind: 'query', onRow: (values: ReadonlyArray<string | null>) => void) => Promise<ProbeError | null>,
): Promise<ReadonlyArray<string | null> | ProbeError | null> {
  let row: ReadonlyArray<string | null> | null = null;
  const err = await run('query', (values) => {
    row = values;
  });
  return err ?? row;
}

/** The session a probe runs on (client-session.ts gives its own). */
export interface ProbeSession {
  readonly wire: Negotiated;
  readonly phase: Phase;
  readonly upstream: Socket | null;
  /** The probe running; at most one at a time. */
  probe: UpstreamProbe | null;
  fatal(code: ErrorCode, args: ReadonlyArray<string | number>, err?: unknown, seq?: number): void;
}

/**
 * Runs one statement of Rotor's own on the session's upstream session (SessionView.probe). Only
 * while a pending answer holds the session (nothing else is in flight upstream).
 */
export function runProbe(s: ProbeSession, sql: string, kind: ProbeKind, onRow?: (values: ReadonlyArray<string | null>) => void): Promise<ProbeError | null> {
  const up = s.upstream;
  if (up === null || s.phase !== 'ready' || s.probe !== null) {
    return Promise.resolve({ errno: 1105, sqlState: 'HY000', message: 'the upstream session is not available' });
  }
  return new Promise((resolve) => {
    s.probe = new UpstreamProbe(kind, s.wire, resolve, onRow);
    up.write(UpstreamProbe.request(sql, kind));
  });
}

/** Upstream's bytes while a probe runs: its response, never the client's. */
export function probeData(s: ProbeSession, chunk: Buffer): void {
  const probe = s.probe;
  if (probe === null) return;
  let ended: boolean;
  try {
    ended = probe.feed(chunk);
  } catch (err) {
    s.fatal('ERR_INTERNAL', [(err as Error).message], err);
    return;
  }
  if (!ended) return;
  s.probe = null;
  probe.finish((packet) => s.upstream?.write(packet));
}
