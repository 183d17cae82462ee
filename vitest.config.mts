import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

// SWC (not esbuild/oxc) transforms the sources so NestJS gets its decorator metadata.
const alias = {
  '@grove/contracts': resolve(root, 'libs/contracts/src/index.ts'),
  '@grove/datasets': resolve(root, 'libs/datasets/src/index.ts'),
  '@grove/proto': resolve(root, 'libs/proto/src/index.ts'),
  '@grove/scheduler': resolve(root, 'libs/scheduler/src/index.ts'),
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
          globalSetup: ['apps/control-plane/src/testing/global-setup.ts'],
        },
      },
    ],
  },
});
