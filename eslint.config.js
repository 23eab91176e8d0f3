import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layers: imports point one way (docs/architecture.md). Each block below lists, for the files of
// one folder of src/, the folders those files must not import. Relative specifiers are matched at
// any depth (`../operators/…`, `../../operators/…`); type-only imports count too.

/** A relative import of one of these top-level folders of src/. */
const folders = (...names) => `^(\\.\\./)+(${names.join('|')})/`;

/** The top-level modules only the wiring imports (src/index.ts, src/cli.ts). */
const WIRING = '^(\\.\\./)+(index|cli)\\.js$';

const layer = (files, patterns, ignores = []) => ({
  files,
  ignores,
  rules: { 'no-restricted-imports': ['error', { patterns: [...patterns, { regex: WIRING, message: 'Only src/index.ts and src/cli.ts wire the layers together.' }] }] },
});

const layers = [
  // The wire format: its own files, plus the value and error catalogs every layer shares.
  layer(['src/proxy/protocol/**/*.ts'], [
    { regex: '^\\.\\./(?!\\.\\./(values|errors)\\.js$)', message: 'proxy/protocol is the wire format: it imports only its own files, src/values.ts and src/errors.ts.' },
  ]),
  // Sessions and relay: the engine only through the read-router interface (src/proxy/read-router.ts).
  layer(['src/proxy/**/*.ts'], [
    { regex: folders('dataflow', 'operators', 'planner', 'views', 'binlog', 'upstream'), message: 'proxy talks to the engine only through src/proxy/read-router.ts, which the engine implements.' },
  ], ['src/proxy/protocol/**', 'src/proxy/admin/**']),
  // The admin HTTP API: the engine only through its AdminBackend/CacheAdmin interfaces. The one
  // exception is the registration limiter, a self-contained token bucket the API builds when the
  // engine does not hand it its own.
  layer(['src/proxy/admin/**/*.ts'], [
    { regex: folders('dataflow', 'operators', 'planner', 'binlog', 'upstream'), message: 'the admin API talks to the engine only through the interfaces of src/proxy/admin/app.ts.' },
    { regex: '^(\\.\\./)+views/(?!registration-limit\\.js$)', message: 'the admin API talks to the engine only through the interfaces of src/proxy/admin/app.ts.' },
  ]),
  // Replication stream → batches: pushes into the dataflow, knows nothing above it. (upstream/:
  // Rotor's own conversations with MariaDB, such as the probes the stream makes.)
  layer(['src/binlog/**/*.ts'], [
    { regex: folders('operators', 'planner', 'views', 'proxy'), message: 'binlog depends on dataflow only (batches, positions, deltas), plus src/values.ts, src/errors.ts, src/config.ts and upstream/.' },
  ]),
  // Graph, deltas, batches, positions, state, upqueries: the bottom of the engine.
  layer(['src/dataflow/**/*.ts'], [
    { regex: folders('operators', 'planner', 'binlog', 'views', 'proxy', 'upstream'), message: 'dataflow is the bottom layer: it defines the interfaces operators implement (dataflow/operator.ts) and imports none of them, nor planner, binlog, views, proxy or upstream.' },
  ]),
  // One operator per file, over the dataflow contracts.
  layer(['src/operators/**/*.ts'], [
    { regex: folders('planner', 'binlog', 'views', 'proxy', 'upstream'), message: 'operators import dataflow only (and their own folder, src/values.ts, src/errors.ts).' },
  ]),
  // SQL → plan → dataflow nodes.
  layer(['src/planner/**/*.ts'], [
    { regex: folders('views', 'proxy', 'binlog', 'upstream'), message: 'planner imports dataflow and operators only; views compose the planner with the rest.' },
  ]),
  // Registry, router, persistence, cache commands: composes the layers below, and implements the
  // proxy's read-router interface (answers carry the wire's column definitions).
  layer(['src/views/**/*.ts'], [
    { regex: '^(\\.\\./)+proxy/(?!read-router\\.js$|protocol/)', message: 'views implement src/proxy/read-router.ts and use the wire types of proxy/protocol; the proxy sessions depend on views, never the reverse.' },
  ]),
  // Every conversation of Rotor's own account with MariaDB: below the views that use it.
  layer(['src/upstream/**/*.ts'], [
    { regex: folders('views', 'binlog', 'operators'), message: 'upstream is used by views and binlog, and imports neither (nor operators).' },
    { regex: '^(\\.\\./)+proxy/(?!protocol/)', message: 'upstream uses the wire types of proxy/protocol only, not the proxy sessions.' },
  ]),
  // The primary of --workers N owns no client traffic and no engine: of the layers below it, only
  // the registry's definitions (views/cluster-registry.ts); the workers are whole Rotors.
  layer(['src/cluster/**/*.ts'], [
    { regex: folders('dataflow', 'operators', 'planner', 'binlog', 'upstream', 'proxy'), message: 'the primary of --workers N runs no engine: it imports only views/cluster-registry.ts (worker.ts wires a whole Rotor through src/index.ts).' },
    { regex: '^(\\.\\./)+views/(?!cluster-registry\\.js$)', message: 'the primary of --workers N runs no engine: it imports only views/cluster-registry.ts.' },
  ], ['src/cluster/worker.ts']),
];

export default tseslint.config(
  { ignores: ['node_modules/', 'bench/results/', '.rotor-servers/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layers,
  // Tests take their seeded generator and helpers from test/support; only the tests of the
  // benchmarks' library (test/bench) import bench/.
  {
    files: ['test/**/*.ts'],
    ignores: ['test/bench/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./)+bench/', message: 'tests import helpers from test/support, not bench/ (only test/bench tests bench/lib).' }] }] },
  },
  // The dashboard's page: plain ES modules run by the browser, served as they are.
  {
    files: ['src/proxy/admin/dashboard/**/*.js'],
    languageOptions: {
      globals: { document: 'readonly', window: 'readonly', sessionStorage: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
