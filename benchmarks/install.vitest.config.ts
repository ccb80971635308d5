// bench:install's measurement (tests/src/deploy/install.measure.ts, or with INSTALL_PATH=containers
// install-containers.measure.ts) under vitest, which runs the deployment tests' TypeScript as the
// tests do. Started by benchmarks/src/install/main.ts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [process.env.INSTALL_PATH === 'containers' ? 'tests/src/deploy/install-containers.measure.ts' : 'tests/src/deploy/install.measure.ts'],
    environment: 'node',
    hookTimeout: 300_000,
    testTimeout: 7_200_000,
  },
});
