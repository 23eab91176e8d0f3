/**
 * The caches' side of the binlog stream: every upstream transaction applied to the shared graph
 * (synchronously: no await while a batch is applied), DDL handed to the refresh path, positions
 * handed to the upqueries that fence fills by them ([note: fill-position]).
 */
import type { Logger } from 'pino';
import type { Batch, BinlogPosition } from '../dataflow/batch.js';
import type { BinlogSink, SchemaChange } from '../binlog/sink.js';
import type { Graph } from '../dataflow/graph.js';
import type { Upqueries } from '../dataflow/upquery.js';
import type { Row } from '../dataflow/delta.js';
import type { Operator } from '../dataflow/operator.js';
import type { CacheRegistry } from './registry.js';
import type { SchemaRefresh } from './schema-refresh.js';

export class CacheSink implements BinlogSink {
  readonly #graph: Graph;
  readonly #registry: CacheRegistry;
  readonly #upqueries: Upqueries;
  readonly #schema: SchemaRefresh;
  readonly #log: Logger;
  /** Batches applied (the upkeep skips a budget check when none was). */
  batches = 0;

  constructor(graph: Graph, registry: CacheRegistry, upqueries: Upqueries, schema: SchemaRefresh, log: Logger) {
    this.#graph = graph;
    this.#registry = registry;
    this.#upqueries = upqueries;
    this.#schema = schema;
    this.#log = log;
  }

  /** Applies one upstream transaction to every cache. Synchronous. */
  applyBatch(batch: Batch): void {
    this.batches++;
    try {
      this.#graph.applyBatch(batch);
    } catch (e) {
      // A bug must not leave a cache serving something it cannot vouch for.
      this.#log.error({ err: e, position: batch.position }, 'applying a batch failed; evicting every cache');
      this.#upqueries.invalidate();
      for (const c of this.#registry.values()) for (const root of this.#registry.roots(c)) this.#graph.evictAll(root);
    }
    this.#upqueries.observe(batch);
    const evicted = this.#graph.takeRuleEvictions();
    if (evicted.length > 0) this.#refill(evicted);
  }

  // A key an operator cannot update is evicted, never guessed ([note: evict-not-guess]); the key is
  // then re-filled in the background, so a hot key whose MIN/MAX was deleted is warm again by its
  // next read.
  #refill(evicted: ReadonlyArray<{ reader: Operator; keys: ReadonlyArray<Row> }>): void {
    for (const { reader, keys } of evicted) {
      for (const c of this.#registry.values()) {
        if (c.built.reader !== reader || c.status !== 'ready') continue;
        this.#upqueries.request(reader, keys).catch((e: unknown) => this.#log.debug({ err: e }, 'background refill failed'));
      }
    }
  }

  /** DDL on a table a cache reads: drop its state, stop serving it, and re-learn the table. */
  applySchemaChange(change: SchemaChange): void {
    this.#upqueries.advance(change.position);
    this.#schema.applyChange(change);
  }

  /** The stream has applied everything up to `position`. */
  advance(position: BinlogPosition): void {
    this.#upqueries.advance(position);
  }

  /**
   * [note: binlog-reset] The binlog lost the stream's position: nothing held can be vouched for.
   * Every cache is emptied (and refills from MariaDB on demand); fills in flight are discarded.
   */
  reset(reason: string): void {
    this.#upqueries.resetPositions();
    for (const c of this.#registry.values()) this.#registry.empty(c);
    this.#log.warn({ reason, caches: this.#registry.size }, 'every cache was emptied: the binlog lost Rotor\'s position');
  }
}
