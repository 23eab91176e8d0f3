/**
 * The command phase's dispatch: one handler per command, in a `Record` over every command named in
 * {@link Com}, so a command added there without a handler does not compile. Commands Rotor does not
 * serve (COM_SHUTDOWN, COM_SLEEP, …) and unknown command bytes get ERR_PROXY_UNKNOWN_COMMAND.
 *
 * A handler either relays the command upstream (the response streams back verbatim), or lets the
 * router answer it; what the session state must learn from it is noted before or after the
 * response.
 */
import type { ErrorCode } from '../errors.js';
import { Com, MariaCap } from './protocol/constants.js';
import type { Packet } from './protocol/framer.js';
import type { ResponseKind } from './protocol/response-scanner.js';
import type { BeginDeferral } from './deferred-begin.js';
import type { ExecutePlan, PreparedStatements } from './prepared-statements.js';
import type { ReadRouter, RelayWatch, Routed, Upstream } from './read-router.js';
import { parseUse, type SessionState } from './session-state.js';

/** What a command handler may do with its session. */
export interface CommandContext {
  readonly statements: PreparedStatements;
  /** `--defer-begin`: told every statement text that goes upstream, or null. [note: deferred-begin] */
  readonly deferral: BeginDeferral | null;
  /** The negotiated MariaDB capabilities. */
  readonly mariadbCaps: number;
  router(): ReadRouter;
  /**
   * How long the response to the statement relayed (through {@link route}) took upstream, from
   * its routing to its end (ms): read in the relay's `after`, one clock read for every use of it.
   */
  upstreamMs(): number;
  /** Sends a command upstream and streams its response back; `after` runs when it ended. */
  relay(raw: Buffer, kind: ResponseKind, after?: (ok: boolean) => void, watch?: RelayWatch): void;
  /** Sends a command that has no response. */
  send(raw: Buffer): void;
  /** Acts on the router's decision; `relay` sends the statement upstream (`up`: the router's word on it). */
  route(routed: Routed, binary: boolean, relay: (up?: Upstream) => void): void;
  /** COM_CHANGE_USER: a login inside the command phase (login-relay.ts). */
  changeUser(p: Packet, state: SessionState): void;
  /** COM_QUIT: sent upstream, and the session closes. */
  quit(raw: Buffer): void;
  sendError(code: ErrorCode, args: ReadonlyArray<string | number>, seq: number): void;
}

export type CommandHandler = (ctx: CommandContext, p: Packet, state: SessionState) => void;

const unknown: CommandHandler = (ctx, p) => ctx.sendError('ERR_PROXY_UNKNOWN_COMMAND', [], p.seq + 1);

/** Relayed; the response is of `kind`. */
function relayed(kind: ResponseKind): CommandHandler {
  return (ctx, p) => ctx.relay(p.raw, kind);
}

const query: CommandHandler = (ctx, p, state) => {
  const sql = p.payload.toString('utf8', 1);
  const routed = safe<Routed>(() => ctx.router().routeQuery(sql, state), { kind: 'upstream', reason: 'router error' });
  ctx.route(routed, false, (up) => {
    state.noteStatement(sql);
    ctx.deferral?.screen(sql);
    const db = parseUse(sql);
    ctx.relay(p.raw, 'query', (ok) => {
      safe(() => ctx.router().observeRelayed?.(sql, state, ctx.upstreamMs(), up?.statement), undefined);
      if (ok && db !== null) state.database = db;
      statementDone(ctx, state, ok);
    }, up?.watch);
  });
};

const NO_CACHE: Routed = Object.freeze({ kind: 'upstream', reason: null });

const execute: CommandHandler = (ctx, p, state) => {
  const plan = ctx.statements.planExecute(p);
  const routable = plan.routable;
  // No cache matched it at prepare: relayed, and counted as every relayed statement is.
  const routed = routable === null ? NO_CACHE
    : safe<Routed>(() => ctx.router().routeExecute(routable.match, routable.params, state, routable.types), { kind: 'upstream', reason: 'router error' });
  // [note: hot-path] An anonymous closure: a named one costs a `name` definition per statement (prepared-statements.ts).
  ctx.route(routed, true, (up) => relayExecute(ctx, state, plan, up));
};

function relayExecute(ctx: CommandContext, state: SessionState, plan: ExecutePlan, up: Upstream | undefined): void {
  // A statement matched to a cache is a SELECT; any other may write. [note: unlogged-writes]
  state.noteExecute(plan.routable !== null, plan.sql);
  ctx.relay(plan.upstreamPacket(), 'execute', (ok) => {
    if (plan.sql !== null) safe(() => ctx.router().observeRelayed?.(plan.sql as string, state, ctx.upstreamMs()), undefined);
    statementDone(ctx, state, ok);
  }, up?.watch);
}

/** COM_STMT_SEND_LONG_DATA and COM_STMT_CLOSE: no response; the next command follows at once. */
const statementNote: CommandHandler = (ctx, p) => {
  ctx.statements.onStatementCommand(p.payload[0] === Com.STMT_CLOSE ? 'close' : 'long-data', p.payload);
  ctx.send(p.raw);
};

export const COMMANDS: Readonly<Record<keyof typeof Com, CommandHandler>> = {
  SLEEP: unknown,
  QUIT: (ctx, p) => ctx.quit(p.raw),
  INIT_DB: (ctx, p, state) => {
    const db = p.payload.toString('utf8', 1);
    ctx.relay(p.raw, 'single', (ok) => {
      if (ok) state.database = db;
    });
  },
  QUERY: query,
  FIELD_LIST: relayed('field-list'),
  CREATE_DB: relayed('single'),
  DROP_DB: relayed('single'),
  REFRESH: (ctx, p) => {
    // FLUSH …: a later BEGIN may fail (FLUSH TABLES WITH READ LOCK). [note: deferred-begin]
    ctx.deferral?.stop('COM_REFRESH');
    ctx.relay(p.raw, 'single');
  },
  SHUTDOWN: unknown,
  STATISTICS: relayed('single'),
  PROCESS_INFO: relayed('query'),
  CONNECT: unknown,
  PROCESS_KILL: relayed('single'),
  DEBUG: relayed('single'),
  PING: relayed('single'),
  CHANGE_USER: (ctx, p, state) => ctx.changeUser(p, state),
  STMT_PREPARE: (ctx, p, state) => {
    const sql = p.payload.toString('utf8', 1);
    ctx.statements.expect(safe(() => ctx.router().matchPrepared(sql, state), null), sql);
    state.noteStatement(sql, true);
    ctx.deferral?.screen(sql);
    ctx.relay(p.raw, 'prepare', () => ctx.statements.prepareDone());
  },
  STMT_EXECUTE: execute,
  STMT_SEND_LONG_DATA: statementNote,
  STMT_CLOSE: statementNote,
  STMT_RESET: (ctx, p) => {
    ctx.statements.onStatementCommand('reset', p.payload);
    ctx.relay(p.raw, 'single');
  },
  SET_OPTION: relayed('single'),
  STMT_FETCH: relayed('fetch'),
  RESET_CONNECTION: (ctx, p, state) => {
    ctx.relay(p.raw, 'single', (ok) => {
      if (!ok) return;
      state.reset();
      ctx.statements.clear();
      ctx.deferral?.relearn();
    });
  },
  STMT_BULK_EXECUTE: (ctx, p, state) => {
    if (!(ctx.mariadbCaps & MariaCap.STMT_BULK_OPERATIONS)) {
      unknown(ctx, p, state);
      return;
    }
    state.noteExecute(false, null);
    ctx.relay(p.raw, 'query', (ok) => statementDone(ctx, state, ok));
  },
};

/** The handler of each command byte. */
const BY_BYTE: ReadonlyArray<CommandHandler> = (() => {
  const table = new Array<CommandHandler>(256).fill(unknown);
  for (const name of Object.keys(COMMANDS) as Array<keyof typeof Com>) table[Com[name]] = COMMANDS[name];
  return table;
})();

/** Handles one command packet (its payload MUST NOT be empty). */
export function dispatch(ctx: CommandContext, p: Packet, state: SessionState): void {
  (BY_BYTE[p.payload[0]] as CommandHandler)(ctx, p, state);
}

/**
 * A relayed statement's response ended: what the session wrote with sql_log_bin=0 is forgotten
 * now, synchronously, before Rotor handles any other session's read. [note: unlogged-writes]
 */
function statementDone(ctx: CommandContext, state: SessionState, ok: boolean): void {
  const forget = state.statementDone(ok);
  if (forget !== null) safe(() => ctx.router().forgetUnlogged(forget, state), undefined);
}

/** The router's result, or `fallback` when the router throws (a router bug must not cost the session). */
function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}
