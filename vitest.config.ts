import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{sdk,media-server,api,admin}/src/**/*.test.ts'],
          environment: 'node',
          // Generous: the deadlines only catch a hang. A busy CI machine (load 20-30 on 2 cores)
          // made API tests that take 1-2 s when idle take 20-70 s.
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // A real PostgreSQL 15 and redis-server for the API's tests, started here.
          globalSetup: ['api/src/testing/global-setup.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/src/**/*.test.ts'],
          environment: 'node',
          testTimeout: 90_000,
          hookTimeout: 120_000,
          // Browsers and SFU processes per file: two files at a time suit a 2-core machine.
          maxWorkers: 2,
          // After the unit tests: a failing unit test is the cheaper signal.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
