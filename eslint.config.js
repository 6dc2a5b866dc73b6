// Lint: typescript-eslint's recommended rules, plus the house rule that components never import
// each other (STYLE.md): what two components share lives in proto/ or common/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const components = ['collector', 'shipper', 'aggregator'];
const boundary = (self) => ({
  files: [`${self}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [...components, 'simulator'].filter((c) => c !== self).map((c) => ({
        group: [`**/${c}/**`, `**/${c}`],
        message: `${self}/ must not import ${c}/: move what both need to proto/ or common/.`,
      })).concat([{ group: ['**/cmd/**'], message: 'only cmd/ wires components together.' }]),
    }],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'proto/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...components.map(boundary),
  {
    // The simulator runs real agents (collector and shipper) against an aggregator cmd/ starts.
    files: ['simulator/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/aggregator/**', '**/aggregator'], message: 'simulator/ must not import aggregator/: cmd/ starts the aggregator (SimCenter).' },
          { group: ['**/cmd/**'], message: 'only cmd/ wires components together.' },
        ],
      }],
    },
  },
  {
    files: ['common/**/*.ts', 'proto/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/collector/**', '**/shipper/**', '**/aggregator/**', '**/simulator/**', '**/cmd/**'], message: 'shared code must not depend on a component.' }],
      }],
    },
  },
);
