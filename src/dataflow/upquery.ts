/**
 * Upqueries: turning misses into SQL, and installing the answers at the right binlog position.
 *
 * A miss at a stateful node walks up through stateless parents. If it meets a stateful ancestor,
 * the ancestor is filled first (recursively) and the node then fills from the ancestor's state,
 * synchronously. If it reaches the base tables, the node itself is filled from MySQL by the SQL of
 * its stateless subtree restricted to the missing keys (an aggregate asks for the aggregate, never
 * for the rows it counts). Requests for a key already on its way share that upquery; keys missed
 * in the same turn of the event loop go out together, one statement per node, and so do keys
 * missed while every connection of the reader is busy ([note: miss-batching]).
 *
 * [note: fill-position] (extends the note in src/dataflow/batch.ts) Each upquery returns its rows
 * with a binlog position P they are exact at (src/upstream/upstream-client.ts): read in a
 * consistent snapshot, P is the snapshot's own binlog position, and every transaction is inside
 * the rows exactly when its commit ends at or before P; read with locks (SERIALIZABLE, then the
 * binlog's end under them), every transaction touching the rows committed before the locks were
 * granted (before P) or waits for them (after P). The binlog stream is applied independently and
 * may be behind or ahead of P:
 *   - batches applied while the upquery was outstanding were dropped for the missing keys
 *     ([note: missing-key]); they are kept in a {@link RecentLog} with a tail of those applied just
 *     before ([note: snapshot-behind-stream]), and once the fill is installed those with
 *     position > P are replayed into the node for the filled keys only; those <= P are already
 *     inside the answer;
 *   - batches with position <= P that arrive after the fill (the stream is behind the upquery)
 *     are skipped for the filled keys by a per-key fence in the graph, which lifts once the stream
 *     passes P.
 * So each batch is counted exactly once in a filled key: in the fill, or on top of it.
 * If the log overflowed while the upquery was out, the fill is discarded and retried.
 *
 * A snapshot read (the default) takes no lock, so writers to a filled key commit while its fill is
 * out and their batches are replayed on top of it ([note: snapshot-behind-stream]: those the
 * stream applied before the fill began too); its position is its snapshot's own only as read the
 * way [note: snapshot-position] says. A locking read (`--fill-read locking`, and every server
 * without snapshot positions) installs its rows before any writer to them can commit (the COMMIT
 * that releases its locks is sent after the rows are in), so no batch for the filled rows is
 * replayed onto it. A replayed batch that makes an operator evict the key (a MIN/MAX losing its
 * extreme) undoes the fill, and the key is asked again with a locking read, as is a fill the
 * recent log cannot vouch for ({@link Upqueries.request}). Pinned by
 * test/binlog/fill-position.test.ts (both reads) and test/views/race.test.ts (both reads).
 */
import type { Row } from './delta.js';
import { statefulNode, type InputNode, type StatefulOperator } from './operator.js';
import type { AncestorFill, Graph, JoinFill, ParentsFill } from './graph.js';
import { fillThroughJoin, joinNeeds } from './join-fill.js';
import { answers, keyString, rowBytes } from './state.js';
import { comparePositions, type Batch, type BinlogPosition } from './batch.js';
import { RecentLog } from './recent-log.js';

/** What an upquery returns: its rows and the binlog position they are exact at. */
export interface SnapshotResult {
  readonly rows: ReadonlyArray<Row>;
  /** Null when the upstream has no binlog position to offer (then no batch is replayed). */
  readonly position: BinlogPosition | null;
  /**
   * True when read with locks: every transaction applied before the read began is inside it
   * (the log keeps no tail for such reads: [note: snapshot-behind-stream]).
   */
  readonly locked?: boolean;
}

/** The one thing upqueries need from MySQL. */
export interface SnapshotReader {
  /**
   * `sql`'s rows and the binlog position they are exact at ([note: fill-position]). With
   * `locking`, the read MUST also keep every transaction that would change its rows from
   * committing until the rows are back (a locking read), so no batch touching them can be applied
   * before the fill is installed; without it, the read SHOULD take no lock a writer would wait for.
   */
  snapshotQuery(sql: string, locking?: boolean): Promise<SnapshotResult>;
  /**
   * `sql`'s rows read in a consistent snapshot, with the snapshot's own binlog position, whatever
   * the fills' read (no lock is taken: a fill of a whole state, [note: complete-state]); null when
   * the upstream cannot tell a snapshot's position. Absent: never.
   */
  wholeSnapshot?(sql: string): Promise<SnapshotResult | null>;
  /** How many reads it runs at once (its connections); more wait their turn. Unbounded when absent. */
  readonly concurrency?: number;
}

interface Waiting {
  readonly keys: Row[];
  readonly locking: boolean;
  readonly keyStrings: string[];
  readonly done: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

export interface UpqueryStats {
  upqueries: number;
  rows: number;
  /** Batches replayed on top of fills (applied past their snapshot's position). */
  replayed: number;
  /**
   * Of those, batches the stream had applied before the fill even began: transactions streamed
   * before the snapshot could see them ([note: snapshot-behind-stream]).
   */
  replayedEarlier: number;
  /** Fills fenced because the stream was behind their snapshot. */
  fenced: number;
  /** Upqueries read with locks: a key whose snapshot fill did not hold, asked again. */
  locking: number;
}

/** Schedules, batches, shares and installs upqueries. */
export class Upqueries {
  readonly log = new RecentLog();
  readonly stats: UpqueryStats = { upqueries: 0, rows: 0, replayed: 0, replayedEarlier: 0, fenced: 0, locking: 0 };
  /** Position of the last batch the engine applied, or null before the first. */
  lastApplied: BinlogPosition | null = null;
  readonly #inFlight = new Map<InputNode, Map<string, Promise<void>>>();
  // Keys waiting for the next upquery of their node: snapshot reads, and locking ones.
  readonly #queued = new Map<InputNode, Waiting>();
  readonly #queuedLocking = new Map<InputNode, Waiting>();
  #generation = 0;
  /** Upqueries running, each on one of the reader's connections. */
  #running = 0;
  /**
   * [note: miss-batching] Queues whose upquery waits for a free connection. Their node's misses
   * keep joining them meanwhile, so under load one statement fills the keys of many misses instead
   * of each waiting in the pool for a statement (and, for a locking read, a binlog position read and
   * a COMMIT) of its own. Each fill is exact as before ([note: fill-position]): only how many keys
   * one upquery carries changes. Pinned by test/views/miss-batching.test.ts.
   */
  readonly #deferred: Array<{ readonly node: InputNode; readonly q: Waiting }> = [];

  constructor(readonly graph: Graph, readonly upstream: SnapshotReader, readonly maxKeysPerQuery = 500) {}

  /** The newest snapshot position any fill was installed at. */
  newestFill: BinlogPosition | null = null;
  readonly #waiters: Array<{ readonly at: BinlogPosition; readonly resolve: () => void }> = [];

  /** Call after applying each batch (synchronously). */
  observe(batch: Batch): void {
    this.log.record(batch);
    this.advance(batch.position);
  }

  /** The stream has applied everything up to `position` (a batch, or DDL). */
  advance(position: BinlogPosition): void {
    this.lastApplied = position;
    if (this.#waiters.length === 0) return;
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i];
      if (comparePositions(position, w.at) >= 0) {
        this.#waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /**
   * True when the stream has not yet applied everything the newest fill contains: answering from
   * such a fill next to keys the stream has not brought that far would show half a transaction.
   */
  aheadOfStream(): boolean {
    return this.newestFill !== null && this.lastApplied !== null && comparePositions(this.lastApplied, this.newestFill) < 0;
  }

  /**
   * Resolves once the stream has applied `position` (true), or after `timeoutMs` (false). Without
   * a stream (nothing applied yet) it resolves at once.
   */
  waitApplied(position: BinlogPosition, timeoutMs = 1000): Promise<boolean> {
    if (this.lastApplied === null || comparePositions(this.lastApplied, position) >= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = { at: position, resolve: () => { clearTimeout(timer); resolve(true); } };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }

  /** Changes whenever {@link invalidate} discards the fills out: a fill begun under another is not installed. */
  get generation(): number {
    return this.#generation;
  }

  /** Discards every outstanding fill (DDL, shutdown): their answers are not installed. */
  invalidate(): void {
    this.#generation++;
  }

  /** The binlog starts again in a new numbering: no position seen so far compares. [note: binlog-reset] */
  resetPositions(): void {
    this.invalidate();
    this.log.reset();
    this.lastApplied = null;
    this.newestFill = null;
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  /**
   * Resolves once `node` holds every key in `keys` (or rejects when the upstream fails).
   *
   * A fill from MySQL is first read without locks. A key it filled can be gone before the fill
   * resolves: the batches replayed on top of it ([note: fill-position]) made an operator evict it
   * ([note: evict-not-guess]: a MIN/MAX whose extreme was deleted) — under concurrent writers to
   * that very key, each snapshot fill can meet such a batch. Such a key is asked again with a
   * locking read, which no writer to its rows can overtake.
   */
  async request(node: StatefulOperator, keys: ReadonlyArray<Row>): Promise<void> {
    const st = node.state;
    for (let attempt = 0; attempt < 5; attempt++) {
      const missing = keys.filter((k) => !answers(st, keyString(k, st.fold)));
      if (missing.length === 0) return;
      const plan = this.graph.fillPlan(node);
      switch (plan.kind) {
        case 'mysql': await this.#fromMysql(plan.node, missing, attempt > 0); break;
        case 'ancestor': await this.#fromAncestor(plan, missing); break;
        case 'join': await this.#throughJoin(plan, missing); break;
        case 'parents': await this.#fromParents(plan, missing); break;
      }
    }
    if (keys.some((k) => !answers(st, keyString(k, st.fold)))) throw new Error(`could not fill ${node.describe()}`);
  }

  /**
   * [note: memory-fill] Fills `keys` of `node` now, synchronously, when every state they are
   * computed from answers them without MySQL: it holds them, or it is complete
   * ([note: complete-state]: a key it does not hold is empty). A read of a key its reader does not
   * hold is then answered at once, exact at the stream's position, instead of going upstream (a
   * first read of a key of a grouped aggregate or a join over small tables). Nothing awaits, so no
   * batch runs between the states read and the keys installed. False when some key must be read
   * from MySQL (states above may have been filled from memory meanwhile, which is harmless), and
   * while a fill is ahead of the stream, or any was installed before the stream applied anything
   * (after a start or a binlog reset): keys computed now from states at two positions would show
   * half a transaction ([note: join-fill]). Pinned by test/dataflow/memory-fill.test.ts.
   */
  fillFromMemory(node: StatefulOperator, keys: ReadonlyArray<Row>): boolean {
    // A node filled from MySQL itself has nothing above to compute its missing keys from: the
    // common miss costs this one lookup.
    if (this.graph.fillPlan(node).kind === 'mysql') return false;
    if (this.aheadOfStream() || (this.lastApplied === null && this.newestFill !== null)) return false;
    return this.#fillNow(node, keys);
  }

  #fillNow(node: StatefulOperator, keys: ReadonlyArray<Row>): boolean {
    const st = node.state;
    const missing = keys.filter((k) => !answers(st, keyString(k, st.fold)));
    if (missing.length === 0) return true;
    const plan = this.graph.fillPlan(node);
    switch (plan.kind) {
      case 'mysql':
        return false;
      case 'ancestor':
        if (!this.#fillNow(plan.ancestor, missing.map(plan.toAncestorKey))) return false;
        this.graph.fillFromAncestor(plan.node, missing);
        return true;
      case 'join':
        // The other side's keys follow from the driving side's rows: filled in two rounds at most,
        // the third finds nothing missing.
        for (let round = 0; round < 3; round++) {
          const needs = joinNeeds(plan.join, plan.columns, missing);
          if (needs.length === 0) {
            fillThroughJoin(plan, missing);
            return true;
          }
          if (!needs.every((n) => this.#fillNow(n.node, n.keys))) return false;
        }
        return false;
      case 'parents': {
        const need = plan.node.parentKeys(missing);
        const parents = plan.node.parents.map(statefulNode);
        if (!parents.every((p, i) => this.#fillNow(p, need[i]) && need[i].every((k) => p.state.has(keyString(k, p.state.fold))))) return false;
        plan.node.fillFromParents(missing);
        return true;
      }
    }
  }

  /**
   * [note: complete-state] Fills `node` whole: every row of its input (within `limit`), read in one
   * consistent snapshot at position P and installed only once the binlog stream has applied P, so
   * no fence is needed: what the stream applied past P while the read was out is replayed from the
   * recent log onto every key ([note: fill-position], [note: snapshot-behind-stream]), and a key
   * the stream creates after that is created whole by its first delta. Resolves to what happened:
   * `complete`; `too-large` (more than `limit.rows` rows, or rows of more than `limit.bytes`
   * estimated bytes); `unsupported` (no snapshot positions, or
   * a node that cannot be filled whole); `later` (the stream did not reach P in `waitMs`, the log
   * could not vouch for the read, or the cache was invalidated meanwhile: worth asking again).
   */
  async fillWhole(node: InputNode, limit: { readonly rows: number; readonly bytes: number }, wanted: () => boolean, waitMs = 5_000): Promise<'complete' | 'too-large' | 'unsupported' | 'later'> {
    const st = node.state;
    const read = this.upstream.wholeSnapshot?.bind(this.upstream);
    const sql = st.wholeQuery?.(limit.rows + 1) ?? null;
    if (read === undefined || sql === null || st.fillWhole === undefined) return 'unsupported';
    const token = this.log.begin();
    const generation = this.#generation;
    let result: SnapshotResult | null = null;
    let installing = false;
    try {
      this.stats.upqueries++;
      result = await read(sql);
      if (result === null || result.position === null) return 'unsupported';
      this.log.keepTail = true;
      if (result.rows.length > limit.rows) return 'too-large';
      let bytes = 0;
      for (const r of result.rows) bytes += rowBytes(r);
      if (bytes > limit.bytes) return 'too-large';
      // Installed only once the stream has applied P: no batch at or before P can arrive afterwards.
      const pos = result.position;
      if (!(await this.waitApplied(pos, waitMs)) || this.lastApplied === null || comparePositions(this.lastApplied, pos) < 0) return 'later';
      installing = true;
    } finally {
      if (!installing) this.log.end(token);
    }
    // From here to the end nothing awaits: eviction, the fill and its replay happen between two batches.
    const after = this.log.after(token, result.position as BinlogPosition);
    this.log.end(token);
    if (after === null || generation !== this.#generation || !wanted()) return 'later';
    this.graph.evictAll(node);
    st.fillWhole(result.rows);
    this.stats.rows += result.rows.length;
    if (after.length > 0) this.graph.replay(node, null, after);
    this.stats.replayed += after.length;
    return 'complete';
  }

  async #fromAncestor(plan: AncestorFill, keys: ReadonlyArray<Row>): Promise<void> {
    const ast = plan.ancestor.state;
    await this.request(plan.ancestor, keys.map(plan.toAncestorKey));
    // No batch can run between the ancestor's fill and here (microtasks only), but the caller's
    // retry loop keeps this correct should that ever change.
    if (!keys.every((k) => answers(ast, keyString(plan.toAncestorKey(k), ast.fold)))) return;
    // A key filled from memory meanwhile stays as it is (as in #read).
    const st = plan.node.state;
    const todo = keys.filter((k) => !answers(st, keyString(k, st.fold)));
    if (todo.length > 0) this.graph.fillFromAncestor(plan.node, todo);
  }

  // [note: join-fill] Fill the sides (each its own fenced upquery) until nothing is missing, then
  // compute the node's keys from the side states without awaiting in between.
  async #throughJoin(plan: JoinFill, keys: ReadonlyArray<Row>): Promise<void> {
    for (let round = 0; round < 8; round++) {
      const needs = joinNeeds(plan.join, plan.columns, keys);
      if (needs.length === 0) {
        fillThroughJoin(plan, keys);
        return;
      }
      await Promise.all(needs.map((n) => this.request(n.node, n.keys)));
    }
    throw new Error(`could not fill ${plan.node.describe()} through ${plan.join.describe()}`);
  }

  // A union: each branch fills its own keys (from MySQL, fenced), then the union fills from them
  // in one synchronous step, so no batch runs between the check and the fill.
  async #fromParents(plan: ParentsFill, keys: ReadonlyArray<Row>): Promise<void> {
    const need = plan.node.parentKeys(keys);
    const parents = plan.node.parents.map(statefulNode);
    await Promise.all(parents.map((p, i) => this.request(p, need[i])));
    const held = parents.every((p, i) => need[i].every((k) => p.state.has(keyString(k, p.state.fold))));
    if (held) plan.node.fillFromParents(keys);
  }

  #fromMysql(node: InputNode, keys: ReadonlyArray<Row>, locking: boolean): Promise<unknown> {
    const st = node.state;
    let flight = this.#inFlight.get(node);
    if (flight === undefined) this.#inFlight.set(node, (flight = new Map()));
    const waits: Promise<void>[] = [];
    for (const k of keys) {
      const ks = keyString(k, st.fold);
      const p = flight.get(ks);
      if (p !== undefined) { waits.push(p); continue; }
      const queue = locking ? this.#queuedLocking : this.#queued;
      let q = queue.get(node);
      if (q === undefined) {
        let resolve!: () => void, reject!: (e: unknown) => void;
        const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
        done.catch(() => undefined);
        q = { keys: [], keyStrings: [], locking, done, resolve, reject };
        queue.set(node, q);
        const queued = q;
        setImmediate(() => this.#flush(node, queued));
      }
      q.keys.push(k);
      q.keyStrings.push(ks);
      flight.set(ks, q.done);
      waits.push(q.done);
    }
    return Promise.all(waits);
  }

  #flush(node: InputNode, q: Waiting): void {
    if (this.#running >= (this.upstream.concurrency ?? Infinity)) {
      // [note: miss-batching] Sent when a connection frees; misses of this node join it until then.
      this.#deferred.push({ node, q });
      return;
    }
    const queue = q.locking ? this.#queuedLocking : this.#queued;
    if (queue.get(node) === q) queue.delete(node);
    const parts: Promise<void>[] = [];
    const per = Math.min(this.maxKeysPerQuery, node.state.keysPerFill ?? Infinity);
    for (let i = 0; i < q.keys.length; i += per) parts.push(this.#run(node, q.keys.slice(i, i + per), q.locking));
    Promise.all(parts).then(q.resolve, q.reject).finally(() => {
      const flight = this.#inFlight.get(node);
      if (flight !== undefined) for (const ks of q.keyStrings) if (flight.get(ks) === q.done) flight.delete(ks);
      // A node dropped meanwhile (DROP CACHE) is not kept alive by an empty entry here.
      if (flight?.size === 0) this.#inFlight.delete(node);
    });
  }

  async #run(node: InputNode, keys: Row[], lockingAsked: boolean): Promise<void> {
    this.#running++;
    try {
      await this.#read(node, keys, lockingAsked);
    } finally {
      this.#running--;
      const next = this.#deferred.shift();
      if (next !== undefined) this.#flush(next.node, next.q);
    }
  }

  async #read(node: InputNode, keys: Row[], lockingAsked: boolean): Promise<void> {
    const st = node.state;
    let locking = lockingAsked;
    for (let attempt = 0; ; attempt++) {
      const query = st.fillQuery(keys);
      const token = this.log.begin();
      const generation = this.#generation;
      let result: SnapshotResult;
      try {
        this.stats.upqueries++;
        if (locking) this.stats.locking++;
        result = await this.upstream.snapshotQuery(query.sql, locking);
      } catch (e) {
        this.log.end(token);
        throw e;
      }
      // From here to the end of this block nothing awaits: the fill, the replay of the batches
      // it has not seen and its fence happen between two batches. [note: fill-position]
      const pos = result.position;
      if (result.locked !== true) this.log.keepTail = true;
      const after = pos === null ? [] : this.log.after(token, pos);
      this.log.end(token);
      if (generation !== this.#generation) throw new Error('the cache was invalidated while filling');
      if (after === null) {
        // [note: snapshot-behind-stream] The log cannot vouch for this fill: read it again, with
        // locks, which no such batch can overtake.
        if (attempt < 3) { locking = true; continue; }
        throw new Error('too many binlog events while filling');
      }
      this.stats.rows += result.rows.length;
      // Only the keys the state still misses are installed: one it answers now was filled whole
      // while this read was out ([note: complete-state]), exact at the stream's position, and keys
      // below may have been computed from it since ([note: memory-fill]). Replaced by rows read
      // past the stream, it would be fenced there ([note: fill-position]) and what is below would
      // never see the batches in between. Pinned by test/dataflow/fill-over-held.test.ts.
      const fresh = keys.filter((k) => !answers(st, keyString(k, st.fold)));
      if (fresh.length === 0) return;
      (fresh.length === keys.length ? query : st.fillQuery(fresh)).install(result.rows);
      if (pos !== null) {
        if (this.newestFill === null || comparePositions(pos, this.newestFill) > 0) this.newestFill = pos;
        if (after.length > 0) this.graph.replay(node, fresh, after);
        this.stats.replayed += after.length;
        this.stats.replayedEarlier = this.log.earlier;
        if (this.lastApplied === null || comparePositions(this.lastApplied, pos) < 0) {
          this.graph.fence(node, fresh, pos);
          this.stats.fenced++;
        } else this.graph.fence(node, fresh, null);
      }
      return;
    }
  }
}
