// bench:netjoin's measurement (tests/src/deploy/netbed/netjoin.measure.ts) under vitest, which runs
// the test bed's TypeScript as the tests do. Started by benchmarks/src/netjoin/main.ts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/src/deploy/netbed/netjoin.measure.ts'],
    environment: 'node',
    hookTimeout: 900_000,
    testTimeout: 3_600_000,
  },
});
