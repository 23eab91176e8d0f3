/**
 * A small sqllogictest-style runner. A file is a sequence of records separated by blank lines:
 *
 *   statement ok          SQL run on MariaDB directly (writes between reads)
 *   cache [name]          registers the SELECT that follows (with ? parameters) as a cache
 *   query                 asks Rotor, after the binlog has drained and no cache is being checked
 *                         again (see ready), and compares with MariaDB's
 *                         own answer (in order when the query has ORDER BY, else as multisets);
 *                         asked twice: the second answer MUST come from the view (a hit)
 *   query upstream        the statement MUST go upstream (the reason is not checked)
 *   prepared V…           as `query`, for the statement prepared and executed with the values V
 *                         (space-separated; integers are numbers, anything else a string)
 *   evict all | evict K…  evicts the last cache (or the keys given, comma-separated values)
 *   ready                 waits until the binlog is drained and no cache is being checked again
 *                         (after DDL: planned again, or retired)
 *
 * Lines starting with `#` are comments.
 */
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { canonical, type EngineFixture } from '../views/support.js';

export interface LogicResult {
  readonly queries: number;
  readonly hits: number;
}

interface Record {
  readonly kind: string;
  readonly arg: string;
  readonly sql: string;
  readonly line: number;
}

function records(text: string): Record[] {
  const out: Record[] = [];
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const l = lines[i].trim();
    if (l === '' || l.startsWith('#')) { i++; continue; }
    const [kind, ...rest] = l.split(/\s+/);
    const start = i + 1;
    const body: string[] = [];
    i++;
    while (i < lines.length && lines[i].trim() !== '') {
      if (!lines[i].trim().startsWith('#')) body.push(lines[i]);
      i++;
    }
    out.push({ kind, arg: rest.join(' '), sql: body.join('\n'), line: start });
  }
  return out;
}

export async function runLogicFile(file: string, f: EngineFixture): Promise<LogicResult> {
  let queries = 0, hits = 0;
  let lastCache: string | null = null;
  for (const r of records(readFileSync(file, 'utf8'))) {
    const where = `${file}:${r.line}`;
    switch (r.kind) {
      case 'statement':
        await f.db.admin.query(r.sql);
        break;
      case 'cache': {
        const info = await f.engine.register({ sql: r.sql, ...(r.arg ? { name: r.arg } : {}) });
        lastCache = info.id;
        break;
      }
      case 'evict': {
        assert.ok(lastCache, `${where}: evict before any cache`);
        if (r.arg === 'all') f.engine.evict(lastCache, 'all');
        else f.engine.evict(lastCache, r.arg.split(/\s+/).map((k) => k.split(',').map((v) => (/^-?\d+$/.test(v) ? Number(v) : v))));
        break;
      }
      case 'ready': {
        await settled(f, where);
        break;
      }
      case 'query': {
        // A cache registered just after its table was created may be checked again once the
        // CREATE reaches the binlog (it goes upstream meanwhile): reads wait until that is done.
        await settled(f, where);
        if (r.arg === 'upstream') {
          const a = await f.ask(r.sql);
          assert.equal(a.source, 'upstream', `${where}: served from a cache, not relayed: ${r.sql}`);
          break;
        }
        const ordered = /\bORDER\s+BY\b/i.test(r.sql);
        const truth = canonical((await f.upstream(r.sql)).rows, ordered);
        for (let round = 0; round < 2; round++) {
          const a = await f.ask(r.sql);
          assert.notEqual(a.source, 'upstream', `${where}: went upstream (${a.reason}): ${r.sql}`);
          assert.equal(canonical(a.rows ?? [], ordered), truth, `${where}: cached answer differs from MariaDB's for ${r.sql}`);
          if (round === 1) {
            assert.equal(a.source, 'hit', `${where}: second read not served from the view`);
            hits++;
          }
        }
        queries++;
        break;
      }
      case 'prepared': {
        await settled(f, where);
        const params = r.arg.split(/\s+/).filter((v) => v !== '').map((v) => (/^-?\d+$/.test(v) ? Number(v) : v));
        const ordered = /\bORDER\s+BY\b/i.test(r.sql);
        const truth = canonical((await f.upstreamPrepared(r.sql, params)).rows, ordered);
        for (let round = 0; round < 2; round++) {
          const a = await f.askPrepared(r.sql, params);
          assert.notEqual(a.source, 'upstream', `${where}: went upstream (${a.reason}): ${r.sql} with ${r.arg}`);
          assert.equal(canonical(a.rows ?? [], ordered), truth, `${where}: cached answer differs from MariaDB's for ${r.sql} with ${r.arg}`);
          if (round === 1) {
            assert.equal(a.source, 'hit', `${where}: second execution not served from the view`);
            hits++;
          }
        }
        queries++;
        break;
      }
      default:
        throw new Error(`${where}: unknown record ${r.kind}`);
    }
  }
  return { queries, hits };
}

/** The binlog drained and no cache being checked again (bounded: a cache stuck there fails). */
async function settled(f: EngineFixture, where: string): Promise<void> {
  await f.drain();
  for (let i = 0; f.engine.list().some((c) => c.status === 'invalidated'); i++) {
    assert.ok(i < 200, `${where}: caches still checked again: ${JSON.stringify(f.engine.list().map((c) => [c.sql, c.status, c.reason]))}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}
