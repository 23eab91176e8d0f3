/**
 * Rewrite pass: `a RIGHT JOIN b ON …` as `b LEFT JOIN a ON …` (two tables), so that planner/join.ts
 * plans a left join. Columns are resolved by name, so only `SELECT *` (whose column order would
 * change) is refused; a RIGHT JOIN among more tables is refused too.
 */
import type { AstNode } from '../parse.js';
import { unsupported } from '../unsupported.js';
import { columnsOf } from '../join.js';

const RIGHT = /^RIGHT( OUTER)? JOIN$/i;

/** Returns `ast` itself when it has no RIGHT JOIN. */
export function rightJoins(ast: AstNode): AstNode {
  const from = ast.from as AstNode[] | null;
  if (!Array.isArray(from) || !from.some((f) => typeof f.join === 'string' && RIGHT.test(f.join))) return ast;
  if (from.length !== 2) throw unsupported('FROM', 'RIGHT JOIN among more than two tables');
  if ((ast.columns as AstNode[]).some((c) => columnsOf(c.expr).some((r) => r.column === '*'))) throw unsupported('SELECT', '* over a RIGHT JOIN');
  const [a, b] = from;
  const { join: _join, on, using, ...right } = b;
  return { ...ast, from: [right, { ...a, join: 'LEFT JOIN', on, using }] };
}
