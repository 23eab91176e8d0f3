/**
 * The registry: the caches installed in the dataflow graph, found by id, name or fingerprint, and
 * persisted (cache-store.ts). Installing plans a definition and builds its nodes; removing releases
 * the nodes no other cache shares.
 */
import type { Logger } from 'pino';
import type { Graph } from '../dataflow/graph.js';
import type { Operator } from '../dataflow/operator.js';
import type { Row } from '../dataflow/delta.js';
import { keyString } from '../dataflow/state.js';
import type { Value } from '../values.js';
import { fingerprint, scopedKey, type Fingerprint } from '../planner/fingerprint.js';
import { parseStatement } from '../planner/parse.js';
import { lowerPlan, planStatement, releaseCache, type BuildOptions } from '../planner/index.js';
import { RotorError } from '../errors.js';
import { unsupported } from '../planner/unsupported.js';
import { Cache, type CacheDefinition } from './cache.js';
import type { CacheStore } from './cache-store.js';
import { checkSlots, normalizedSql, sameSlots, tablesOf } from './statement-plan.js';

export class CacheRegistry {
  readonly #graph: Graph;
  readonly #store: CacheStore | null;
  readonly #log: Logger;
  readonly #caches = new Map<string, Cache>();
  readonly #byKey = new Map<string, Cache[]>();
  #generation = 0;

  /**
   * Called as a cache is retired ({@link retire}): what was granted on it (HTTP read tokens, its
   * public mark) ends with it, so a cache registered again under the same id (the same statement
   * over a table created again) starts without them.
   */
  readonly #retired: (c: Cache) => void;
  /** Called as a cache is installed (registered, loaded, planned again): its whole fill starts ([note: complete-state]). */
  readonly #installed: (c: Cache) => void;

  constructor(graph: Graph, store: CacheStore | null, log: Logger, retired: (c: Cache) => void = () => undefined, installed: (c: Cache) => void = () => undefined) {
    this.#graph = graph;
    this.#store = store;
    this.#log = log;
    this.#retired = retired;
    this.#installed = installed;
  }

  get size(): number {
    return this.#caches.size;
  }

  values(): IterableIterator<Cache> {
    return this.#caches.values();
  }

  has(id: string): boolean {
    return this.#caches.has(id);
  }

  /** `c` itself is registered (not merely a cache of its id, registered since). */
  holds(c: Cache): boolean {
    return this.#caches.get(c.id) === c;
  }

  /** The caches registered under a routing key ([note: scoped-key]). */
  candidates(key: string): ReadonlyArray<Cache> | undefined {
    return this.#byKey.get(key);
  }

  /**
   * [note: route-memo] Moves whenever a cache is installed or removed under any routing key (a
   * registration, a drop, a replacement): a route found at one generation holds while it is the
   * current one, without looking its candidate list up again.
   */
  get generation(): number {
    return this.#generation;
  }

  /** A cache registered for the same statement (up to its literals' slots) in `database`, or null. */
  findSame(fp: Fingerprint, database: string): Cache | null {
    const key = scopedKey(fp, database);
    for (const c of key === null ? [] : this.#byKey.get(key) ?? []) {
      if (c.def.database !== database) continue;
      if (c.fp.literals.length === fp.literals.length && c.bind(fp.literals) !== null && sameSlots(c.fp, fp)) return c;
    }
    return null;
  }

  /**
   * Plans `def` and builds its nodes with the upstream's current settings: AVG with its
   * `div_precision_increment`, GROUP_CONCAT with its `group_concat_max_len`.
   */
  install(def: CacheDefinition, settings: BuildOptions): Cache {
    const ast = parseStatement(def.sql);
    const plan = planStatement(ast, tablesOf(def), { views: def.views ?? [], database: def.database }, def.sql);
    // [note: answer-refill] The reader shows the answer's first columns: as many as MariaDB gives.
    if (plan.kind === 'answer' && plan.names.length !== def.columns.length) throw unsupported('SELECT', 'a select list whose columns Rotor cannot count');
    const fp = fingerprint(def.sql);
    if (fp === null) throw new RotorError('ERR_CACHE_PARSE', ['the statement cannot be fingerprinted']);
    checkSlots(plan, fp);
    const built = lowerPlan(this.#graph, plan, def.id, settings);
    const selectText = fp.selectStart >= 0 ? def.sql.slice(fp.selectStart, fp.selectEnd) : '';
    const cache = new Cache(def, plan, fp, selectText, normalizedSql(fp, plan), built);
    cache.settings = settings;
    this.#generation++;
    this.#caches.set(def.id, cache);
    // A new list, never the old one grown: a route remembers the list it was found in. [note: route-memo]
    for (const key of [cache.routingKey, ...cache.alternates.keys()]) this.#byKey.set(key, [...this.#byKey.get(key) ?? [], cache]);
    this.#installed(cache);
    return cache;
  }

  byName(idOrName: string): Cache | null {
    const c = this.#caches.get(idOrName);
    if (c !== undefined) return c;
    for (const x of this.#caches.values()) if (x.def.name === idOrName) return x;
    return null;
  }

  remove(c: Cache): void {
    this.#generation++;
    this.#caches.delete(c.id);
    for (const key of [c.routingKey, ...c.alternates.keys()]) {
      const list = (this.#byKey.get(key) ?? []).filter((x) => x !== c);
      if (list.length > 0) this.#byKey.set(key, list);
      else this.#byKey.delete(key);
    }
    if (c.status === 'dropped') return;
    this.#release(c);
    // A removed cache can still be held (a prepared statement's match, a fill in flight): it
    // answers nothing more, or a miss would fill its released reader, which no batch reaches.
    c.status = 'dropped';
    c.reason = `cache ${c.id} was removed`;
  }

  /**
   * Releases a cache's nodes and frees the state of those that left the graph: a removed cache can
   * stay referenced (a prepared statement, the route memo, a fill in flight) long after it left,
   * and must not keep its rows, which the memory budget no longer counts.
   */
  #release(c: Cache): void {
    c.built.reader.evictAll();
    releaseCache(this.#graph, c.built);
    const inGraph = new Set(this.#graph.nodes());
    for (const n of c.built.nodes) if (!inGraph.has(n)) n.state?.evictAll();
  }

  /**
   * A table the cache reads is gone: its state is freed and its nodes released (shared ones stay
   * while another cache uses them), and it stays listed as `dropped`, with the reason, until it is
   * deleted. It is never checked again: a table created later under the same name is another table.
   */
  retire(c: Cache, reason: string): void {
    if (c.status === 'dropped') return;
    // The nodes that left the graph stay referenced by the listed cache: their state is freed.
    this.#release(c);
    c.status = 'dropped';
    c.reason = reason;
    this.#retired(c);
    // Not brought back by a restart: a table created later under the name is another table.
    void this.unpersist(c);
  }

  /** The persisted definitions (none without a data dir). */
  async load(): Promise<CacheDefinition[]> {
    if (this.#store === null) return [];
    const defs = await this.#store.load();
    if (this.#store.unreadable.length > 0) this.#log.error({ files: this.#store.unreadable, dir: this.#store.dir }, 'persisted caches that could not be read were skipped');
    return defs;
  }

  get persistent(): boolean {
    return this.#store !== null;
  }

  /** Writes a cache's definition to the data dir (its own file: cache-store.ts). */
  async persist(c: Cache): Promise<void> {
    try {
      await this.#store?.put(c.def);
    } catch (e) {
      this.#log.error({ err: e, cache: c.id }, 'could not persist a cache');
    }
  }

  /** Deletes a cache's definition from the data dir. */
  async unpersist(c: Cache): Promise<void> {
    try {
      await this.#store?.delete(c.id);
    } catch (e) {
      this.#log.error({ err: e, cache: c.id }, 'could not delete a persisted cache');
    }
  }

  /**
   * Evicts keys (parameter tuples) or everything from a cache, at its topmost stateful node, so
   * the eviction travels down to the reader and the next read refills from MySQL. Returns how many
   * reader keys were dropped.
   */
  evict(c: Cache, keys: ReadonlyArray<ReadonlyArray<Value>> | 'all'): number {
    const reader = c.built.reader;
    const top = this.topState(c);
    const before = reader.size;
    if (keys === 'all') {
      this.empty(c);
      return before;
    }
    const rows: Row[] = [];
    for (const k of keys) {
      if (k.length !== c.plan.params.length) throw new RotorError('ERR_ADMIN_BAD_REQUEST', [`a key of ${c.id} has ${c.plan.params.length} values, one per parameter`]);
      const bound = c.keys(k.map((v) => [{ v }]), []);
      if (bound !== null) rows.push(...bound);
    }
    const plan = top === reader ? null : this.#graph.fillPlan(reader);
    // Through a join, the side states stay (exact for their keys); the reader's keys go.
    if (plan !== null && plan.kind !== 'join') this.#graph.evict(top, plan.kind === 'ancestor' ? rows.map(plan.toAncestorKey) : rows);
    this.#graph.evict(reader, rows.filter((r) => reader.has(keyString(r, reader.fold))));
    return before - reader.size;
  }

  /** Drops every key a cache holds, at its topmost states, so the eviction travels down to the reader. */
  empty(c: Cache): void {
    for (const root of this.roots(c)) this.#graph.evictAll(root);
    c.built.reader.evictAll();
  }

  /** Where a cache's keys are evicted from so the eviction travels down to its reader. */
  topState(c: Cache): Operator {
    // A union's keys exist only at the union: its branches are keyed by their own parameters.
    for (const n of c.built.nodes) if (n.kind === 'union') return n;
    for (const n of c.built.nodes) if (n.state !== null) return n;
    return c.built.reader;
  }

  /** The cache's stateful nodes with no stateful node above them (one per UNION branch, each side of a join). */
  roots(c: Cache): Operator[] {
    const above = new Map<Operator, boolean>();
    const stateAbove = (n: Operator): boolean => {
      let r = above.get(n);
      if (r === undefined) above.set(n, (r = n.parents.some((p) => p.state !== null || stateAbove(p))));
      return r;
    };
    return c.built.nodes.filter((n) => n.state !== null && !stateAbove(n));
  }
}
