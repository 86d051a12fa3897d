// Lint rules that catch bugs, not style (prettier owns the layout). Runs in CI via `npm run lint`.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  {
    ignores: [
      'dist/**',
      '**/node_modules/**',
      'examples/angular/.angular/**',
      'examples/*/dist/**',
      'coverage/**',
      'artifacts/**',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      // A `let` assigned once, after closures that read it were made, cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // prom-client's collect() and classes declared inside a constructor need the outer `this` by name.
      '@typescript-eslint/no-this-alias': 'off',
    },
  },
  {
    // Tests read wire JSON freely and may spy on CommonJS module objects.
    files: ['test/**/*.ts', 'marble-tests/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
