#!/usr/bin/env node
// `npm start`: set up what is missing, build, start the platform on its embedded defaults, print
// the URL. A service that crashes is restarted (the other keeps running); one that keeps crashing
// right after each start stops the platform. Ctrl-C stops everything.
import path from 'node:path';
import { loadOrCreateSecrets, startPlatform } from './platform.mjs';
import { ROOT, setup, step } from './setup.mjs';

const started = Date.now();
try {
  const { workerBin } = await setup({ profile: 'start' });
  const dataDir = path.resolve(ROOT, process.env.TELEMED_DATA_DIR ?? 'data');
  const done = step('starting the media server and the API');
  const platform = await startPlatform({
    workerBin,
    secrets: loadOrCreateSecrets(dataDir),
    apiPort: Number(process.env.API_PORT ?? 3000),
    mediaPort: Number(process.env.MEDIA_PORT ?? 4443),
    logDir: path.join(dataDir, 'logs'),
    dataDir,
    // The console shows warnings and errors (restarts included); everything is in data/logs/.
    onLog: ({ service, level, levelValue, msg }) => {
      if (levelValue >= 40) process.stderr.write(`[${service}] ${level}: ${msg}\n`);
    },
    supervise: {
      onGiveUp: (service) => {
        console.error(`the ${service} keeps crashing right after it starts; stopping. See data/logs/${service}.log.`);
        void platform.stop().then(() => process.exit(1));
      },
    },
  });
  done();
  const { apiUrl } = platform;
  // The demo users the API seeds into an empty database in development mode.
  const { DEMO_USERS, DEMO_PASSWORD } = await import('../api/dist/db/demo-users.js');
  const logins = DEMO_USERS.map((u) => `               ${u.role.padEnd(8)} ${u.email.padEnd(22)} ${u.displayName}`).join('\n');
  console.log(`
Telemed is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s).

  App:         ${apiUrl}/
               patients and doctors: sign in as a patient in one browser and a doctor in another
  Admin:       ${apiUrl}/admin/
  Call page:   ${apiUrl}/dev/call.html   (development: a bare SDK call, no sign-in)
  Health:      ${apiUrl}/health
  API:         ${apiUrl}/api/openapi.json
  Demo logins (password "${DEMO_PASSWORD}"):
${logins}
  Logs:        ${path.relative(process.cwd(), path.join(dataDir, 'logs'))}/

Press Ctrl-C to stop.`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    await platform.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (error) {
  console.error(`\nnpm start failed: ${error.message}`);
  process.exit(1);
}
