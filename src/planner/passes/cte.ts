/**
 * Rewrite pass: a non-recursive `WITH name [(columns)] AS (SELECT …), … SELECT …` with each
 * reference to a common table expression in a FROM clause replaced by its SELECT as a derived
 * table (aliased as the reference was, or by its name), so the rest of the planner sees the
 * derived tables it already plans (`LEFT JOIN (SELECT article_id, COUNT(*) … GROUP BY article_id)
 * AS vc`). A CTE may use the CTEs before it. What the derived tables may be is the planner's to
 * refuse, as for derived tables written out.
 *
 * [note: cte-names] A CTE named like a table the statement also reads is refused: which of the two
 * a name means depends on where it stands (inside its own definition it is the table), and the
 * grants check of a cache's query (parse.ts qualifiedQuery) leaves CTE names unqualified wherever
 * they stand — so a query where one name means both is never cached. Names are compared as
 * MariaDB compares them only for ASCII (case aside): JavaScript's lower case of `İ` is `i̇`, which
 * MariaDB does not take for it, and MariaDB takes `ſ` for `s`; so a WITH whose CTE names or
 * unqualified table names are not all ASCII is refused.
 */
import type { AstNode } from '../parse.js';
import { unsupported } from '../unsupported.js';

const NOT_ASCII = /[^ -~\t\n\r]/;

interface Cte {
  readonly name: string;
  readonly select: AstNode;
}

/** Returns `ast` itself when it has no WITH. */
export function inlineCtes(ast: AstNode): AstNode {
  const withs = ast.with as AstNode[] | null | undefined;
  if (!Array.isArray(withs) || withs.length === 0) return ast;
  const foreign = [...withs.map((w) => String((w.name as AstNode | undefined)?.value ?? '')), ...baseTables(ast)].find((n) => NOT_ASCII.test(n));
  if (foreign !== undefined) throw unsupported('WITH', `the name ${foreign} (names that are not ASCII may compare otherwise in MariaDB)`);
  const ctes: Cte[] = [];
  for (const w of withs) {
    if (w.recursive === true) throw unsupported('WITH', 'WITH RECURSIVE');
    const name = (w.name as AstNode | undefined)?.value;
    const select = ((w.stmt as AstNode | undefined)?.ast ?? null) as AstNode | null;
    if (typeof name !== 'string' || select === null || select.type !== 'select') throw unsupported('WITH', 'a common table expression that is not a SELECT');
    if (select.with) throw unsupported('WITH', 'WITH inside a common table expression');
    if (ctes.some((c) => c.name.toLowerCase() === name.toLowerCase())) throw unsupported('WITH', `${name} defined twice`);
    // Earlier CTEs are in scope inside this one.
    const body = inlineIn(named(select, w.columns as AstNode[] | null, name), ctes);
    ctes.push({ name, select: body });
  }
  const out = inlineIn({ ...ast, with: null }, ctes);
  const shadowed = baseTables(out).find((t) => ctes.some((c) => c.name.toLowerCase() === t.toLowerCase()));
  if (shadowed !== undefined) throw unsupported('WITH', `${shadowed} names both a common table expression and a table`);
  return out;
}

/** The SELECT with the CTE's column list (`name (a, b) AS (SELECT …)`) as its column aliases. */
function named(select: AstNode, columns: AstNode[] | null, name: string): AstNode {
  if (!Array.isArray(columns) || columns.length === 0) return select;
  const items = select.columns as AstNode[];
  if (!Array.isArray(items) || items.length !== columns.length) throw unsupported('WITH', `${name} names ${columns.length} columns for a SELECT of ${Array.isArray(items) ? items.length : 0}`);
  return { ...select, columns: items.map((c, i) => ({ ...c, as: columns[i].column })) };
}

/**
 * `node` with every FROM reference to one of `ctes` (unqualified, by name) made its derived table,
 * wherever a FROM clause stands (derived tables, UNION branches, subqueries in WHERE or the select
 * list). An inserted CTE body is not walked again: its names were resolved where it was defined.
 */
function inlineIn<T>(node: T, ctes: ReadonlyArray<Cte>): T {
  if (Array.isArray(node)) {
    const mapped = node.map((x: unknown) => inlineIn(x, ctes));
    return (mapped.some((x, i) => x !== node[i]) ? mapped : node) as T;
  }
  if (node === null || typeof node !== 'object') return node;
  // Unchanged nodes are kept as they are: the planner finds a statement's literals by identity.
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    const w = k === 'from' && Array.isArray(v) ? inlineFrom(v as AstNode[], ctes) : inlineIn(v, ctes);
    if (w !== v) (out ??= { ...(node as Record<string, unknown>) })[k] = w;
  }
  return (out ?? node) as T;
}

function inlineFrom(from: AstNode[], ctes: ReadonlyArray<Cte>): AstNode[] {
  const mapped = from.map((f) => inlineRef(f, ctes));
  return mapped.some((x, i) => x !== from[i]) ? mapped : from;
}

function inlineRef(f: AstNode, ctes: ReadonlyArray<Cte>): AstNode {
  if (f.expr || f.db || typeof f.table !== 'string') return inlineIn(f, ctes);
  const name = f.table;
  const cte = ctes.find((c) => c.name.toLowerCase() === name.toLowerCase());
  if (cte === undefined) return inlineIn(f, ctes);
  const { db: _db, table: _table, ...rest } = f;
  return { ...inlineIn(rest, ctes), expr: { ast: cte.select, parentheses: true }, as: typeof f.as === 'string' ? f.as : name };
}

/** The names of the base tables a statement reads in any FROM clause, however deep. */
function baseTables(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const x of node) baseTables(x, out);
    return out;
  }
  if (node === null || typeof node !== 'object') return out;
  const from = (node as AstNode).from;
  if (Array.isArray(from)) for (const f of from as AstNode[]) if (!f.expr && typeof f.table === 'string') out.push(f.table);
  for (const v of Object.values(node)) baseTables(v, out);
  return out;
}
