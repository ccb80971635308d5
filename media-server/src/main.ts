import { configFromEnv } from './config.js';
import { MediaServer } from './MediaServer.js';

const server = new MediaServer(configFromEnv());
try {
  await server.start();
} catch (error) {
  server.logger.fatal({ err: error }, 'media server failed to start');
  await server.stop();
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, 'stopping');
    void server.stop().then(() => process.exit(0));
  });
}
