/**
 * Which names of a statement are views, read from the upstream, and which tables it reads through
 * them ([note: view-expansion]): at registration and whenever a cache is checked again after DDL.
 */
import type { AstNode } from '../planner/parse.js';
import { tablesRead, type ViewDefinition } from '../planner/index.js';
import { unsupported } from '../planner/unsupported.js';
import type { EngineUpstream } from './engine-upstream.js';
import { SYSTEM_SCHEMAS } from './statement-plan.js';

/** What a statement reads: the views (however deep) and the base tables, each with its database. */
export interface ResolvedTables {
  readonly views: ReadonlyArray<ViewDefinition>;
  readonly tables: ReadonlyArray<{ readonly database: string; readonly table: string }>;
}

/** Views within views are read a level at a time; more levels than this are refused. */
const MAX_LEVELS = 8;

/**
 * The views `ast` reads and the tables it reads through them: each name left after the views
 * known so far are expanded is asked for, until none is a view. `database` resolves unqualified
 * names (a view's own names are qualified). Refuses tables of the system schemas, through a view
 * or not: their rows change without row events.
 */
export async function resolveTables(ast: AstNode, database: string, upstream: Pick<EngineUpstream, 'viewDefinition'>): Promise<ResolvedTables> {
  const views: ViewDefinition[] = [];
  for (let level = 0; ; level++) {
    const tables = tablesRead(ast, { views, database }).map((t) => ({ database: t.db ?? database, table: t.table }));
    const system = tables.find((t) => SYSTEM_SCHEMAS.has(t.database.toLowerCase()));
    if (system !== undefined) throw unsupported('FROM', `${system.database}.${system.table}: system tables do not reach the binlog as row changes`);
    const found: ViewDefinition[] = [];
    for (const t of tables) {
      const view = await upstream.viewDefinition(t.database, t.table);
      if (view !== null && !found.some((v) => v.database === view.database && v.name === view.name)) found.push(view);
    }
    if (found.length === 0) return { views, tables };
    if (level >= MAX_LEVELS) throw unsupported('FROM', `views nested more than ${MAX_LEVELS} deep`);
    views.push(...found);
  }
}
