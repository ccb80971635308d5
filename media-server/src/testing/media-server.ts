// A real media server for tests: one worker, an ephemeral signaling port, RTC ports picked at
// random (test files run side by side), no logs.
import type { MediaServerOptions } from '../config.js';
import { MediaServer } from '../MediaServer.js';

/** Starts a media server for a test file with `options` over the test defaults; stop it in `afterAll`. */
export async function startTestMediaServer(options: MediaServerOptions): Promise<MediaServer> {
  const server = new MediaServer({ port: 0, numWorkers: 1, rtcBasePort: 45000 + Math.floor(Math.random() * 5000), logLevel: 'silent', ...options });
  await server.start();
  return server;
}
