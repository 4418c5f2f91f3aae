// Lint rules that keep the architecture readable (see ARCHITECTURE.md): no import cycles, imports only
// point down the layers, small files and functions. Formatting is Prettier's (npm run format).
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The layers of src/, top to bottom; a layer may import only from layers below it (and shared files). */
const LAYERS = ['runtime', 'release', 'serving', 'worker', 'graph', 'kernels', 'cache', 'telemetry'];
// Pairs (target, from) that would point up, or sideways between the main thread and the worker.
const zones = LAYERS.flatMap((target, i) =>
  LAYERS.slice(0, i).map((above) => ({
    target: `./src/${target}`,
    from: `./src/${above}`,
    message: `src/${target} is below src/${above}: imports point down (ARCHITECTURE.md).`,
  })),
).concat([
  {
    target: ['./src/runtime', './src/release', './src/serving'],
    from: './src/worker',
    message: 'The main thread talks to the worker only through src/protocol.ts.',
  },
  { target: './src/cache', from: ['./src/graph', './src/kernels'], message: 'The weight cache stores bytes and plain data; it knows no graphs or kernels.' },
  { target: './src/telemetry', from: ['./src/graph', './src/kernels', './src/cache'], message: 'Telemetry records numbers; it knows nothing of models.' },
  {
    target: './src/isomorphic',
    from: './src',
    except: ['./isomorphic'],
    message: 'src/isomorphic runs in the browser and in the Node collector alike: it imports only from src/isomorphic (src/isomorphic/README.md).',
  },
  {
    target: [
      './src/types.ts',
      './src/verify-types.ts',
      './src/dtypes.ts',
      './src/errors.ts',
      './src/tensors.ts',
      './src/version.ts',
      './src/decoder-io.ts',
      './src/dims.ts',
      './src/synthetic-feeds.ts',
    ],
    from: ['./src/runtime', './src/release', './src/worker', './src/graph', './src/kernels', './src/cache', './src/telemetry'],
    message: 'Shared leaf modules import nothing from the layers.',
  },
]);

/** The DOM's, Workers' and Node's globals switched off (flat config merges globals), but `URL`, which both have. */
const HOST_GLOBALS_OFF = Object.fromEntries(
  Object.keys({ ...globals.browser, ...globals.node, ...globals.worker })
    .filter((name) => !(name in globals.es2021) && name !== 'URL')
    .map((name) => [name, 'off']),
);

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      '.cache/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
      'bench/out/**',
      'test/consumers/**/node_modules/**',
      'test/consumers/**/dist/**',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node, ...globals.worker } },
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.js'],
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones }],
      'import-x/no-duplicates': 'error',
      'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Code shared with the Node collector: the language and `URL`, nothing of the DOM or of Node.
    files: ['src/isomorphic/**/*.js'],
    languageOptions: { globals: HOST_GLOBALS_OFF },
    rules: {
      'no-undef': 'error',
      'import-x/no-nodejs-modules': 'error',
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!\\./)', message: 'src/isomorphic imports only its own files (src/isomorphic/README.md).' }] },
      ],
    },
  },
  {
    // The collector reaches src/ only through src/isomorphic.
    files: ['collector/**/*.mjs'],
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './collector',
              from: './src',
              except: ['./isomorphic'],
              message: 'The collector imports from src/ only through src/isomorphic (src/isomorphic/README.md).',
            },
          ],
        },
      ],
    },
  },
);
