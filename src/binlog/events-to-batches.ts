/**
 * Turns zongji's event stream into Rotor's units: one {@link Batch} per committed transaction and
 * one {@link SchemaChange} per DDL statement, each stamped with the position just after its last
 * event ([note: fill-position]).
 *
 * An event group starts at a GTID event (MariaDB, MySQL) or a `BEGIN` query and ends at its
 * commit: an XID event, a `COMMIT` query, or, for a standalone group (DDL), the statement itself.
 * Nothing of a group reaches the output before its end; a group cut off by a lost connection is
 * dropped by {@link EventsToBatches.reset} and read again in full after the resume.
 */
import type { AnyBinlogEvent, BinlogEventByName, BinlogEventName } from '@vlasky/zongji';
import type { Delta } from '../dataflow/delta.js';
import type { Batch, BinlogPosition, TableChange } from '../dataflow/batch.js';
import type { SchemaChange } from './sink.js';
import { classifyDdl } from './ddl.js';
import { isEnumColumn, RowShape } from './row-values.js';

/** Where assembled units go. Called synchronously, in binlog order. */
export interface AssemblerOutput {
  onBatch(batch: Batch): void;
  onSchemaChange(change: SchemaChange): void;
  /** Every group end, including groups with no row changes: a safe resume point. */
  onGroupEnd(position: BinlogPosition, gtid: string | null): void;
  /** The upstream had nothing to send for a heartbeat period: the stream is caught up. */
  onHeartbeat(position: BinlogPosition): void;
}

/**
 * True when a rows event carries every column of its rows (binlog_row_image=FULL): zongji reads a
 * column missing from a MINIMAL or NOBLOB image as NULL, indistinguishable from a real NULL.
 */
function fullImages(ev: AnyBinlogEvent): boolean {
  const e = ev as unknown as { numberOfColumns?: number; columns_present_bitmap?: Buffer; columns_present_bitmap2?: Buffer };
  const n = e.numberOfColumns ?? 0;
  return allPresent(e.columns_present_bitmap, n) && allPresent(e.columns_present_bitmap2, n);
}

// Module-level rather than a closure made per event ([note: hot-path]: tsx names every named
// closure as it is created).
function allPresent(bitmap: Buffer | undefined, n: number): boolean {
  if (bitmap === undefined) return true;
  for (let i = 0; i < n; i++) if ((bitmap[i >> 3] & (1 << (i & 7))) === 0) return false;
  return true;
}

interface OpenTable {
  readonly shape: RowShape;
  readonly deltas: Delta[];
  /** A row image lacked columns (binlog_row_image MINIMAL or NOBLOB): its rows cannot be applied. */
  partial?: boolean;
}

type Handler = (ev: AnyBinlogEvent) => void;

export class EventsToBatches {
  readonly #out: AssemblerOutput;
  readonly #shapes = new Map<number, RowShape>();
  #file: string | null = null;
  #gtid: string | null = null;
  #inGroup = false;
  #standalone = false;
  #xid: string | null = null;
  // The open group's tables, in first-touched order: a handful at most, so a list beats a map.
  // Only #xaPrepare replaces the list (it hands the old one to #prepared); #discard empties it.
  #tables: OpenTable[] = [];
  #schema: SchemaChange[] = [];
  #events = 0;
  // XA PREPAREd groups wait here until their XA COMMIT (or ROLLBACK) group.
  readonly #prepared = new Map<string, OpenTable[]>();
  readonly #handlers: Partial<Record<BinlogEventName, Handler>>;

  constructor(out: AssemblerOutput) {
    this.#out = out;
    this.#handlers = {
      rotate: (ev) => this.#rotate(ev as BinlogEventByName<'rotate'>),
      mariadbgtid: (ev) => this.#mariadbGtid(ev as BinlogEventByName<'mariadbgtid'>),
      // MySQL: a GTID event is followed by BEGIN (a transaction) or by the DDL statement itself,
      // which is then the whole group; standalone until a BEGIN says otherwise.
      gtid: (ev) => this.#begin((ev as BinlogEventByName<'gtid'>).gtid, true),
      anonymousgtid: () => this.#begin(null, true),
      query: (ev) => this.#query(ev as BinlogEventByName<'query'>),
      tablemap: (ev) => this.#tableMap(ev as BinlogEventByName<'tablemap'>),
      writerows: (ev) => this.#rows(ev as BinlogEventByName<'writerows'>, 1),
      deleterows: (ev) => this.#rows(ev as BinlogEventByName<'deleterows'>, -1),
      updaterows: (ev) => this.#update(ev as BinlogEventByName<'updaterows'>),
      xid: (ev) => this.#commit(ev),
      xaprepare: (ev) => this.#xaPrepare(ev),
      heartbeat: (ev) => this.#heartbeat(ev as BinlogEventByName<'heartbeat'>),
    };
  }

  /** The binlog file the stream is in (from the last rotate event), or null before the first. */
  get file(): string | null {
    return this.#file;
  }

  /** Events read since the last group end: received, not yet delivered. */
  get pendingEvents(): number {
    return this.#inGroup ? this.#events : 0;
  }

  /** Feeds one zongji event; `name` is its getEventName(), when the caller has it already. */
  push(ev: AnyBinlogEvent, name = ev.getEventName()): void {
    const h = this.#handlers[name as BinlogEventName];
    if (this.#inGroup) this.#events++;
    if (h) h(ev);
  }

  /** Forgets an open group and the table maps: the stream will be read again from a group boundary. */
  reset(): void {
    this.#discard();
    this.#shapes.clear();
    this.#file = null;
  }

  #discard(): void {
    this.#inGroup = false;
    this.#standalone = false;
    this.#gtid = null;
    this.#xid = null;
    if (this.#tables.length > 0) this.#tables.length = 0;
    if (this.#schema.length > 0) this.#schema = [];
    this.#events = 0;
  }

  #rotate(ev: BinlogEventByName<'rotate'>): void {
    this.#file = ev.binlogName;
  }

  #begin(gtid: string | null, standalone: boolean): void {
    // A group left open means its end was never seen (it cannot happen on a healthy stream);
    // its rows are not known to be committed, so they are dropped rather than guessed at.
    this.#discard();
    this.#inGroup = true;
    this.#standalone = standalone;
    this.#gtid = gtid;
  }

  #mariadbGtid(ev: BinlogEventByName<'mariadbgtid'>): void {
    this.#begin(ev.gtid, ev.standalone);
    if ((ev.preparedXa || ev.completedXa) && ev.xidGtrid && ev.xidBqual) {
      this.#xid = `${ev.xidFormatId ?? 0}:${ev.xidGtrid.toString('hex')}:${ev.xidBqual.toString('hex')}`;
    }
  }

  #query(ev: BinlogEventByName<'query'>): void {
    const q = ev.query.trim();
    const upper = q.length <= 16 ? q.toUpperCase() : q.slice(0, 16).toUpperCase();
    if (upper === 'BEGIN' || upper.startsWith('XA START') || upper.startsWith('XA END')) {
      if (!this.#inGroup) this.#begin(null, false);
      else this.#standalone = false;
      return;
    }
    if (upper === 'COMMIT') return this.#commit(ev);
    if (upper === 'ROLLBACK') return this.#rollback(ev);
    if (upper.startsWith('XA COMMIT')) return this.#xaComplete(ev, true);
    if (upper.startsWith('XA ROLLBACK')) return this.#xaComplete(ev, false);
    if (upper.startsWith('SAVEPOINT') || upper.startsWith('ROLLBACK TO') || upper.startsWith('RELEASE SAVEPOINT')) return;
    const ddl = classifyDdl(q, ev.schema);
    if (ddl) {
      const byDb = new Map<string, string[]>();
      for (const t of ddl.tables) byDb.set(t.database, [...(byDb.get(t.database) ?? []), t.table]);
      // A statement that changed rows somewhere Rotor cannot name may have changed any database's.
      if (byDb.size === 0) byDb.set(ddl.kind === 'dml' ? '' : ev.schema, []);
      const position = this.#position(ev);
      for (const [database, tables] of byDb) {
        this.#schema.push({ kind: ddl.kind, database, tables, statement: q, position, gtid: this.#gtid });
      }
    }
    // Outside BEGIN … COMMIT a statement is its own group (DDL has no commit event).
    if (!this.#inGroup || this.#standalone) this.#commit(ev);
  }

  #tableMap(ev: BinlogEventByName<'tablemap'>): void {
    // Every transaction repeats its tables' maps; reuse the shape while the table is unchanged.
    const cached = this.#shapes.get(ev.tableId);
    const schemas = ev.tableMap[ev.tableId]?.columnSchemas;
    if (cached && cached.describes(ev.schemaName, ev.tableName, schemas, ev.columnTypes)) return;
    const names = schemas?.map((c) => c.COLUMN_NAME) ?? ev.columnNames ?? [];
    this.#shapes.set(ev.tableId, new RowShape(ev.schemaName, ev.tableName, names, ev.columnTypes, schemas?.map(isEnumColumn) ?? []));
  }

  #table(tableId: number): OpenTable | null {
    const shape = this.#shapes.get(tableId);
    if (!shape) return null;
    const tables = this.#tables;
    // Newest first: a table's shape can change mid-group only in CREATE … SELECT-like groups, and
    // then the rows after the change belong to a new part with the new columns.
    for (let i = tables.length - 1; i >= 0; i--) {
      const t = tables[i];
      if (t.shape === shape) return t;
      if (t.shape.table === shape.table && t.shape.database === shape.database) {
        if (sameColumns(t.shape.columns, shape.columns)) return t;
        break;
      }
    }
    const t: OpenTable = { shape, deltas: [] };
    tables.push(t);
    return t;
  }

  #rows(ev: BinlogEventByName<'writerows' | 'deleterows'>, sign: 1 | -1): void {
    const t = this.#table(ev.tableId);
    if (!t) return;
    if (!fullImages(ev)) t.partial = true;
    for (const r of ev.rows) t.deltas.push({ row: t.shape.toRow(r), sign });
  }

  #update(ev: BinlogEventByName<'updaterows'>): void {
    const t = this.#table(ev.tableId);
    if (!t) return;
    if (!fullImages(ev)) t.partial = true;
    for (const r of ev.rows) {
      t.deltas.push({ row: t.shape.toRow(r.before), sign: -1 });
      t.deltas.push({ row: t.shape.toRow(r.after), sign: 1 });
    }
  }

  #xaPrepare(ev: AnyBinlogEvent): void {
    if (this.#xid) this.#prepared.set(this.#xid, this.#tables);
    this.#tables = [];
    this.#commit(ev);
  }

  #xaComplete(ev: BinlogEventByName<'query'>, commit: boolean): void {
    const held = this.#xid ? this.#prepared.get(this.#xid) : undefined;
    if (this.#xid) this.#prepared.delete(this.#xid);
    if (held && commit) this.#tables.push(...held);
    this.#commit(ev);
  }

  #position(ev: AnyBinlogEvent): BinlogPosition {
    return { file: this.#file ?? '', position: ev.nextPosition };
  }

  #commit(ev: AnyBinlogEvent): void {
    const position = this.#position(ev);
    const gtid = this.#gtid;
    // [note: statement-dml] Rows logged without their full images cannot be applied: the table's
    // caches forget what they held, as for rows changed by a statement.
    for (const t of this.#tables) {
      if (t.partial !== true) continue;
      this.#schema.push({ kind: 'dml', database: t.shape.database, tables: [t.shape.table], statement: 'row events without full row images (binlog_row_image is not FULL)', position, gtid });
    }
    // Stamped with the group's end, like its batch: CREATE … SELECT logs its rows after the DDL.
    for (const change of this.#schema) this.#out.onSchemaChange(change.position.position === position.position ? change : { ...change, position });
    if (this.#tables.length > 0) {
      const changes: TableChange[] = [];
      for (const t of this.#tables) {
        if (t.deltas.length === 0 || t.partial === true) continue;
        changes.push({ database: t.shape.database, table: t.shape.table, columns: t.shape.columns, deltas: t.deltas });
      }
      if (changes.length > 0) this.#out.onBatch({ gtid, position, timestamp: ev.timestamp, changes });
    }
    this.#discard();
    this.#out.onGroupEnd(position, gtid);
  }

  // A ROLLBACK is logged only for a group that changed a non-transactional table: its row events
  // mix changes that stay (MyISAM, Aria) with changes that were undone (InnoDB), and the binlog
  // does not say which table is which. Nothing is applied; the tables are reported as changed in
  // a way Rotor cannot describe, so the engine drops what it derived from them.
  #rollback(ev: BinlogEventByName<'query'>): void {
    const byDb = new Map<string, string[]>();
    for (const t of this.#tables) {
      const list = byDb.get(t.shape.database) ?? [];
      if (!list.includes(t.shape.table)) list.push(t.shape.table);
      byDb.set(t.shape.database, list);
    }
    const position = this.#position(ev);
    for (const [database, tables] of byDb) {
      this.#schema.push({ kind: 'other', database, tables, statement: 'ROLLBACK', position, gtid: this.#gtid });
    }
    this.#tables.length = 0;
    this.#commit(ev);
  }

  #heartbeat(ev: BinlogEventByName<'heartbeat'>): void {
    if (!this.#inGroup) this.#out.onHeartbeat({ file: ev.binlogName, position: ev.nextPosition });
  }
}

function sameColumns(a: ReadonlyArray<string>, b: ReadonlyArray<string>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
