import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layering from './scripts/eslint/layering.mjs';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', '.test-artifacts/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', __dirname: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // Imports across a forbidden boundary (extension -> server, client -> server, protocol -> anything of
  // ours, ...) fail the lint; test/unit/lint-boundaries.test.ts proves the rule catches them.
  { files: ['**/*.{ts,tsx}'], plugins: { layering }, rules: { 'layering/boundaries': 'error' } },
);
