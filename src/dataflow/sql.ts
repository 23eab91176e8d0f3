/**
 * SQL text for upqueries: quoting, literals, and the key restriction `… WHERE key IN (…)` that
 * turns a node's subtree into "the rows of these keys".
 */
import type { Value } from '../values.js';
import type { Row } from './delta.js';
import type { SqlShape } from './operator.js';

export function quoteId(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** A value as a MySQL literal that compares with the column it came from as the value itself. */
export function sqlLiteral(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toExponential(17).replace('e+', 'E');
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  let out = "'";
  for (const c of v) out += ESC[c] ?? c;
  return out + "'";
}

const ESC: Record<string, string> = {
  '\0': '\\0', '\n': '\\n', '\r': '\\r', '\b': '\\b', '\t': '\\t', '\x1a': '\\Z', '\\': '\\\\', "'": "\\'", '"': '\\"',
};

/** `expr IN (…)` for one column, `(a = … AND b = …) OR …` for several. */
export function keyRestriction(exprs: ReadonlyArray<string>, keys: ReadonlyArray<Row>): string {
  if (exprs.length === 0) return '1 = 1';
  if (exprs.length === 1) return `${exprs[0]} IN (${keys.map((k) => sqlLiteral(k[0])).join(', ')})`;
  return keys.map((k) => '(' + exprs.map((e, i) => `${e} = ${sqlLiteral(k[i])}`).join(' AND ') + ')').join(' OR ');
}

/** Renders a shape with extra conditions (each wrapped in parentheses) and an optional GROUP BY. */
export function renderSelect(shape: SqlShape, select: ReadonlyArray<string>, extraWhere: ReadonlyArray<string>, groupBy?: ReadonlyArray<string>): string {
  const where = [...shape.where, ...extraWhere];
  let sql = `SELECT ${select.join(', ')} FROM ${shape.from}`;
  if (where.length > 0) sql += ' WHERE ' + where.map((w) => `(${w})`).join(' AND ');
  if (groupBy && groupBy.length > 0) sql += ' GROUP BY ' + groupBy.join(', ');
  return sql;
}

/**
 * `sql` (a SELECT) run with session settings for itself alone: MariaDB's `SET STATEMENT … FOR`
 * (written in a comment MariaDB executes and MySQL skips) and MySQL's `SET_VAR` hint (a comment to
 * MariaDB).
 */
export function withSettings(sql: string, settings: ReadonlyArray<string>): string {
  if (settings.length === 0) return sql;
  const m = /^\s*SELECT\s/i.exec(sql);
  if (m === null) throw new Error('settings are set for a SELECT only');
  return `/*M!100301 SET STATEMENT ${settings.join(', ')} FOR */ SELECT /*+ ${settings.map((s) => `SET_VAR(${s.replace(' = ', '=')})`).join(' ')} */ ${sql.slice(m[0].length)}`;
}
