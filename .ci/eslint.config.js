// Lint configuration. It lives in .ci/ because the top level of the repository is fixed;
// `npm run lint` passes it with -c, so patterns below are relative to the repository root.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', 'models/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Configuration is read in one place (operator/README.md, "process/"): every other module
    // gets what it needs from there, so a flag or a variable is never read behind its back.
    files: ['operator/**/*.ts', 'training/**/*.ts'],
    ignores: ['operator/process/config.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read the environment in operator/process/config.ts and pass what is needed down' }],
    },
  },
  {
    files: ['.ci/**/*.js', 'test/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
