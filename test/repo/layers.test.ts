/**
 * The layers of docs/architecture.md hold by tool, not by memory: the `no-restricted-imports`
 * blocks of eslint.config.js reject an import against the direction of the layers, and the import
 * graph of src/ has no cycle.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The `no-restricted-imports` errors ESLint reports for `code` as if it were the file `file`. */
async function restricted(eslint: ESLint, file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rules', () => {
  const eslint = new ESLint({ cwd: root });
  const imports = (spec: string): string => `import type * as m from '${spec}';\nexport type M = typeof m;\n`;

  it('rejects an operator imported by the dataflow', async () => {
    const errors = await restricted(eslint, 'src/dataflow/probe.ts', imports('../operators/join.js'));
    assert.equal(errors.length, 1);
    assert.match(errors[0], /dataflow is the bottom layer/);
  });

  it('rejects every import against the direction of the layers', async () => {
    const wrong: ReadonlyArray<readonly [string, string]> = [
      ['src/dataflow/probe.ts', '../planner/plan.js'],
      ['src/dataflow/probe.ts', '../binlog/stream.js'],
      ['src/operators/probe.ts', '../planner/build.js'],
      ['src/operators/probe.ts', '../binlog/sink.js'],
      ['src/planner/probe.ts', '../views/engine.js'],
      ['src/planner/passes/probe.ts', '../../proxy/read-router.js'],
      ['src/binlog/probe.ts', '../operators/base-table.js'],
      ['src/binlog/probe.ts', '../views/engine.js'],
      ['src/proxy/probe.ts', '../views/router.js'],
      ['src/proxy/probe.ts', '../dataflow/graph.js'],
      ['src/proxy/http-read/probe.ts', '../../views/http-reads.js'],
      ['src/proxy/http-read/probe.ts', '../../upstream/account-session.js'],
      ['src/proxy/admin/probe.ts', '../../views/engine.js'],
      ['src/proxy/protocol/probe.ts', '../read-router.js'],
      ['src/proxy/protocol/probe.ts', '../../planner/fingerprint.js'],
      ['src/views/probe.ts', '../proxy/client-session.js'],
      ['src/upstream/probe.ts', '../views/engine.js'],
      ['src/views/probe.ts', '../index.js'],
    ];
    for (const [file, spec] of wrong) assert.equal((await restricted(eslint, file, imports(spec))).length, 1, `${file} importing ${spec}`);
  });

  it('accepts the imports that follow the layers', async () => {
    const right: ReadonlyArray<readonly [string, string]> = [
      ['src/dataflow/probe.ts', './batch.js'],
      ['src/dataflow/probe.ts', '../values.js'],
      ['src/operators/probe.ts', '../dataflow/operator.js'],
      ['src/planner/probe.ts', '../operators/join.js'],
      ['src/binlog/probe.ts', '../dataflow/batch.js'],
      ['src/proxy/probe.ts', './read-router.js'],
      ['src/proxy/http-read/probe.ts', '../read-router.js'],
      ['src/views/probe.ts', '../upstream/account-session.js'],
      ['src/proxy/admin/probe.ts', '../../views/registration-limit.js'],
      ['src/proxy/protocol/probe.ts', '../../values.js'],
      ['src/views/probe.ts', '../proxy/read-router.js'],
      ['src/views/probe.ts', '../proxy/protocol/column-definition.js'],
      ['src/views/probe.ts', '../binlog/sink.js'],
    ];
    for (const [file, spec] of right) assert.deepEqual(await restricted(eslint, file, imports(spec)), [], `${file} importing ${spec}`);
  });
});

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (entry.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every file of src/ with the files of src/ it imports (type-only imports and `import()` included). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(join(root, 'src'))) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const deps = info.importedFiles
      .map((f) => f.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    graph.set(file, deps);
  }
  return graph;
}

/** One cycle of the graph (its files, the first repeated at the end), or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (file: string): string[] | null => {
    if (onPath.has(file)) return [...path.slice(path.indexOf(file)), file];
    if (done.has(file)) return null;
    path.push(file);
    onPath.add(file);
    for (const dep of graph.get(file) ?? []) {
      const cycle = visit(dep);
      if (cycle !== null) return cycle;
    }
    path.pop();
    onPath.delete(file);
    done.add(file);
    return null;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle !== null) return cycle;
  }
  return null;
}

describe('import graph', () => {
  it('reads every relative import of src/, type-only ones included', () => {
    const graph = importGraph();
    const deps = graph.get(join(root, 'src/dataflow/operator.ts')) ?? [];
    assert.ok(deps.includes(join(root, 'src/dataflow/batch.ts')), 'dataflow/operator.ts imports the type of a position from dataflow/batch.ts');
    for (const targets of graph.values()) for (const t of targets) assert.ok(graph.has(t), `${relative(root, t)} is a file of src/`);
  });

  it('finds a cycle when there is one', () => {
    assert.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
    assert.equal(findCycle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), null);
  });

  it('has no cycle in src/', () => {
    const cycle = findCycle(importGraph());
    assert.equal(cycle, null, `import cycle: ${cycle?.map((f) => relative(root, f)).join(' → ')}`);
  });
});
