/**
 * Inputs that once tripped Rotor, each behind a named switch. A gap in the `avoided` set keeps the
 * differential generator away from the inputs that trip it. By default only the gaps Rotor still
 * has (DEFAULT_AVOIDED: documented limits) are avoided; the others were fixed and stay as switches
 * for narrowing a reproduction. `ROTOR_DIFF_GAPS=all` avoids every one, `ROTOR_DIFF_GAPS=none`
 * none, `ROTOR_DIFF_GAPS=latin1` that one on top of the default, `ROTOR_DIFF_GAPS=-ci-union-in-list`
 * the default without that one.
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
  /** UNION with `col IN (?, …)`: rows of different keys equal under the collation (case, accents, PAD SPACE) both show (README, "Limits"). */
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
  // (d) MariaDB's own answer follows its plan.
  /**
   * `c BETWEEN 'BOB' AND 'Bob'` with the bounds equal under the session's `_ci` collation but not
   * under the column's: read through an index on `c`, MariaDB takes it for `c = 'BOB'` (it compares
   * the bounds as the connection's strings), through a scan it finds 'Bob' too, as Rotor does.
   */
  'between-ci-bounds': "BETWEEN bounds equal under the connection's _ci collation only",
  // (e) BIT values.
  /**
   * A BIT column through MariaDB's temporary table (MIN/MAX, GROUP BY, DISTINCT, UNION): MariaDB
   * sends the BIT's bytes (`MAX(b)` of b'1100001' as 0x0061) or its number as text with an INT's
   * column definition (`97`) as its plan decides, and Rotor's answers mix the two as well.
   */
  'bit-temporary': 'BIT columns in MIN/MAX, GROUP BY, DISTINCT and UNION',
  // (f) YEAR values.
  /**
   * The year 0 (`0000`) through MIN/MAX or UNION: MariaDB prints MAX(yr) as `0` or `0000` as its
   * plan decides (a temporary table keeps the column's ZEROFILL), and a UNION's YEAR 0 as `0000`
   * where Rotor's cached union prints `0` (not understood yet).
   */
  'year-zero': 'the YEAR value 0000',
} as const;

export type Gap = keyof typeof GAPS;

export const ALL_GAPS = Object.keys(GAPS) as Gap[];

/** What Rotor still answers otherwise than MariaDB (README, "Limits"). */
export const DEFAULT_AVOIDED: ReadonlyArray<Gap> = ['ci-union-in-list', 'between-ci-bounds', 'bit-temporary', 'year-zero'];

/** The gaps the generator avoids, from `ROTOR_DIFF_GAPS` (default: {@link DEFAULT_AVOIDED}). */
export function avoidedGaps(spec: string | undefined): Set<Gap> {
  const out = new Set<Gap>(DEFAULT_AVOIDED);
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
