/** Rewriting the column references of a query over a derived table, for the passes that merge one. */
import type { AstNode } from '../parse.js';
import { unsupported } from '../unsupported.js';

/**
 * A copy of `node` (part of `clause`) with every column reference replaced by what `ref` gives for
 * it; the parts it does not change are shared with `node`. A subquery is refused: it has its own
 * scope, which a rewrite of the outer query's names would read wrongly.
 */
export function mapColumnRefs(node: unknown, clause: string, ref: (n: AstNode) => AstNode): unknown {
  if (Array.isArray(node)) return node.map((x) => mapColumnRefs(x, clause, ref));
  if (node === null || typeof node !== 'object') return node;
  const n = node as AstNode;
  if (n.type === 'column_ref') return ref(n);
  if (n.ast !== undefined || n.type === 'select') throw unsupported(clause, 'a subquery over a derived table');
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(n)) {
    const w = mapColumnRefs(v, clause, ref);
    if (w !== v) (out ??= { ...n })[k] = w;
  }
  return out ?? n;
}
