/**
 * The pure parts of `npm run bench:coverage`: the corpus of application queries read from
 * bench/corpus/app-queries.sql, refusal reasons grouped so that the same refusal of different
 * tables and columns counts once, and the tallies.
 */
/** One application query of the corpus. */
export interface CorpusEntry {
  /** The ORM or application that sends it (`rails`, `prisma`, `wordpress`, …). */
  readonly source: string;
  /** A short label of its shape (`point pk`, `keyset`, …). */
  readonly shape: string;
  /** The statement as the application sends it, without its trailing `;`. */
  readonly sql: string;
  /** 1-based line of its `-- @source: shape` header. */
  readonly line: number;
}

const HEADER = /^--\s*@([\w-]+):\s*(\S.*?)\s*$/;

/**
 * Reads the corpus: each entry is a `-- @source: shape` line followed by one statement ending in
 * `;` at the end of a line. Other comment lines and blank lines are ignored. Throws (with the
 * line) on a statement without a header, a header without a statement, or an unterminated one.
 */
export function parseCorpus(text: string): CorpusEntry[] {
  const entries: CorpusEntry[] = [];
  let head: { source: string; shape: string; line: number } | null = null;
  let sql: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    const h = HEADER.exec(line);
    if (h) {
      if (head !== null) throw new Error(`corpus line ${head.line}: no statement before the next header (line ${i + 1})`);
      head = { source: h[1], shape: h[2], line: i + 1 };
      continue;
    }
    if (line === '' || (line.startsWith('--') && sql.length === 0)) continue;
    if (head === null) throw new Error(`corpus line ${i + 1}: a statement without a "-- @source: shape" header`);
    sql.push(line);
    if (line.endsWith(';')) {
      entries.push({ ...head, sql: sql.join(' ').replace(/;$/, '').trim() });
      head = null;
      sql = [];
    }
  }
  if (head !== null) throw new Error(`corpus line ${head.line}: ${sql.length ? 'statement not ended by ;' : 'header without a statement'}`);
  return entries;
}

/** Table, view and column names of a schema script (`CREATE TABLE`/`CREATE VIEW` and column lines). */
export function schemaNames(schemaSql: string): Set<string> {
  const names = new Set<string>();
  for (const m of schemaSql.matchAll(/CREATE\s+(?:TABLE|VIEW)\s+`?(\w+)`?/gi)) names.add(m[1].toLowerCase());
  for (const m of schemaSql.matchAll(/^\s+`?(\w+)`?\s+(?:BIGINT|INT|TINYINT|VARCHAR|CHAR|TEXT|LONGTEXT|DATETIME|DECIMAL|ENUM)\b/gim)) names.add(m[1].toLowerCase());
  for (const m of schemaSql.matchAll(/\)\s+AS\s+(\w+)/gi)) names.add(m[1].toLowerCase());
  return names;
}

/**
 * A refusal reason with what differs between queries of one kind taken out, so they group: the
 * common "The query cannot be cached: " prefix, quoted text → `'…'`, the schema's names (`names`,
 * lower case; bare, backticked, or in `db.table`/`table.column`) → `…`, numbers → `N`. Null
 * (registrable) stays null.
 */
export function reasonGroup(reason: string | null, names: ReadonlySet<string>): string | null {
  if (reason === null) return null;
  return reason
    .replace(/^The query cannot be cached: /, '')
    .replace(/'(?:[^'\\]|\\.)*'/g, "'…'")
    .replace(/`([\w$.]+)`/g, '$1')
    .replace(/\b[\w$]+(?:\.[\w$]+)+\b/g, (m) => (m.split('.').some((p) => names.has(p.toLowerCase())) ? '…' : m))
    .replace(/\b[\w$]+\b/g, (w) => (names.has(w.toLowerCase()) ? '…' : w))
    .replace(/\b\d+(?:\.\d+)?\b/g, 'N')
    .replace(/…(?:\s*,\s*…)+/g, '…')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The families of refusal issue 17 names, each a pattern over a {@link reasonGroup}; the first
 * that matches names the family, "other" when none does.
 */
const FAMILIES: ReadonlyArray<readonly [string, RegExp]> = [
  ['LIMIT without ORDER BY', /LIMIT without ORDER BY/],
  ['range, OR and other non-equality parameters', /parameter inside OR\/NOT|non-equality|parameter outside/],
  ['DATE/TIME columns in WHERE (IS NULL included)', /DATE\/TIME/],
  ['subqueries (EXISTS, NOT EXISTS, IN, scalar)', /subquer|EXISTS|parameters in ON or inside a derived table/],
  ['derived tables', /derived table/],
  ['expressions and functions', /expression|function|operator|neither grouped nor aggregated/],
  ['self-joins', /self-join/],
  ['views', /a view/],
  ['WITH RECURSIVE', /WITH RECURSIVE/],
  ['SELECT without a table', /without a table/],
  ['locking reads', /locking read/],
];

/** The family of a grouped refusal reason (see {@link FAMILIES}). */
export function reasonFamily(group: string): string {
  return FAMILIES.find(([, re]) => re.test(group))?.[0] ?? 'other';
}

/** What EXPLAIN CACHE answered for one entry under one Rotor. */
export interface Outcome {
  readonly cacheable: boolean;
  /** Registration's refusal, or an error (the statement did not reach the dry run); null when cacheable. */
  readonly reason: string | null;
}

/** Registrable count over a set of outcomes. */
export interface Share {
  readonly registrable: number;
  readonly total: number;
}

/** Registrable share per source, in the order sources first appear, and overall. */
export function sharesBySource(entries: ReadonlyArray<CorpusEntry>, outcomes: ReadonlyArray<Outcome>): { overall: Share; bySource: Map<string, Share> } {
  const bySource = new Map<string, { registrable: number; total: number }>();
  let registrable = 0;
  entries.forEach((e, i) => {
    const s = bySource.get(e.source) ?? { registrable: 0, total: 0 };
    s.total++;
    if (outcomes[i].cacheable) {
      s.registrable++;
      registrable++;
    }
    bySource.set(e.source, s);
  });
  return { overall: { registrable, total: entries.length }, bySource };
}

/**
 * Refused entries grouped by {@link reasonGroup} (or, with `family`, by {@link reasonFamily} of
 * it), the largest group first (then by name).
 */
export function refusalGroups(
  entries: ReadonlyArray<CorpusEntry>, outcomes: ReadonlyArray<Outcome>, names: ReadonlySet<string>, family = false,
): Array<{ group: string; entries: CorpusEntry[] }> {
  const groups = new Map<string, CorpusEntry[]>();
  entries.forEach((e, i) => {
    const r = reasonGroup(outcomes[i].reason, names);
    const g = r === null || !family ? r : reasonFamily(r);
    if (outcomes[i].cacheable || g === null) return;
    groups.set(g, [...(groups.get(g) ?? []), e]);
  });
  return [...groups].map(([group, list]) => ({ group, entries: list })).sort((a, b) => b.entries.length - a.entries.length || a.group.localeCompare(b.group));
}

/** `n / total` as a percentage with one decimal. */
export function percent(s: Share): string {
  return s.total === 0 ? '–' : `${(Math.round((1000 * s.registrable) / s.total) / 10).toFixed(1)} %`;
}
