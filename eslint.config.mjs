import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.aws-sam/**', '.local/**', 'dist/**', 'coverage/**', '*.js', '*.mjs'] },
  { files: ['tests/**/*.mjs'], languageOptions: { globals: { process: 'readonly', URL: 'readonly' } } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
);
