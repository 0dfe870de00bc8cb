import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

/**
 * The layers of core/, lowest first. A folder may import its own files and folders of lower layers, never a
 * higher one: dependencies point inward (UI → contract → services → storage and compute). Checked by
 * eslint-plugin-boundaries below; test/architecture/layer-rule.test.ts plants a back-import to prove it bites.
 */
export const CORE_LAYERS = [
  ['common'],
  ['config', 'logging'],
  ['schema'],
  // audit: the append-only, hash-chained record every service writes its consequential actions to.
  ['quality', 'workspace', 'learner', 'audit'],
  // market estimates the local price index from plain arrays (log prices, dates, the chosen controls): it needs
  // nothing above common and config; training deflates by it, valuation re-inflates with it.
  ['market'],
  ['features', 'onnx'],
  ['inference'],
  ['datasets', 'models'],
  ['ingest', 'training'],
  // interop turns models trained elsewhere (XGBoost JSON, ONNX) into registered models and calibrates them with
  // training's conformal intervals and accuracy figures; nothing above it needs to know which tool a model came from.
  ['interop'],
  ['valuation'],
  // monitoring reads what valuation logged (valuation only knows its own PredictionSink interface) and the models'
  // reference data; nothing below it imports it.
  ['monitoring'],
  // sync pulls models into the models service and pushes reports from the workspace's outbox: a peer of services.
  ['services', 'sync'],
  ['contract'],
  ['jobs'],
  ['api'],
  ['app'],
];
const rank = new Map(CORE_LAYERS.flatMap((layer, i) => layer.map((name) => [name, i])));
const coreFolders = [...rank.keys()];
const below = (name) => coreFolders.filter((other) => rank.get(other) < rank.get(name) || other === name).map((other) => `core/${other}`);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'renderer/dist/**', 'test-results/**', 'release/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Type-aware checks: a promise nobody awaits (an unawaited cleanup, a lost rejection) is a bug.
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
    },
  },
  {
    files: ['core/**/*.ts', 'cli/**/*.ts', 'electron/**/*.ts', 'registry/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/elements': [
        ...coreFolders.map((name) => ({ type: `core/${name}`, pattern: `core/${name}` })),
        { type: 'cli', pattern: 'cli' },
        { type: 'electron', pattern: 'electron' },
        { type: 'registry', pattern: 'registry' },
      ],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [
            ...coreFolders.map((name) => ({ from: { element: { type: `core/${name}` } }, allow: { to: { element: { types: { anyOf: below(name) } } } } })),
            // The shells sit above all of core/ and never import each other.
            {
              from: { element: { type: 'cli' } },
              allow: { to: { element: { types: { anyOf: ['cli', 'registry', ...coreFolders.map((n) => `core/${n}`)] } } } },
            },
            // The registry server is its own program: it shares core's errors, model schemas and the sync wire formats, nothing else.
            {
              from: { element: { type: 'registry' } },
              allow: { to: { element: { types: { anyOf: ['registry', 'core/common', 'core/contract', 'core/models', 'core/sync'] } } } },
            },
            { from: { element: { type: 'electron' } }, allow: { to: { element: { types: { anyOf: ['electron', ...coreFolders.map((n) => `core/${n}`)] } } } } },
          ],
        },
      ],
    },
  },
  {
    // core/ is plain Node: it must never reach up into a shell or the UI.
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*', 'electron-updater'], message: 'core/ is plain Node: no Electron imports.' },
            { group: ['react', 'react-dom', 'react/*', 'chart.js'], message: 'core/ is plain Node: no UI imports.' },
            {
              group: ['**/cli/**', '**/electron/**', '**/renderer/**', '**/registry/**'],
              message: 'Dependencies point inward: core/ never imports a shell or the registry server.',
            },
          ],
        },
      ],
    },
  },
  {
    // The renderer runs in a sandboxed window: it may use core/'s types (the API contract) but never its code.
    files: ['renderer/src/**/*.ts', 'renderer/src/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/core/**', '**/cli/**', '**/electron/**', 'node:*'],
              allowTypeImports: true,
              message: 'The renderer talks to core/ only through api-client.ts; import types only.',
            },
          ],
        },
      ],
    },
  },
);
