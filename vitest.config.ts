import { configDefaults, defineConfig } from 'vitest/config';

/**
 * End-to-end files whose calls keep both cores busy on their own: three or more publishing pages,
 * or Chromium and Firefox in one call. They run one at a time after the other e2e files, alone:
 * beside another call file on a 2-core machine their browsers starved (a four-Firefox room did
 * not connect its fourth page in 20 s; the mixed call timed out).
 */
const HEAVY_E2E = [
  'tests/src/calls/group-call.test.ts',
  'tests/src/apps/group-call.test.ts',
  'tests/src/browsers/mixed-call.test.ts',
  'tests/src/browsers/app-call-mixed.test.ts',
  'tests/src/browsers/firefox-screen-share.test.ts',
  // Four video participants over two media nodes.
  'tests/src/scale/span.test.ts',
  // Two browsers in network namespaces, links shaped by tc and nftables.
  'tests/src/network/impaired-call.test.ts',
  // Namespace test bed: the production stack and four browsers (two Chromium, two Firefox).
  'tests/src/deploy/netbed/network-paths.test.ts',
  // The compose stack's six containers and a Chromium call through them: 66-86 s with the images
  // cached (2-5 s to check them); a cold build of the images first adds ~5 min (320 s at load 15).
  'tests/src/deploy/containers.test.ts',
];

const e2e = {
  environment: 'node',
  // Deadlines for a hang, not speed checks: a file's set-up (platform, browser, pages joined) takes
  // ~10 s when idle and minutes on a loaded CI machine. Waits inside tests have their own deadlines.
  testTimeout: 180_000,
  hookTimeout: 240_000,
} as const;

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{sdk,media-server,api,admin,server-kit,server-sdk}/src/**/*.test.ts'],
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
          ...e2e,
          name: 'e2e',
          include: ['tests/src/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...HEAVY_E2E],
          // Browsers and SFU processes per file: two files at a time suit a 2-core machine.
          maxWorkers: 2,
          // After the unit tests: a failing unit test is the cheaper signal.
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...e2e,
          name: 'e2e-heavy',
          include: HEAVY_E2E,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
