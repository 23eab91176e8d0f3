/**
 * Upqueries: turning misses into SQL, and installing the answers at the right binlog position.
 *
 * A miss at a stateful node walks up through stateless parents. If it meets a stateful ancestor,
 * the ancestor is filled first (recursively) and the node then fills from the ancestor's state,
 * synchronously. If it reaches the base tables, the node itself is filled from MySQL by the SQL of
 * its stateless subtree restricted to the missing keys (an aggregate asks for the aggregate, never
 * for the rows it counts). Requests for a key already on its way share that upquery; keys missed
 * in the same turn of the event loop go out together, one statement per node.
 *
 * [note: fill-position] (extends the note in src/dataflow/batch.ts) Each upquery returns its rows
 * with a binlog position P they are exact at (src/upstream/upstream-client.ts): read in a
 * consistent snapshot, P is the snapshot's own binlog position, and every transaction is inside
 * the rows exactly when its commit ends at or before P; read with locks (SERIALIZABLE, then the
 * binlog's end under them), every transaction touching the rows committed before the locks were
 * granted (before P) or waits for them (after P). The binlog stream is applied independently and
 * may be behind or ahead of P:
 *   - batches applied while the upquery was outstanding were dropped for the missing keys
 *     ([note: missing-key]); they are kept in a short {@link RecentLog}, and once the fill is installed those
 *     with position > P are replayed into the node for the filled keys only; those <= P are
 *     already inside the answer;
 *   - batches with position <= P that arrive after the fill (the stream is behind the upquery)
 *     are skipped for the filled keys by a per-key fence in the graph, which lifts once the stream
 *     passes P.
 * So each batch is counted exactly once in a filled key: in the fill, or on top of it.
 * If the log overflowed while the upquery was out, the fill is discarded and retried.
 *
 * The locking read is the default: its rows are installed before any writer to them can commit
 * (the COMMIT that releases its locks is sent after the rows are in), so no batch for the filled
 * rows is ever replayed onto it. A snapshot read (`--fill-read snapshot`) takes no lock, so
 * writers to a filled key commit while its fill is out and their batches are replayed on top of
 * it — and views filled that way have disagreed with MariaDB under concurrent writes (README,
 * Consistency): that replay is not yet exact. One that makes an operator evict the key (a MIN/MAX
 * losing its extreme) undoes the fill, and the key is asked again with a locking read
 * ({@link Upqueries.request}). Pinned by test/binlog/fill-position.test.ts (both reads) and
 * test/views/race.test.ts.
 */
import type { Row } from './delta.js';
import { statefulNode, type InputNode, type StatefulOperator } from './operator.js';
import type { AncestorFill, Graph, JoinFill, ParentsFill } from './graph.js';
import { fillThroughJoin, joinNeeds } from './join-fill.js';
import { keyString } from './state.js';
import { comparePositions, type Batch, type BinlogPosition } from './batch.js';

/** What an upquery returns: its rows and the binlog position they are exact at. */
export interface SnapshotResult {
  readonly rows: ReadonlyArray<Row>;
  /** Null when the upstream has no binlog position to offer (then no batch is replayed). */
  readonly position: BinlogPosition | null;
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
}

/** The batches applied while upqueries are outstanding. */
export class RecentLog {
  #entries: Batch[] = [];
  #firstSeq = 0;
  readonly #open = new Map<number, number>();
  #token = 0;
  #overflowed = new Set<number>();
  constructor(readonly limit = 100_000) {}

  /** Starts covering an upquery; returns its token. */
  begin(): number {
    const t = ++this.#token;
    this.#open.set(t, this.#firstSeq + this.#entries.length);
    return t;
  }

  record(batch: Batch): void {
    if (this.#open.size === 0) return;
    this.#entries.push(batch);
    if (this.#entries.length > this.limit) {
      for (const t of this.#open.keys()) this.#overflowed.add(t);
      this.#firstSeq += this.#entries.length;
      this.#entries = [];
    }
  }

  /** Batches recorded since `token` began, or null if the log no longer covers them. */
  since(token: number): ReadonlyArray<Batch> | null {
    const start = this.#open.get(token);
    if (start === undefined || this.#overflowed.has(token)) return null;
    return this.#entries.slice(start - this.#firstSeq);
  }

  end(token: number): void {
    this.#open.delete(token);
    this.#overflowed.delete(token);
    let min = this.#firstSeq + this.#entries.length;
    for (const s of this.#open.values()) min = Math.min(min, s);
    const drop = min - this.#firstSeq;
    if (drop > 0) { this.#entries = this.#entries.slice(drop); this.#firstSeq = min; }
  }

  get length(): number {
    return this.#entries.length;
  }
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
  /** Batches replayed on top of fills (taken while the upquery was out, after its snapshot). */
  replayed: number;
  /** Fills fenced because the stream was behind their snapshot. */
  fenced: number;
  /** Upqueries read with locks: a key whose snapshot fill did not hold, asked again. */
  locking: number;
}

/** Schedules, batches, shares and installs upqueries. */
export class Upqueries {
  readonly log = new RecentLog();
  readonly stats: UpqueryStats = { upqueries: 0, rows: 0, replayed: 0, fenced: 0, locking: 0 };
  /** Position of the last batch the engine applied, or null before the first. */
  lastApplied: BinlogPosition | null = null;
  readonly #inFlight = new Map<InputNode, Map<string, Promise<void>>>();
  // Keys waiting for the next upquery of their node: snapshot reads, and locking ones.
  readonly #queued = new Map<InputNode, Waiting>();
  readonly #queuedLocking = new Map<InputNode, Waiting>();
  #generation = 0;

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

  /** Discards every outstanding fill (DDL, shutdown): their answers are not installed. */
  invalidate(): void {
    this.#generation++;
  }

  /** The binlog starts again in a new numbering: no position seen so far compares. [note: binlog-reset] */
  resetPositions(): void {
    this.invalidate();
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
      const missing = keys.filter((k) => !st.has(keyString(k, st.fold)));
      if (missing.length === 0) return;
      const plan = this.graph.fillPlan(node);
      switch (plan.kind) {
        case 'mysql': await this.#fromMysql(plan.node, missing, attempt > 0); break;
        case 'ancestor': await this.#fromAncestor(plan, missing); break;
        case 'join': await this.#throughJoin(plan, missing); break;
        case 'parents': await this.#fromParents(plan, missing); break;
      }
    }
    if (keys.some((k) => !st.has(keyString(k, st.fold)))) throw new Error(`could not fill ${node.describe()}`);
  }

  async #fromAncestor(plan: AncestorFill, keys: ReadonlyArray<Row>): Promise<void> {
    const ast = plan.ancestor.state;
    await this.request(plan.ancestor, keys.map(plan.toAncestorKey));
    // No batch can run between the ancestor's fill and here (microtasks only), but the caller's
    // retry loop keeps this correct should that ever change.
    if (keys.every((k) => ast.has(keyString(plan.toAncestorKey(k), ast.fold)))) this.graph.fillFromAncestor(plan.node, keys);
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
    const queue = q.locking ? this.#queuedLocking : this.#queued;
    if (queue.get(node) === q) queue.delete(node);
    const parts: Promise<void>[] = [];
    for (let i = 0; i < q.keys.length; i += this.maxKeysPerQuery) parts.push(this.#run(node, q.keys.slice(i, i + this.maxKeysPerQuery), q.locking));
    Promise.all(parts).then(q.resolve, q.reject).finally(() => {
      const flight = this.#inFlight.get(node);
      if (flight !== undefined) for (const ks of q.keyStrings) if (flight.get(ks) === q.done) flight.delete(ks);
      // A node dropped meanwhile (DROP CACHE) is not kept alive by an empty entry here.
      if (flight?.size === 0) this.#inFlight.delete(node);
    });
  }

  async #run(node: InputNode, keys: Row[], locking: boolean): Promise<void> {
    const st = node.state;
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
      const since = this.log.since(token);
      this.log.end(token);
      if (generation !== this.#generation) throw new Error('the cache was invalidated while filling');
      if (since === null) {
        if (attempt < 3) continue;
        throw new Error('too many binlog events while filling');
      }
      this.stats.rows += result.rows.length;
      query.install(result.rows);
      const pos = result.position;
      if (pos !== null) {
        if (this.newestFill === null || comparePositions(pos, this.newestFill) > 0) this.newestFill = pos;
        const after = since.filter((b) => comparePositions(b.position, pos) > 0);
        if (after.length > 0) this.graph.replay(node, keys, after);
        this.stats.replayed += after.length;
        if (this.lastApplied === null || comparePositions(this.lastApplied, pos) < 0) {
          this.graph.fence(node, keys, pos);
          this.stats.fenced++;
        }
      }
      return;
    }
  }
}
