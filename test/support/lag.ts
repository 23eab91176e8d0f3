/**
 * A lagging replica for end-to-end tests: the engine applies what the binlog stream delivers (its
 * transactions, DDL and positions) `ms` later, in order.
 */
import type { Engine } from '../../src/views/engine.js';

export function lagTheStream(engine: Engine, ms: number): void {
  const applyBatch = engine.applyBatch.bind(engine);
  const applySchemaChange = engine.applySchemaChange.bind(engine);
  const advance = engine.advance.bind(engine);
  engine.applyBatch = (b) => void setTimeout(() => applyBatch(b), ms);
  engine.applySchemaChange = (c) => void setTimeout(() => applySchemaChange(c), ms);
  engine.advance = (p) => void setTimeout(() => advance(p), ms);
}
