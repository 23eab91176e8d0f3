/**
 * [note: named-closures] Code that runs for every statement creates no named function expressions.
 * Rotor runs through tsx, whose esbuild transform keeps function names: a function expression that
 * gets a name by where it stands (`const f = () => …`, `{ f: () => … }`, `f = () => …`) is wrapped
 * in a call that defines its `name` property, measured at about a microsecond each — more than the
 * rest of a hit's routing. An anonymous closure (an argument: `xs.map((x) => …)`) is not wrapped,
 * nor is anything made once at a module's or a class's top level. This reads the per-statement
 * files with the TypeScript parser and lists every named closure made inside a function.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** Files whose functions run per statement (relay, hit, prepared execution). */
const PER_STATEMENT = [
  'src/proxy/answer-writer.ts',
  'src/proxy/command-table.ts',
  'src/proxy/prepared-statements.ts',
  'src/proxy/protocol/result-set.ts',
  'src/proxy/protocol/statement-execute.ts',
  'src/proxy/session-state.ts',
  'src/proxy/statement-checks.ts',
  'src/operators/reader.ts',
  'src/planner/fingerprint.ts',
  'src/planner/tokenizer.ts',
  'src/views/cache-commands.ts',
  'src/views/cache-reads.ts',
  'src/views/miss-reads.ts',
  'src/views/privileges.ts',
  'src/views/read-refusals.ts',
  'src/views/route-memo.ts',
  'src/views/router.ts',
];

/** Whether a function expression gets a name from where it stands (ECMAScript's NamedEvaluation). */
function getsName(node: ts.Node): boolean {
  let at = node;
  let parent = node.parent;
  while (ts.isParenthesizedExpression(parent) || ts.isAsExpression(parent) || ts.isSatisfiesExpression(parent) || ts.isNonNullExpression(parent) || ts.isTypeAssertionExpression(parent)) {
    at = parent;
    parent = parent.parent;
  }
  if (ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isBindingElement(parent)) return parent.initializer === at && ts.isIdentifier(parent.name);
  if (ts.isPropertyAssignment(parent)) return parent.initializer === at;
  if (ts.isShorthandPropertyAssignment(parent)) return parent.objectAssignmentInitializer === at;
  if (ts.isBinaryExpression(parent)) return parent.right === at && ts.isIdentifier(parent.left) && parent.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && parent.operatorToken.kind <= ts.SyntaxKind.LastAssignment;
  return false;
}

/** Named closures made inside a function of `source`, as `file:line: text`. */
function namedClosures(file: string, source = readFileSync(file, 'utf8')): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node, inFunction: boolean): void => {
    const closure = ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isClassExpression(node);
    if (closure && inFunction && getsName(node)) {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      found.push(`${file}:${line}: ${node.parent.getText(sf).split('\n')[0]}`);
    }
    const body = ts.isFunctionLike(node) && !ts.isClassStaticBlockDeclaration(node);
    ts.forEachChild(node, (c) => visit(c, inFunction || body));
  };
  visit(sf, false);
  return found;
}

test('[note: named-closures] per-statement code makes no named closures', () => {
  assert.deepEqual(PER_STATEMENT.flatMap((f) => namedClosures(f)), []);
});

test('[note: named-closures] the check tells named closures from anonymous ones and from ones made once', () => {
  const src = [
    'const once = () => 1;',
    'const table = { a: () => 2 };',
    'class C { f = () => 3; m(xs: number[]) { const g = () => 4; return xs.map((x) => x + g()); } }',
    'export function h(x: number) { let k; k = (() => x) as () => number; return { k, v: function () { return x; } }; }',
  ].join('\n');
  assert.deepEqual(namedClosures('t.ts', src).map((s) => s.split(':')[1]), ['3', '4', '4']);
});
