import nx from '@nx/eslint-plugin';

// Module boundaries by Nx tags: apps use shared libs, never each other; shared libs never reach into apps.
export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/node_modules', '**/dist', '**/build', 'native-worker/**', '.venv/**', '.data/**', '**/generated/**'],
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:control-plane', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:agent', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
