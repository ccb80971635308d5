// A real media server for tests: one worker, an ephemeral signaling port, RTC ports that are free
// (test files run side by side, and browsers and database clients take ephemeral ports), no logs.
import { freePortRange } from '@telemed/test-kit';
import type { MediaServerOptions } from '../config.js';
import { MediaServer } from '../MediaServer.js';

/** The test defaults under `options`; `rtcBasePort` is a block of free ports, one per worker. */
export async function testMediaServerOptions(options: MediaServerOptions): Promise<MediaServerOptions> {
  const numWorkers = Number(options.numWorkers ?? 1);
  return { port: 0, numWorkers, rtcBasePort: await freePortRange(numWorkers), logLevel: 'silent', ...options };
}

/** Starts a media server for a test file with `options` over the test defaults; stop it in `afterAll`. */
export async function startTestMediaServer(options: MediaServerOptions): Promise<MediaServer> {
  const server = new MediaServer(await testMediaServerOptions(options));
  await server.start();
  return server;
}
