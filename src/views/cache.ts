/**
 * A registered cache: its definition (what is persisted), its plan and dataflow nodes, how an
 * incoming statement's fingerprint binds its parameters, and its counters.
 */
import type { ColumnDefinition } from '../proxy/protocol/column-definition.js';
import { scopedKey, type Fingerprint, type Literal } from '../planner/fingerprint.js';
import { invariant } from '../errors.js';
import { LatencyHistogram } from '../latency.js';
import type { TableSchema } from '../planner/schema.js';
import { DEFAULT_BUILD as DEFAULT_SETTINGS, type BuildOptions, type BuiltCache, type CachePlan, type ViewDefinition } from '../planner/index.js';
import { SEMI_JOIN_PREFIX } from '../planner/join.js';
import { coerceParam, coerceRangeParam, type ValueType } from '../planner/coerce.js';
import { Type } from '../proxy/protocol/constants.js';
import { readLimit, type LimitSpec } from '../planner/limit.js';
import { qualifiedQuery, type QualifiedQuery } from '../planner/parse.js';
import { alternateForms, parameterOf } from './statement-plan.js';
import type { SlotSpec } from '../planner/query-plan.js';
import { sameRow } from '../dataflow/state.js';
import { answerText } from './answer-text.js';
import type { Row } from '../dataflow/delta.js';
import type { Value } from '../values.js';

const TYPE_TIMESTAMP = 7;
/** MYSQL_TYPE_STRING: a CHAR column (or an ENUM or SET: MariaDB sends them as such too). */
const TYPE_STRING = 254;

/** Caches built in this process: each one's {@link Cache.grantKey}. */
let instances = 0;

/** What survives a restart: enough to rebuild the cache without asking upstream. */
export interface CacheDefinition {
  readonly id: string;
  readonly name: string;
  readonly database: string;
  /** The SQL as registered. */
  readonly sql: string;
  /** The table read (the first one, for a join). */
  readonly schema: TableSchema;
  /** The views the statement reads, however deep, as planned over ([note: view-expansion]); absent when none. */
  readonly views?: ReadonlyArray<ViewDefinition>;
  /** Every table a join reads, in FROM order (absent for a single table). */
  readonly tables?: ReadonlyArray<TableSchema>;
  readonly columns: ReadonlyArray<ColumnDefinition>;
  /** `CREATE CACHE ALWAYS`: serves reads inside transactions too. [note: transaction-reads] */
  readonly always?: boolean;
}

/** A cache as the admin API and SHOW CACHES describe it. */
export interface CacheInfo {
  id: string;
  name: string;
  database: string;
  sql: string;
  /** Serves reads inside transactions (`CREATE CACHE ALWAYS`). [note: transaction-reads] */
  always: boolean;
  parameters: { table: string; column: string }[];
  plan: string[];
  status: CacheStatus;
  /** Why a cache is not ready (a dropped table, a table Rotor cannot keep exact), or null. */
  reason: string | null;
  /** Every key of its table is held: a key not held is empty, answered without MySQL ([note: complete-state]). */
  complete: boolean;
  /** Its whole fill: `off` (not eligible, or `--complete-rows 0`), `filling`, `complete` (it was; see `complete` for now), `too large`, `unsupported`, `failed`. */
  wholeFill: WholeFill;
  stats: { hits: number; misses: number; relayedMisses: number; memoryFills: number; upqueries: number; fillErrors: number; keys: number; rows: number; bytes: number; evictions: number; hitLatencyMs: { p50: number; p99: number } };
}


/**
 * Where one parameter value comes from: a literal of the statement (with its SQL type where its
 * value does not tell it, [note: value-types]), or a prepared-statement parameter.
 */
export type ValueSource = { readonly v: Value; readonly t?: ValueType } | { readonly p: number };


/**
 * `ready`: answers reads. `invalidated`: a table it reads changed or is being checked, reads go
 * upstream until it is checked again. `dropped`: a table it reads no longer exists; its state is
 * freed, it answers nothing, and it stays listed (with the reason) until it is deleted.
 */
export type CacheStatus = 'ready' | 'invalidated' | 'dropped';

/** What became of a cache's whole fill (src/views/complete-fills.ts), as its status shows it. [note: complete-state] */
export type WholeFill = 'off' | 'filling' | 'complete' | 'too large' | 'unsupported' | 'failed';

export class Cache {
  /**
   * `misses`: reads of keys the reader did not hold; `relayedMisses`: those answered by the
   * session's upstream session (`--miss-policy relay`); `memoryFills`: those answered at once
   * from states above that held or knew their keys ([note: memory-fill]); `upqueries`: fills that
   * asked MySQL; `fillErrors`: fills that failed.
   */
  readonly stats = { hits: 0, misses: 0, relayedMisses: 0, memoryFills: 0, upqueries: 0, fillErrors: 0 };
  /** How long hits took to answer (routing, lookup, the answer's rows), ms. */
  readonly latency = new LatencyHistogram();
  /** How long its fills that asked the upstream took (until installed and visible), ms. */
  readonly fillLatency = new LatencyHistogram();
  status: CacheStatus = 'ready';
  /** Why the cache is not ready, when known. */
  reason: string | null = null;
  /** Reads counted at the last idle check, and since when (ms, performance.now()) that count has not moved. */
  idle = { reads: 0, since: 0 };
  /** The upstream settings its nodes were built with (AVG's digits, GROUP_CONCAT's limit). */
  settings: BuildOptions = DEFAULT_SETTINGS;
  /** Column definitions per select-list text (MariaDB names result columns as the client wrote them). */
  readonly variants = new Map<string, ReadonlyArray<ColumnDefinition>>();
  /**
   * The cache's query with every table qualified, prepared (never run) on a session's own upstream
   * session to learn that its user may read the cache, and the tables it reads; null when it cannot
   * be written (the cache then answers no session). [note: cached-grants]
   */
  readonly probe: QualifiedQuery | null;
  /** The views it reads (`database\0name`), however deep: their grants are MariaDB's to check on the prepare of {@link probe}. */
  readonly views: ReadonlySet<string>;
  /** The cache answers TIMESTAMP values, or is keyed by one (both kept in UTC). */
  readonly timestamps: boolean;
  /** The cache answers CHAR values (or expressions), which PAD_CHAR_TO_FULL_LENGTH pads (Engine.padCharReason). */
  readonly chars: boolean;
  /**
   * Whether a miss may be relayed (`--miss-policy relay`), or must be filled. [note: miss-relay]
   * A relayed miss costs what the client's statement costs MariaDB, which is a direct read's cost
   * only when MariaDB reaches the key as Rotor's fill does. A join with a derived table that
   * aggregates (`LEFT JOIN (SELECT article_id, COUNT(*) … GROUP BY article_id) vc ON …`) is
   * materialized whole by MariaDB for any key (the Noria vote query: a full scan of every vote,
   * seconds, per first read), while the fill asks for the key's groups alone: such caches fill.
   * Semi-joins (`IN (SELECT …)`, planned as a grouped derived table) are MariaDB's own semi-join.
   */
  readonly relaysMisses: boolean;
  /** Whether it was filled whole, as src/views/complete-fills.ts last left it ([note: complete-state]). */
  wholeFill: WholeFill = 'off';
  /** Reader keys filled ahead of the binlog stream, not served until it catches up (count of waiters). */
  readonly ahead = new Map<string, number>();
  /** The key statements find the cache by: its tables resolved in its database ([note: scoped-key]). */
  readonly routingKey: string;
  /**
   * What a session's grants check of this cache is kept under ([note: cached-grants]): this
   * instance, not its id, which a cache planned again after ALTER TABLE (or registered again over a
   * table created again) keeps while what its query reads changed (`SELECT *` gains a column).
   */
  readonly grantKey = `${++instances}`;
  /**
   * Other spellings the cache answers ([note: in-list-union]: `col IN (…)` for `col = ?` and back),
   * by the routing key statements of each are found by, with their literal slots.
   */
  readonly alternates: ReadonlyMap<string, ReadonlyArray<SlotSpec>>;
  /** The places of a `LIMIT ?`, in textual order, or null ([note: limit-param]). */
  readonly limitParts: ReadonlyArray<'count' | 'offset'> | null;

  constructor(
    readonly def: CacheDefinition,
    readonly plan: CachePlan,
    readonly fp: Fingerprint,
    readonly selectText: string,
    readonly normalized: string,
    readonly built: BuiltCache,
  ) {
    this.variants.set(selectText, def.columns);
    this.limitParts = plan.kind === 'union' || plan.kind === 'answer' ? null : plan.limitParam?.parts ?? null;
    built.reader.useText(answerText(def.columns));
    this.probe = qualifiedQuery(def.sql, def.database);
    this.views = new Set((def.views ?? []).map((v) => `${v.database}\0${v.name}`));
    const key = scopedKey(fp, def.database);
    invariant(key !== null, 'a cache always has a database');
    this.routingKey = key;
    const alternates = new Map<string, ReadonlyArray<SlotSpec>>();
    for (const alt of alternateForms(fp, plan)) {
      const k = scopedKey(alt.fp, def.database);
      if (k !== null && k !== key) alternates.set(k, alt.slots);
    }
    this.alternates = alternates;
    const tables = def.tables ?? [def.schema];
    const isTimestamp = (p: { table: string; column: string }): boolean =>
      tables.some((t) => t.table === p.table && t.columns.some((c) => c.name === p.column && c.dataType === 'timestamp'));
    // [note: answer-refill] An expression may read a TIMESTAMP, or convert with the time zone, in any clause.
    this.timestamps = plan.kind === 'answer' || def.columns.some((c) => c.type === TYPE_TIMESTAMP) || plan.params.some((p) => isTimestamp(parameterOf(plan, p.column)));
    this.chars = plan.kind === 'answer' || def.columns.some((c) => c.type === TYPE_STRING);
    this.relaysMisses = plan.kind !== 'join' || !plan.join.sources.some((s) => s.aggregate !== null && !s.name.startsWith(SEMI_JOIN_PREFIX));
  }

  /** The IN lists bound multiply to more than {@link MAX_READ_KEYS} keys. */
  static tooManyKeys(bound: ReadonlyArray<ReadonlyArray<ValueSource>>): boolean {
    let n = 1;
    for (const list of bound) if ((n *= list.length) > MAX_READ_KEYS) return true;
    return false;
  }

  get id(): string {
    return this.def.id;
  }

  /**
   * Binds a statement's literals to this cache: per parameter, where its values come from (then,
   * for `LIMIT ?`, one entry per place of the LIMIT: [note: limit-param]); null when a constant
   * differs or the statement's shape does not fit.
   */
  bind(literals: ReadonlyArray<Literal>, slots: ReadonlyArray<SlotSpec> = this.plan.slots): ValueSource[][] | null {
    if (literals.length !== slots.length) return null;
    const nParams = this.plan.params.length;
    const out: ValueSource[][] = new Array(nParams + (this.limitParts?.length ?? 0));
    let limitAt = nParams;
    // [note: hot-path] No closure per call: the counter of `?` placeholders is threaded through.
    const next = { p: 0 };
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i], l = literals[i], r = this.fp.literals[i];
      switch (s.kind) {
        case 'param': {
          const src = valueSource(l, next);
          if (src === null) return null;
          // Appended: `a = ? OR a = ?` binds several places to one parameter.
          (out[s.param] ??= []).push(src);
          break;
        }
        case 'list-param': {
          if (l.kind !== 'list') return null;
          const list: ValueSource[] = [];
          for (const item of l.items) {
            const src = valueSource(item, next);
            if (src === null) return null;
            list.push(src);
          }
          out[s.param] = out[s.param] === undefined ? list : [...out[s.param], ...list];
          break;
        }
        case 'const':
          if (l.kind !== 'value' || r.kind !== 'value' || !sameRow([l.value], [r.value]) || typeof l.value !== typeof r.value || l.number !== r.number) return null;
          break;
        case 'list-const':
          if (l.kind !== 'list' || r.kind !== 'list' || l.items.length !== r.items.length) return null;
          for (let j = 0; j < l.items.length; j++) {
            const a = l.items[j], b = r.items[j];
            if (a.kind !== 'value' || b.kind !== 'value' || !sameRow([a.value], [b.value]) || a.number !== b.number) return null;
          }
          break;
        case 'limit': {
          const src = valueSource(l, next);
          if (src === null) return null;
          out[limitAt++] = [src];
          break;
        }
      }
    }
    return out;
  }

  /**
   * {@link bind} for a statement found under `routingKey`: the cache's own spelling, or one of its
   * {@link alternates}; null when neither fits.
   */
  bindAt(routingKey: string, literals: ReadonlyArray<Literal>): ValueSource[][] | null {
    if (routingKey === this.routingKey) return this.bind(literals);
    const slots = this.alternates.get(routingKey);
    return slots === undefined ? null : this.bind(literals, slots);
  }

  /**
   * The reader keys for bound parameters (the cross product of IN lists), or null to go upstream:
   * a value that is not a plain key, or IN lists that multiply to more than {@link MAX_READ_KEYS}
   * keys ({@link Cache.tooManyKeys}).
   */
  keys(bound: ReadonlyArray<ReadonlyArray<ValueSource>>, params: ReadonlyArray<Value>, types?: ReadonlyArray<number>): Row[] | null {
    // Before anything is built: a few KiB of IN lists multiply to millions of keys, which would
    // hold the event loop and the memory of every session (and fill them all from MariaDB).
    if (Cache.tooManyKeys(bound)) return null;
    const cols = this.plan.schema.columns;
    // [note: hot-path] One parameter of one value (a point read): its key, without the cross product.
    if (this.plan.params.length === 1 && bound[0].length === 1) {
      const p = this.plan.params[0];
      const src = bound[0][0];
      const raw = 'v' in src ? src.v : params[src.p];
      if (raw === undefined) return null;
      const t = 'v' in src ? src.t : types === undefined ? undefined : paramType(types[src.p]);
      const v = p.bound === undefined ? coerceParam(raw, cols[p.column], t) : coerceRangeParam(raw, cols[p.column], t);
      return v === undefined ? null : [[v]];
    }
    let keys: Value[][] = [[]];
    for (let i = 0; i < this.plan.params.length; i++) {
      const info = cols[this.plan.params[i].column];
      const values: Value[] = [];
      for (const src of bound[i]) {
        const raw = 'v' in src ? src.v : params[src.p];
        if (raw === undefined) return null;
        const t = 'v' in src ? src.t : types === undefined ? undefined : paramType(types[src.p]);
        const v = this.plan.params[i].bound === undefined ? coerceParam(raw, info, t) : coerceRangeParam(raw, info, t);
        if (v === undefined) return null;
        values.push(v);
      }
      if (values.length === 1) for (const k of keys) k.push(values[0]);
      else {
        const next: Value[][] = [];
        for (const k of keys) for (const v of values) next.push([...k, v]);
        keys = next;
      }
    }
    return keys;
  }

  /**
   * The rows a read asks for, for a `LIMIT ?` cache ([note: limit-param]): null for a cache without
   * one, undefined when a value is not a LIMIT number Rotor reads (the statement goes upstream).
   */
  readLimit(bound: ReadonlyArray<ReadonlyArray<ValueSource>>, params: ReadonlyArray<Value>): LimitSpec | null | undefined {
    const parts = this.limitParts;
    if (parts === null) return null;
    const n = this.plan.params.length;
    const values: unknown[] = [];
    for (let j = 0; j < parts.length; j++) {
      const src = bound[n + j][0];
      values.push('v' in src ? src.v : params[src.p]);
    }
    return readLimit(parts, values) ?? undefined;
  }
}

/** Reader keys one read may name at most (the product of its IN lists' lengths); more go upstream. */
export const MAX_READ_KEYS = 10_000;

/** Where one literal's value comes from: the statement itself, or the next `?` placeholder. */
function valueSource(l: Literal, next: { p: number }): ValueSource | null {
  if (l.kind === 'value') return l.number === true ? numberLiteral(String(l.value)) : { v: l.value };
  return l.kind === 'param' ? { p: next.p++ } : null;
}

/**
 * A number written with a point or an exponent, as a literal of that text is typed ([note:
 * value-types]): a DOUBLE with an exponent (`1e3`), else a DECIMAL (`1.50`).
 */
export function numberLiteral(text: string): ValueSource {
  return { v: text, t: /[eE]/.test(text) ? 'double' : 'decimal' };
}

/** The SQL type of a parameter bound as wire type `wire` (enum_field_types, flags in the high byte) where its decoded value does not tell it. */
function paramType(wire: number | undefined): ValueType | undefined {
  switch ((wire ?? Type.VAR_STRING) & 0xff) {
    case Type.FLOAT:
    case Type.DOUBLE:
      return 'double';
    case Type.DECIMAL:
    case Type.NEWDECIMAL:
      return 'decimal';
    case Type.DATE:
    case Type.NEWDATE:
    case Type.TIME:
    case Type.DATETIME:
    case Type.TIMESTAMP:
      return 'temporal';
    default:
      return undefined;
  }
}
