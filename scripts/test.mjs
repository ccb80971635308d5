#!/usr/bin/env node
// `npm test`: set up what is missing (including the browsers and servers tests use), build, then
// run every test with vitest. Extra arguments go to vitest (e.g. `npm test -- --project unit`).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, setup } from './setup.mjs';

try {
  const { workerBin } = await setup({ profile: 'test' });
  const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, MEDIASOUP_WORKER_BIN: workerBin },
  });
  process.exit(result.status ?? 1);
} catch (error) {
  console.error(`\nnpm test failed during set-up: ${error.message}`);
  process.exit(1);
}
