#!/usr/bin/env node
// `telemed`: the production launcher (npm start stays the development default).
//
//   node scripts/telemed.mjs serve [--config FILE]    start the production stack (npm run serve)
//   node scripts/telemed.mjs check [--config FILE]    check the configuration, start nothing
//   node scripts/telemed.mjs secrets                  print fresh secrets for the config file
//   node scripts/telemed.mjs add-user [--config FILE] --role admin|doctor|patient --email E --name N
//                                                     create a user (password on stdin)
//   node scripts/telemed.mjs backup [--config FILE] --out DIR [--key-file FILE] [--passphrase-file FILE]
//                                                     back up the database, attachments and key ring
//   node scripts/telemed.mjs restore [--config FILE] --from DIR [--key-file FILE] [--passphrase-file FILE] [--force]
//                                                     restore a backup into an empty installation
//   node scripts/telemed.mjs migrate status|up|down [--to NAME|none] [--config FILE]
//                                                     the database schema's migrations
//
// The configuration is one env file (--config, else TELEMED_CONFIG, else /etc/telemed/telemed.env)
// overridden by the environment; docs/deployment.md lists every setting, docs/operations.md the
// backup, restore and upgrade steps.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';
import { backup, CommandError, migrate, restore } from './ops-commands.mjs';
import { startPlatform } from './platform.mjs';
import { freshSecrets, loadSettings, productionPlan, ProductionConfigError } from './production.mjs';
import { ROOT } from './setup.mjs';

const USAGE = 'usage: telemed serve|check|secrets|add-user|backup|restore|migrate [--config FILE] (see docs/deployment.md, docs/operations.md)';
const BUILT = ['api/dist/main.js', 'media-server/dist/main.js', 'demo-app/dist/public/index.html'];

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function plan(configFile) {
  const { settings, file } = loadSettings({ file: configFile });
  try {
    return { ...productionPlan(settings), file, settings };
  } catch (error) {
    if (error instanceof ProductionConfigError) fail(`telemed: ${error.message}`, 2);
    throw error;
  }
}

async function serve(configFile) {
  const started = Date.now();
  const { options, publicUrl, dataDir, file, settings } = plan(configFile);
  const missing = BUILT.filter((f) => !fs.existsSync(path.join(ROOT, f)));
  if (missing.length > 0) fail(`telemed: not built (${missing.join(', ')} missing): run \`node scripts/setup.mjs start\` first`);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const workerBin = settings.MEDIASOUP_WORKER_BIN ?? (await ensureMediasoupWorker());
  let stopping = false;
  const platform = await startPlatform({
    ...options,
    workerBin,
    ...(settings.LOG_DIR ? { logDir: settings.LOG_DIR } : {}),
    startTimeoutMs: Number(settings.START_TIMEOUT ?? 60) * 1000,
    // JSON log lines as the services write them, for journald or the container runtime.
    onLog: ({ line }) => process.stdout.write(`${line}\n`),
    // A crashed service is restarted (with backoff); only one that keeps crashing stops the stack.
    supervise: {
      onGiveUp: (service) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`telemed: the ${service} keeps crashing right after it starts; stopping\n`);
        void platform.stop().then(() => process.exit(1));
      },
    },
  });
  process.stderr.write(`telemed: production stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (config: ${file ?? 'environment only'})
  public URL:       ${publicUrl}/
  API:              ${options.apiEnv.API_HOST}:${options.apiPort} (apps, REST, /events)
  media signaling:  ${options.mediaEnv.MEDIA_HOST}:${options.mediaPort} (browsers use ${options.apiEnv.MEDIA_PUBLIC_URL})
  media RTC:        UDP+TCP from ${options.rtcBasePort}, one port per worker
`);
  const shutdown = (signal) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`telemed: ${signal}: draining and stopping\n`);
    void platform.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function addUser(configFile, values) {
  const { options, settings } = plan(configFile);
  for (const key of ['role', 'email', 'name']) if (!values[key]) fail(`telemed add-user: --${key} is required`);
  const password = settings.TELEMED_NEW_PASSWORD ?? fs.readFileSync(0, 'utf8').split('\n')[0];
  const { addUser: add } = await import(path.join(ROOT, 'api/dist/user/add-user.js'));
  const user = await add({
    databaseUrl: settings.DATABASE_URL,
    databaseDir: settings.DATABASE_DIR ?? path.join(options.dataDir, 'db'),
    user: { role: values.role, email: values.email, displayName: values.name, password },
  });
  process.stdout.write(`created ${user.role} ${user.email} (${user.id})\n`);
}

const [command, ...rest] = process.argv.slice(2);
const { values, positionals } = parseArgs({
  args: rest,
  options: {
    config: { type: 'string' }, role: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' },
    out: { type: 'string' }, from: { type: 'string' }, 'key-file': { type: 'string' }, 'passphrase-file': { type: 'string' }, force: { type: 'boolean' }, to: { type: 'string' },
  },
  allowPositionals: command === 'migrate',
});
const opsSettings = () => {
  if (!fs.existsSync(path.join(ROOT, 'api/dist/backup/backup.js'))) fail('telemed: not built (api/dist missing): run `node scripts/setup.mjs start` first');
  return loadSettings({ file: values.config });
};
try {
  if (command === 'serve') await serve(values.config);
  else if (command === 'check') {
    const { file, publicUrl } = plan(values.config);
    process.stdout.write(`telemed: configuration OK (${file ?? 'environment only'}; public URL ${publicUrl})\n`);
  } else if (command === 'secrets') process.stdout.write(`${freshSecrets()}\n`);
  else if (command === 'add-user') await addUser(values.config, values);
  else if (command === 'backup') await backup(opsSettings().settings, values);
  else if (command === 'restore') {
    const { settings, file } = opsSettings();
    await restore(settings, file, values);
  } else if (command === 'migrate') await migrate(opsSettings().settings, positionals[0], values);
  else fail(USAGE, 64);
} catch (error) {
  if (error instanceof CommandError) fail(error.message.startsWith('telemed') ? error.message : `telemed ${command}: ${error.message}`, error.exitCode);
  fail(`telemed ${command}: ${error.message}`);
}
