import { App } from './app.js';
import { configFromEnv } from './config.js';

const app = new App(configFromEnv());
try {
  await app.start();
} catch (error) {
  app.logger.fatal({ err: error }, 'api failed to start');
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void app.stop().then(() => process.exit(0));
  });
}
