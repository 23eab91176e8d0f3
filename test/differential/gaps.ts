/**
 * Known inexact features of today's code, each behind a named switch. A gap in the `avoided` set
 * keeps the differential generator away from the inputs that trip it, so the test is green on
 * today's code; `ROTOR_DIFF_GAPS=none` turns every one back on (the generator then produces those
 * inputs too), `ROTOR_DIFF_GAPS=-order-enum` turns on just that one, `ROTOR_DIFF_GAPS=none,latin1`
 * keeps only that one avoided.
 */

export const GAPS = {
  // (a) Text under collations.
  /** Accented letters and ß in `_ci` text ('é' = 'e', 'ä' = 'a', 'ß' = 's' or 'ss'): keys, comparisons, grouping, order. */
  'ci-accents': 'accented letters and ß in _ci text columns',
  /** Trailing spaces: every collation here is PAD SPACE ('a' = 'a '), `_bin` ones included. */
  'trailing-spaces': "trailing spaces in text values (PAD SPACE: 'a' = 'a ')",
  /** Non-ASCII letters in latin1 columns (latin1_swedish_ci orders 'ä' after 'z'; the values reach Rotor as utf8mb4). */
  latin1: 'non-ASCII values in latin1 columns',
  /** Punctuation in `utf8mb4_unicode_ci` text: UCA orders it differently from general_ci. */
  'unicode-ci-punctuation': 'punctuation in utf8mb4_unicode_ci text',
  /** `_` (and the rest of [\]^_`, between 'Z' and 'a') in `_ci` text compared or ordered: the collations fold to upper case. */
  'ci-underscore': "'_' in _ci text compared with constants or ordered",
  /** UNION with `col IN (?, …)`: rows of different keys equal under a `_ci` collation both show (README, "Limits"). */
  'ci-union-in-list': 'UNION with IN (?, …) over _ci text',
  /** COUNT(DISTINCT c) of a `_ci` text column counts spellings equal under the collation once. */
  'ci-count-distinct': 'COUNT(DISTINCT) of _ci text',
  // (b) Floating point.
  /** SUM/AVG of FLOAT/DOUBLE: MariaDB sums in double precision in its own order. */
  'float-sum-avg': 'SUM/AVG of FLOAT/DOUBLE columns',
  /** A FLOAT column compared with a constant (MariaDB compares the float widened to double). */
  'float-compare': 'FLOAT columns compared with constants',
  // (c) Ordering.
  /** ENUM orders by member index in ORDER BY / top-k (MIN/MAX and <, > compare its text, as Rotor does). */
  'order-enum': 'ORDER BY of ENUM columns',
  /** TIME, negative values included: ORDER BY / MIN / MAX / top-k. */
  'order-time': 'ordering (ORDER BY, MIN/MAX) of TIME columns',
  /** DECIMAL values beyond 2^53: ORDER BY / MIN / MAX / top-k / range comparisons. */
  'order-big-decimal': 'ordering and range comparisons of DECIMAL values beyond 2^53',
  /** HAVING over MIN/MAX of a text column. */
  'having-text-extremum': 'HAVING over MIN/MAX of text',
} as const;

export type Gap = keyof typeof GAPS;

export const ALL_GAPS = Object.keys(GAPS) as Gap[];

/** The gaps the generator avoids, from `ROTOR_DIFF_GAPS` (default: all of them). */
export function avoidedGaps(spec: string | undefined): Set<Gap> {
  const out = new Set<Gap>(ALL_GAPS);
  if (spec === undefined || spec.trim() === '') return out;
  for (const raw of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (raw === 'none') out.clear();
    else if (raw === 'all') ALL_GAPS.forEach((g) => out.add(g));
    else {
      const name = raw.replace(/^[-+]/, '');
      if (!(name in GAPS)) throw new Error(`ROTOR_DIFF_GAPS: unknown gap ${name} (known: ${ALL_GAPS.join(', ')})`);
      if (raw.startsWith('-')) out.delete(name as Gap);
      else out.add(name as Gap);
    }
  }
  return out;
}
