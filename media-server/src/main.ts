import { configOrExit } from '@telemed/server-kit';
import { configFromEnv } from './config.js';
import { MediaServer } from './MediaServer.js';

const server = new MediaServer(configOrExit(() => configFromEnv()));
try {
  await server.start();
} catch (error) {
  server.logger.fatal({ err: error }, 'media server failed to start');
  await server.stop();
  process.exit(1);
}

// A graceful stop: no new rooms, running calls go on until they end or MEDIA_DRAIN_TIMEOUT, then
// exit. A second signal stops at once.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      void server.stop().then(() => process.exit(0));
      return;
    }
    stopping = true;
    server.logger.info({ signal, drainTimeoutSec: server.config.drainTimeoutSec }, 'draining: no new rooms');
    void server.drain().then(async ({ openRooms }) => {
      server.logger.info({ openRooms }, openRooms > 0 ? 'drain deadline passed: closing the rooms still open' : 'drained: stopping');
      await server.stop();
      process.exit(0);
    });
  });
}
