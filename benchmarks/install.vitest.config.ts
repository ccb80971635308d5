// bench:install's measurement (tests/src/deploy/install.measure.ts) under vitest, which runs the
// deployment tests' TypeScript as the tests do. Started by benchmarks/src/install/main.ts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/src/deploy/install.measure.ts'],
    environment: 'node',
    hookTimeout: 300_000,
    testTimeout: 7_200_000,
  },
});
