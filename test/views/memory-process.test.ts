/**
 * [note: memory-process] The budget follows what the process holds besides the state: past 1.5×
 * the limit it collects the garbage, and shrinks the state's target by what is live besides it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ownProcessMemory, type ProcessMemory } from '../../src/views/memory-budget.js';
import { BUDGET_LIMIT as LIMIT, budgetFixture, type EngineFixture } from './support.js';

/** A process holding the state plus `live` bytes and `garbage` bytes a collection frees. */
class FakeProcess implements ProcessMemory {
  live = 0;
  garbage = 0;
  collections = 0;
  state = (): number => 0;
  readonly collectEveryMs = 0;
  held(): number {
    return 1_000_000 + this.state() + this.live + this.garbage;
  }
  readonly collect = (): void => {
    this.collections++;
    this.garbage = 0;
  };
}

describe('memory budget following the process', () => {
  const proc = new FakeProcess();
  let f: EngineFixture;

  before(async () => {
    f = await budgetFixture('views_budget_process', false, { processMemory: proc });
    proc.state = () => f.engine.budget.stateBytes;
  });
  after(async () => {
    await f?.close();
  });

  const read = async (from: number, to: number): Promise<void> => {
    for (let i = from; i <= to; i++) {
      const a = await f.ask(`SELECT body FROM post WHERE id = ${i}`);
      assert.notEqual(a.source, 'upstream', a.reason ?? '');
    }
  };

  it('keeps the state to the limit while the process is under 1.5× the limit', async () => {
    await f.engine.register({ sql: 'SELECT body FROM post WHERE id = ?' });
    await read(1, 100);
    proc.garbage = 0.9 * LIMIT;
    f.engine.checkMemory();
    const m = f.engine.memoryStatus();
    assert.equal(proc.collections, 0);
    assert.equal(m.targetBytes, LIMIT);
    assert.equal(m.evictions, 0);
  });

  it('collects the garbage when the process passes 1.5× the limit, and keeps the limit when that was all', async () => {
    proc.garbage = 3 * LIMIT;
    f.engine.checkMemory();
    assert.equal(proc.collections, 1);
    assert.equal(proc.garbage, 0);
    assert.equal(f.engine.memoryStatus().targetBytes, LIMIT);
    assert.equal(f.engine.memoryStatus().evictions, 0);
  });

  it('shrinks the state\'s target by what the process holds live besides it, and gives it back once the process is under', async () => {
    await read(101, 1000);
    f.engine.checkMemory();
    const before = f.engine.memoryStatus();
    assert.equal(before.targetBytes, LIMIT);
    assert.ok(before.stateBytes > LIMIT / 2, `the state fills its limit (${before.stateBytes})`);
    proc.live = 1.1 * LIMIT;
    const collections = proc.collections;
    f.engine.checkMemory();
    const m = f.engine.memoryStatus();
    assert.equal(proc.collections, collections + 1);
    assert.ok(m.targetBytes < 0.5 * LIMIT && m.targetBytes >= 0.25 * LIMIT, `target ${m.targetBytes}`);
    assert.ok(m.stateBytes <= m.targetBytes, `state ${m.stateBytes} under the target ${m.targetBytes}`);
    assert.ok(m.evictions > before.evictions);
    // Answers stay exact: an evicted key is a hole, filled again.
    await read(1, 50);
    proc.live = 0;
    f.engine.checkMemory();
    assert.equal(f.engine.memoryStatus().targetBytes, LIMIT);
  });

  it('can collect this process\'s garbage without --expose-gc', () => {
    const own = ownProcessMemory();
    assert.equal(typeof own.collect, 'function');
    assert.ok(own.held() > 0);
    own.collect?.();
  });
});
