// typescript-eslint's recommended rules over the TypeScript sources; formatting is Prettier's job.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // What the build, the tests and the benchmarks generate (all gitignored) is not linted.
  {
    ignores: [
      'dist/**',
      '.test-build/**',
      '.bench-work/**',
      'node_modules/**',
      'docs/**',
      'coverage/**',
      'examples/fixtures/**',
      'test/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  // A CommonJS file (the `pstore` command, cli/bin.cjs) loads with require().
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
