/**
 * Intervals of one column's values, and sets of them: what a range cache knows
 * ([note: range-state], src/operators/range-reader.ts). An interval is bounded below and above by a
 * value, each included or not, or unbounded (null). A set is a sorted array of disjoint intervals,
 * none touching another (touching ones are merged), so the values it does not contain are exactly
 * its holes. Every function takes the column's comparator (MariaDB's order of its values); none
 * mutates its arguments.
 */
import type { Value } from '../values.js';

/** One end of an interval: a value, included or not; null for no bound (−∞ below, +∞ above). */
export type Bound = { readonly v: Value; readonly incl: boolean } | null;

export interface Interval {
  readonly lo: Bound;
  readonly hi: Bound;
}

export type Compare = (a: Value, b: Value) => number;

export const ALL: Interval = { lo: null, hi: null };

/** Lower bounds in the order of where they start: −∞ first; at one value, included first. */
export function compareLo(a: Bound, b: Bound, cmp: Compare): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const c = cmp(a.v, b.v);
  if (c !== 0) return c;
  return a.incl === b.incl ? 0 : a.incl ? -1 : 1;
}

/** Upper bounds in the order of where they end: +∞ last; at one value, excluded first. */
export function compareHi(a: Bound, b: Bound, cmp: Compare): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const c = cmp(a.v, b.v);
  if (c !== 0) return c;
  return a.incl === b.incl ? 0 : a.incl ? 1 : -1;
}

/** True when `v` is at or above the lower bound `lo`. */
export function aboveLo(v: Value, lo: Bound, cmp: Compare): boolean {
  if (lo === null) return true;
  const c = cmp(v, lo.v);
  return c > 0 || (c === 0 && lo.incl);
}

/** True when `v` is at or below the upper bound `hi`. */
export function belowHi(v: Value, hi: Bound, cmp: Compare): boolean {
  if (hi === null) return true;
  const c = cmp(v, hi.v);
  return c < 0 || (c === 0 && hi.incl);
}

export function contains(iv: Interval, v: Value, cmp: Compare): boolean {
  return aboveLo(v, iv.lo, cmp) && belowHi(v, iv.hi, cmp);
}

/** True when the interval holds no value: its upper bound ends before its lower bound starts. */
export function isEmpty(iv: Interval, cmp: Compare): boolean {
  return endsBefore(iv.hi, iv.lo, cmp);
}

/** True when an interval ending at `hi` ends before one starting at `lo` starts, with no value between them unheld. */
function endsBefore(hi: Bound, lo: Bound, cmp: Compare): boolean {
  if (hi === null || lo === null) return false;
  const c = cmp(hi.v, lo.v);
  return c < 0 || (c === 0 && !(hi.incl && lo.incl));
}

/** True when nothing lies between an interval ending at `hi` and one starting at `lo` (they overlap or touch). */
function meets(hi: Bound, lo: Bound, cmp: Compare): boolean {
  if (hi === null || lo === null) return true;
  const c = cmp(hi.v, lo.v);
  return c > 0 || (c === 0 && (hi.incl || lo.incl));
}

/** The lower bound of what lies just above `hi` (the complement's start). */
export function after(hi: Bound): Bound {
  return hi === null ? null : { v: hi.v, incl: !hi.incl };
}

/** The upper bound of what lies just below `lo`. */
export function before(lo: Bound): Bound {
  return lo === null ? null : { v: lo.v, incl: !lo.incl };
}

/** `set` with `iv` added: the intervals it overlaps or touches merged into one. */
export function addInterval(set: ReadonlyArray<Interval>, iv: Interval, cmp: Compare): Interval[] {
  if (isEmpty(iv, cmp)) return set.slice();
  const out: Interval[] = [];
  let lo = iv.lo, hi = iv.hi;
  let placed = false;
  for (const s of set) {
    if (placed || !meets(s.hi, lo, cmp)) { out.push(s); continue; }
    if (!meets(hi, s.lo, cmp)) {
      out.push({ lo, hi });
      out.push(s);
      placed = true;
      continue;
    }
    if (compareLo(s.lo, lo, cmp) < 0) lo = s.lo;
    if (compareHi(s.hi, hi, cmp) > 0) hi = s.hi;
  }
  if (!placed) out.push({ lo, hi });
  return out;
}

/** `set` without the values of `iv`. */
export function subtractInterval(set: ReadonlyArray<Interval>, iv: Interval, cmp: Compare): Interval[] {
  const out: Interval[] = [];
  for (const s of set) {
    // Apart: kept whole.
    if (endsBefore(s.hi, iv.lo, cmp) || endsBefore(iv.hi, s.lo, cmp)) { out.push(s); continue; }
    const left: Interval = { lo: s.lo, hi: before(iv.lo) };
    const right: Interval = { lo: after(iv.hi), hi: s.hi };
    if (iv.lo !== null && compareLo(s.lo, iv.lo, cmp) < 0 && !isEmpty(left, cmp)) out.push(left);
    if (iv.hi !== null && compareHi(s.hi, iv.hi, cmp) > 0 && !isEmpty(right, cmp)) out.push(right);
  }
  return out;
}

/** `a ∩ b`, or null when they share no value. */
export function intersect(a: Interval, b: Interval, cmp: Compare): Interval | null {
  const lo = compareLo(a.lo, b.lo, cmp) >= 0 ? a.lo : b.lo;
  const hi = compareHi(a.hi, b.hi, cmp) <= 0 ? a.hi : b.hi;
  const iv = { lo, hi };
  return isEmpty(iv, cmp) ? null : iv;
}

/** The interval of `set` holding `v`, or undefined. Binary search: the set is sorted. */
export function holding(set: ReadonlyArray<Interval>, v: Value, cmp: Compare): Interval | undefined {
  let lo = 0, hi = set.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = set[mid];
    if (!aboveLo(v, s.lo, cmp)) hi = mid - 1;
    else if (!belowHi(v, s.hi, cmp)) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/**
 * The part of `want` that `set` covers from `want`'s start on (the covered run a read in ascending
 * order can use), or null when `want`'s start is a hole.
 */
export function coveredStart(set: ReadonlyArray<Interval>, want: Interval, cmp: Compare): Interval | null {
  for (const s of set) {
    if (compareLo(s.lo, want.lo, cmp) > 0) return null;
    if (endsBefore(s.hi, want.lo, cmp)) continue;
    return intersect(s, want, cmp);
  }
  return null;
}

/** The same interval read in descending order: its ends swapped (with the comparator reversed). */
export function mirror(iv: Interval): Interval {
  return { lo: iv.hi, hi: iv.lo };
}

/** A set read in descending order, under the reversed comparator. */
export function mirrorSet(set: ReadonlyArray<Interval>): Interval[] {
  const out: Interval[] = new Array(set.length);
  for (let i = 0; i < set.length; i++) out[set.length - 1 - i] = mirror(set[i]);
  return out;
}

/** How an interval reads in a reason or a test: `[3, 7)`, `(-∞, 'b']`. */
export function describeInterval(iv: Interval): string {
  const lo = iv.lo === null ? '(-∞' : `${iv.lo.incl ? '[' : '('}${String(iv.lo.v)}`;
  const hi = iv.hi === null ? '+∞)' : `${String(iv.hi.v)}${iv.hi.incl ? ']' : ')'}`;
  return `${lo}, ${hi}`;
}
