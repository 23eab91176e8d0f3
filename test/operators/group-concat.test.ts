import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Aggregate, type AggregateRule } from '../../src/operators/grouped.js';
import { groupConcat } from '../../src/operators/group-concat.js';
import { countStar } from '../../src/operators/aggregate.js';
import { Harness, source, ins, del } from './harness.js';

// Input rows: [id, g, s, t]; GROUP_CONCAT(s, t ORDER BY id SEPARATOR '|').
const rule = (): AggregateRule => groupConcat({ distinct: false, args: [2, 3], orderBy: [{ column: 0, desc: false }], separator: '|', maxLength: 1024 }, ['id', 'g', 's', 't']) as AggregateRule;

function agg(scalar = false): Aggregate {
  return new Aggregate(source(['id', 'g', 's', 't']), { groupBy: [1], keyCount: 1, rules: [countStar() as AggregateRule, rule()], scalar, fold: ['exact'] });
}

describe('GROUP_CONCAT rule ([note: group-concat-refill])', () => {
  it('shows the value the aggregate upquery returned', () => {
    const a = agg();
    a.fillFromAggregates([[1], [2]], [[1, 2, 2, 'ax|by']]);
    assert.deepEqual(a.rows('n1'), [[1, 2, 'ax|by']]);
    assert.deepEqual(a.rows('n2'), []);
  });

  it('evicts the key when a row that takes part changes, and reports it downstream', () => {
    const a = agg();
    a.fillFromAggregates([[1], [2]], [[1, 2, 2, 'ax|by'], [2, 1, 1, 'c']]);
    const h = new Harness(a);
    h.expect([ins(9, 1, 'z', 'w')], [], { evicted: [[1]] });
    assert.equal(a.rows('n1'), undefined);
    h.expect([del(5, 2, 'c', 'd')], [], { evicted: [[2]] });
  });

  it('keeps its value when the changed row has a NULL first argument (MariaDB skips it)', () => {
    const a = agg();
    a.fillFromAggregates([[1]], [[1, 2, 2, 'ax|by']]);
    new Harness(a).expect([ins(9, 1, null, 'w')], [del(1, 2, 'ax|by'), ins(1, 3, 'ax|by')]);
  });

  it('is NULL for a group whose rows all have a NULL argument, and for an empty scalar key', () => {
    const a = agg();
    a.fillFromAggregates([[3]], []);
    new Harness(a).expect([ins(9, 3, null, 'w')], [ins(3, 1, null)]);
    const s = agg(true);
    s.fillFromAggregates([[4]], []);
    assert.deepEqual(s.rows('n4'), [[4, 0, null]]);
  });

  it('refuses to fill from input rows: the node holding it fills only from an aggregate upquery', () => {
    assert.throws(() => new Harness(agg()).seed([[1]], [[1, 1, 'a', 'b']]), /fills only from an aggregate upquery/);
  });
});
