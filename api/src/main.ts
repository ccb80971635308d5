import { App } from './app.js';
import { configOrExit, stopOnSignals } from '@telemed/server-kit';
import { configFromEnv } from './config.js';
import { SchemaTooNewError } from './db/migrate.js';

const app = new App(configOrExit(() => configFromEnv()));
try {
  await app.start();
} catch (error) {
  if (error instanceof SchemaTooNewError) {
    // Not a crash: an operator's decision (which build to run) is needed. EX_CONFIG.
    app.logger.fatal({ found: error.found, latestKnown: error.latestKnown }, 'database schema is newer than this build');
    process.stderr.write(`telemed api: ${error.message}\n`);
    process.exit(78);
  }
  app.logger.fatal({ err: error }, 'api failed to start');
  process.exit(1);
}

// A graceful stop: not ready at once, in-flight requests finish (API_DRAIN_TIMEOUT), then exit. A
// second signal stops at once.
stopOnSignals(app, {
  draining: (signal) => app.logger.info({ signal, drainTimeoutSeconds: app.config.drainTimeoutSeconds }, 'draining'),
  drained: ({ drained, error }) => {
    if (error) app.logger.error({ err: error }, 'drain failed: stopping');
    else if (drained && drained.unfinished > 0)
      app.logger.warn({ unfinished: drained.unfinished }, 'drain deadline passed: cutting the requests still in flight');
  },
});
