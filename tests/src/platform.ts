import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPlatform, type Platform, type PlatformOptions } from '../../scripts/platform.mjs';
import { freePortRange } from '@telemed/test-kit';

export type { Platform };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Starts the built platform (media server + API) on free loopback ports for one test file. */
export async function startTestPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const workerBin = process.env.MEDIASOUP_WORKER_BIN;
  if (!workerBin) throw new Error('MEDIASOUP_WORKER_BIN is not set: run the tests with `npm test`');
  const numWorkers = options.numWorkers ?? 2;
  const base = await freePortRange(2 + numWorkers);
  const errors: string[] = [];
  // Each platform gets its own PGlite database, removed when it stops.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-e2e-'));
  const platform = await startPlatform({
    dataDir,
    workerBin,
    apiPort: base,
    mediaPort: base + 1,
    rtcBasePort: base + 2,
    numWorkers,
    mode: 'test',
    logLevel: 'warn',
    // A fresh platform is healthy in ~1.7 s on a quiet machine, but took 16 s at load average 20
    // and over 60 s at load 30 (the e2e hookTimeout leaves room for the browsers after it).
    startTimeoutMs: 150_000,
    logDir: path.join(ROOT, 'test-results', 'logs', `${path.basename(process.env.VITEST_POOL_ID ?? 'run')}-${base}`),
    onLog: (line) => {
      if (line.levelValue >= 50) errors.push(`[${line.service}] ${line.msg}`);
    },
    ...options,
  });
  const stop = platform.stop;
  platform.stop = async () => {
    await stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return Object.assign(platform, { serverErrors: errors });
}
