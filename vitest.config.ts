import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';
import { resolve } from 'node:path';

// SWC (not esbuild/oxc) transforms the sources so NestJS gets its decorator metadata.
const alias = {
  '@grove/contracts': resolve(__dirname, 'libs/contracts/src/index.ts'),
  '@grove/datasets': resolve(__dirname, 'libs/datasets/src/index.ts'),
  '@grove/scheduler': resolve(__dirname, 'libs/scheduler/src/index.ts'),
};

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['{apps,libs}/**/*.spec.ts'], environment: 'node' },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['{apps,libs}/**/*.int-spec.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
