/**
 * The prepared statements of one session that the router matched at COM_STMT_PREPARE time, and
 * what their executions need: decoded parameters (the types a client binds once are remembered),
 * and a packet for upstream that still carries those types when Rotor answered the execution that
 * bound them (upstream never saw it).
 *
 * Unmatched statements are tracked by their text only (what their executions count as in SHOW
 * PROXIED QUERIES): their executions are relayed verbatim.
 */
import type { Value } from '../values.js';
import type { Packet } from './protocol/framer.js';
import { PacketWriter } from './protocol/packet-writer.js';
import { decodePrepareOk } from './protocol/result-set.js';
import { bindTypes, decodeExecuteHeader, decodeExecuteParams, type ParamTypes } from './protocol/statement-execute.js';
import type { PreparedMatch } from './read-router.js';

interface Statement {
  readonly match: PreparedMatch;
  /** Its text, as {@link PreparedStatements} keeps every statement's ([note: hot-path]: one lookup per execution). */
  readonly sql: string | null;
  readonly numParams: number;
  types: ParamTypes | null;
  upstreamHasTypes: boolean;
  longData: boolean;
}

/** How one COM_STMT_EXECUTE may be handled. */
export interface ExecutePlan {
  /** The statement's text, when the session prepared it through Rotor. */
  readonly sql: string | null;
  /** The router's match and the decoded parameters when Rotor may answer; null: relay. */
  readonly routable: { readonly match: PreparedMatch; readonly params: ReadonlyArray<Value>; readonly types: ReadonlyArray<number> } | null;
  /** The packet to send upstream when relaying (call only when relaying). */
  upstreamPacket(): Buffer;
}

export class PreparedStatements {
  readonly #byId = new Map<number, Statement>();
  /** Every statement's text, matched or not, by its id. */
  readonly #texts = new Map<number, string>();
  #pending: PreparedMatch | null = null;
  #pendingSql: string | null = null;

  /** COM_STMT_PREPARE of `sql` sent upstream: remember it and the router's match until its PREPARE_OK. */
  expect(match: PreparedMatch | null, sql: string): void {
    this.#pending = match;
    this.#pendingSql = sql;
  }

  /** The first packet of the prepare response (PREPARE_OK). */
  prepared(payload: Buffer): void {
    const match = this.#pending;
    const sql = this.#pendingSql;
    this.#pending = this.#pendingSql = null;
    const ok = decodePrepareOk(payload);
    if (sql !== null) this.#texts.set(ok.statementId, sql);
    if (!match) return;
    this.#byId.set(ok.statementId, { match, sql, numParams: ok.numParams, types: null, upstreamHasTypes: false, longData: false });
  }

  /** The prepare response ended (successfully or not). */
  prepareDone(): void {
    this.#pending = this.#pendingSql = null;
  }

  /** COM_STMT_CLOSE / COM_STMT_SEND_LONG_DATA / COM_STMT_RESET payloads (id at offset 1). */
  onStatementCommand(command: 'close' | 'long-data' | 'reset', payload: Buffer): void {
    if (payload.length < 5) return;
    const id = payload.readUInt32LE(1);
    if (command === 'close') {
      this.#byId.delete(id);
      this.#texts.delete(id);
    }
    const st = this.#byId.get(id);
    if (st) st.longData = command === 'long-data';
  }

  /** COM_RESET_CONNECTION or COM_CHANGE_USER: every statement is gone. */
  clear(): void {
    this.#byId.clear();
    this.#texts.clear();
    this.#pending = this.#pendingSql = null;
  }

  planExecute(p: Packet): ExecutePlan {
    let statementId: number;
    let flags: number;
    try {
      ({ statementId, flags } = decodeExecuteHeader(p.payload));
    } catch {
      return new Execution(p, null, null, null, false);
    }
    const st = this.#byId.get(statementId);
    if (!st) return new Execution(p, this.#texts.get(statementId) ?? null, null, null, false);
    const sql = st.sql;
    let params: ReadonlyArray<Value>;
    let newParamsBound: boolean;
    try {
      const decoded = decodeExecuteParams(p.payload, st.numParams, st.types);
      st.types = decoded.types;
      params = decoded.values;
      newParamsBound = decoded.newParamsBound;
    } catch {
      return new Execution(p, sql, null, null, false);
    }
    // A cursor, or parameters sent as long data, are upstream's business.
    const routable = flags === 0 && !st.longData ? { match: st.match, params, types: st.types ?? [] } : null;
    return new Execution(p, sql, routable, st, newParamsBound);
  }
}

/**
 * One execution's plan. [note: hot-path] A class, not an object literal holding a closure: Rotor
 * runs through tsx, whose transform keeps function names by defining `name` on every named
 * function expression it creates (about a microsecond each, more than the rest of a hit's routing),
 * so per-statement code makes no named closures.
 */
class Execution implements ExecutePlan {
  constructor(
    readonly packet: Packet,
    readonly sql: string | null,
    readonly routable: ExecutePlan['routable'],
    readonly statement: Statement | null,
    readonly newParamsBound: boolean,
  ) {}

  upstreamPacket(): Buffer {
    const p = this.packet;
    const st = this.statement;
    if (st === null) return p.raw;
    st.longData = false;
    if (st.numParams === 0 || this.newParamsBound || st.upstreamHasTypes || !st.types) {
      if (this.newParamsBound) st.upstreamHasTypes = true;
      return p.raw;
    }
    st.upstreamHasTypes = true;
    const payload = bindTypes(p.payload, st.numParams, st.types);
    return Buffer.from(new PacketWriter(payload.length + 8).begin(p.seq).bytes(payload).end().finish());
  }
}
