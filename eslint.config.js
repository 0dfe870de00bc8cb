import tseslint from 'typescript-eslint';

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
    // core/ is plain Node: it must never reach up into a shell or the UI.
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['electron', 'electron/*', 'electron-updater'], message: 'core/ is plain Node: no Electron imports.' },
          { group: ['react', 'react-dom', 'react/*', 'chart.js'], message: 'core/ is plain Node: no UI imports.' },
          { group: ['**/cli/**', '**/electron/**', '**/renderer/**'], message: 'Dependencies point inward: core/ never imports a shell.' },
        ],
      }],
    },
  },
  {
    // The renderer runs in a sandboxed window: it may use core/'s types (the API contract) but never its code.
    files: ['renderer/src/**/*.ts', 'renderer/src/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/core/**', '**/cli/**', '**/electron/**', 'node:*'], allowTypeImports: true, message: 'The renderer talks to core/ only through api-client.ts; import types only.' },
        ],
      }],
    },
  },
);
