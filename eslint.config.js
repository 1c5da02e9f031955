// @ts-check
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    // Generated files (src/client/api-types.gen.ts): checked by tsc and by a staleness test.
    ignores: [
      '**/dist/**',
      'node_modules/**',
      'coverage/**',
      'test-output/**',
      'bench/out/**',
      '**/*.gen.ts',
      // Compiled by test/integration/webui-consumer.test.ts against generated types.
      'test/fixtures/webui-consumer/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      curly: ['error', 'multi-line'],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    // The boundaries of the architecture (see ARCHITECTURE.md), enforced rather than hoped for.
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    ignores: ['src/sources/docker/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'dockerode',
              message:
                'Only src/sources/docker/ talks to the engine; map its shapes to ours there and import our types instead.',
            },
            { name: 'docker-modem', message: 'Only src/sources/docker/ talks to the engine.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    ignores: ['src/config/config.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'Only src/config/config.ts reads the environment: add the variable to its schema and pass the typed Config down.',
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier
)
