// ESLint for the project's TypeScript: typescript-eslint's strict and stylistic type-checked rules, zero warnings.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      '.astro/',
      '.cache/',
      'build/',
      'node_modules/',
      'report/',
      'test-results/',
      'playwright-report/',
      '**/*.mjs',
      '**/*.js',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Conflicts with strict's no-non-null-assertion: `as T` on a value known to be set stays, `!` is forbidden.
      '@typescript-eslint/non-nullable-type-assertion-style': 'off',
      // Numbers and booleans read well in messages; objects and unions with undefined still do not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `||` on strings is meant: an empty environment variable or text falls back like an unset one.
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true, boolean: true } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `() => {}` is how a no-op callback or default reads.
      '@typescript-eslint/no-empty-function': ['error', { allow: ['arrowFunctions'] }],
      // node:test's test() and describe() return promises that the runner awaits itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
    },
  },
  {
    // Tests: stubs may be async without awaiting or empty, and a value a test has just asserted may be `!`-ed.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
