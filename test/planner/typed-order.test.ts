/**
 * [note: typed-order] The order the planner picks per column type, and the ENUM/SET members read
 * from information_schema's COLUMN_TYPE. (test/views/typed-order.test.ts checks the same orders
 * against MariaDB's answers.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extremumOrderOf, orderOf } from '../../src/planner/build-parts.js';
import { membersOf, type ColumnInfo } from '../../src/planner/schema.js';
import type { Value } from '../../src/values.js';
import '../support/collations.js';

const col = (dataType: string, over: Partial<ColumnInfo> = {}): ColumnInfo => ({ name: 'c', dataType, scale: 0, collation: null, ...over });
const sorted = (c: ColumnInfo, values: Value[], order = orderOf(c)): Value[] => values.slice().sort(order);

describe('orders per column type', () => {
  it('reads ENUM and SET members as MariaDB writes them in COLUMN_TYPE', () => {
    assert.deepEqual(membersOf("enum('a''b','c\\\\d','e,f','Z')"), ["a'b", 'c\\d', 'e,f', 'Z']);
    assert.deepEqual(membersOf("set('x','y')"), ['x', 'y']);
    assert.deepEqual(membersOf("enum('')"), ['']);
    assert.equal(membersOf('varchar(10)'), null);
  });

  it('sorts an ENUM by index, its error value first and NULL before it', () => {
    const e = col('enum', { collation: 'utf8mb4_general_ci', members: ['z', 'a', 'm'] });
    assert.deepEqual(sorted(e, ['m', 'a', null, 'z', '']), [null, '', 'z', 'a', 'm']);
  });

  it('orders an ENUM or SET by its text where MariaDB holds it as a string (a UNION result)', () => {
    const e = col('enum', { collation: 'utf8mb4_bin', members: ['z', 'a', 'm'] });
    assert.deepEqual(sorted(e, ['m', 'a', 'z'], extremumOrderOf(e)), ['a', 'm', 'z']);
  });

  it('sorts a SET by its bits', () => {
    const s = col('set', { collation: 'utf8mb4_general_ci', members: ['z', 'a', 'm'] });
    assert.deepEqual(sorted(s, ['a,m', 'z,m', 'm', 'a', '']), ['', 'a', 'm', 'z,m', 'a,m']);
  });

  it('sorts TIME as a signed duration', () => {
    assert.deepEqual(sorted(col('time'), ['100:00:00', '99:00:00', '-01:00:00', '-10:00:00.5', '-00:00:00.5', '00:00:00']),
      ['-10:00:00.5', '-01:00:00', '-00:00:00.5', '00:00:00', '99:00:00', '100:00:00']);
  });

  it('sorts DECIMAL exactly beyond 2^53 and beyond 40 digits', () => {
    const d = col('decimal', { scale: 1 });
    assert.deepEqual(sorted(d, ['-9007199254740992.0', '-9007199254740993.0', '9007199254740993.0', '9007199254740992.0']),
      ['-9007199254740993.0', '-9007199254740992.0', '9007199254740992.0', '9007199254740993.0']);
    const big = ['1' + '0'.repeat(44) + '.0', '9'.repeat(44) + '.0', '-' + '9'.repeat(44) + '.0'];
    assert.deepEqual(sorted(d, big), [big[2], big[1], big[0]]);
  });

  it('keeps an ENUM persisted without its members loadable (it orders as text until planned again)', () => {
    const e = col('enum', { collation: 'utf8mb4_bin' });
    assert.deepEqual(sorted(e, ['m', 'a', 'z']), ['a', 'm', 'z']);
  });
});
