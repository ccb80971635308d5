import { configOrExit, stopOnSignals } from '@telemed/server-kit';
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
stopOnSignals(server, {
  draining: (signal) => server.logger.info({ signal, drainTimeoutSec: server.config.drainTimeoutSec }, 'draining: no new rooms'),
  drained: ({ drained, error }) => {
    if (error) server.logger.error({ err: error }, 'drain failed: stopping');
    else if (drained)
      server.logger.info({ openRooms: drained.openRooms }, drained.openRooms > 0 ? 'drain deadline passed: closing the rooms still open' : 'drained: stopping');
  },
});
