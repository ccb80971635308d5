#!/usr/bin/env node
// `telemed`: the production launcher (npm start stays the development default).
//
//   node scripts/telemed.mjs serve [--config FILE]    start the production stack (npm run serve)
//   node scripts/telemed.mjs run api|media [--config FILE]
//                                                     one service in this process (a container's command)
//   node scripts/telemed.mjs check [--config FILE]    check the configuration, start nothing
//   node scripts/telemed.mjs secrets [--containers]   print fresh secrets for the config file
//   node scripts/telemed.mjs add-user [--config FILE] --role admin|doctor|patient --email E --name N
//                                                     create a user (password on stdin)
//   node scripts/telemed.mjs backup [--config FILE] --out DIR [--key-file FILE] [--passphrase-file FILE]
//                                                     back up the database, attachments and key ring
//   node scripts/telemed.mjs restore [--config FILE] --from DIR [--key-file FILE] [--passphrase-file FILE] [--force]
//                                                     restore a backup into an empty installation
//   node scripts/telemed.mjs migrate status|up|down [--to NAME|none] [--config FILE]
//                                                     the database schema's migrations
//   node scripts/telemed.mjs token create --api URL --key KEY --room R --identity I
//                                                     mint a room token with an API key
//   node scripts/telemed.mjs calls list|rooms list|rooms participants ROOM --api URL --key KEY
//                                                     calls and active rooms with an API key
//   node scripts/telemed.mjs calls access CALL_ID USER_ID --api URL --key KEY
//                                                     a participant's room access to an active call
//   node scripts/telemed.mjs webhooks test ID --api URL --key KEY
//                                                     send a signed ping to a webhook endpoint
//   node scripts/telemed.mjs load-test [--config FILE] [--media-url URL] [--rooms N] [--participants N] [--duration S] [--json]
//                                                     bots publish and subscribe in rooms; bitrate, loss, joins
//   node scripts/telemed.mjs <command> --help         what a command does and takes
//
// The configuration is one env file (--config, else TELEMED_CONFIG, else /etc/telemed/telemed.env)
// overridden by the environment; docs/deployment.md lists every setting, docs/operations.md the
// backup, restore and upgrade steps.
import fs from 'node:fs';
import path from 'node:path';
import { URLSearchParams } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';
import { backup, CommandError, migrate, restore } from './ops-commands.mjs';
import { serviceEnvironments, startPlatform } from './platform.mjs';
import { freshSecrets, loadSettings, productionPlan, ProductionConfigError } from './production.mjs';
import { ROOT } from './setup.mjs';

const USAGE =
  'usage: telemed serve|run|check|secrets|add-user|backup|restore|migrate|token create|calls list|calls access|rooms list|rooms participants|webhooks test|load-test [options] (see docs/deployment.md, docs/operations.md)';
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

const ENTRIES = { api: 'api/dist/main.js', media: 'media-server/dist/main.js' };

/**
 * One service in this very process, for a container: the same checks as `serve` (exit 2 naming
 * every weak secret), the same environment `serve` gives that service's process, then its main
 * module, whose own SIGTERM handler drains. No supervisor: the container runtime restarts it.
 */
async function runService(service, configFile) {
  if (!(service in ENTRIES)) fail(`telemed run: expected api or media (got ${service ?? 'nothing'})\n\n${COMMANDS.run.help}`, 64);
  const { options, settings, file } = plan(configFile);
  const entry = path.join(ROOT, ENTRIES[service]);
  if (!fs.existsSync(entry)) fail(`telemed: not built (${ENTRIES[service]} missing): run \`node scripts/setup.mjs start\` first`);
  const workerBin = service === 'media' ? (settings.MEDIASOUP_WORKER_BIN ?? (await ensureMediasoupWorker())) : undefined;
  // The settings hold the whole environment already; each service gets only its own secrets.
  const env = serviceEnvironments({ ...options, ...(workerBin ? { workerBin } : {}) }, {})[service];
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  Object.assign(process.env, env);
  process.stderr.write(`telemed: running the ${service === 'api' ? 'API' : 'media server'} in production mode (config: ${file ?? 'environment only'})\n`);
  await import(entry);
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

/** A request with an API key (--key or TELEMED_API_KEY) to --api (or TELEMED_API_URL); exits with the API's error. */
async function withApiKey(command, values, method, route, body) {
  const api = values.api ?? process.env.TELEMED_API_URL;
  const key = values.key ?? process.env.TELEMED_API_KEY;
  if (!api) fail(`telemed ${command}: --api URL (or TELEMED_API_URL) is required`, 64);
  if (!key) fail(`telemed ${command}: --key (or TELEMED_API_KEY) is required: an API key from the admin app or POST /api/admin/api-keys`, 64);
  const res = await fetch(new URL(route, api), {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const answer = await res.json().catch(() => undefined);
  if (!res.ok) fail(`telemed ${command}: ${res.status} ${answer?.error?.code ?? ''}: ${answer?.error?.message ?? 'no error body'}`);
  return answer;
}

/** `telemed token create`: a room token from the API with an API key (scope room-tokens). */
async function createToken(values) {
  for (const option of ['room', 'identity']) if (!values[option]) fail(`telemed token create: --${option} is required`, 64);
  const body = {
    room: values.room,
    identity: values.identity,
    ...(values.name ? { name: values.name } : {}),
    ...(values.ttl ? { ttlSeconds: Number(values.ttl) } : {}),
    ...(values['room-admin'] ? { roomAdmin: true } : {}),
  };
  process.stdout.write(`${JSON.stringify(await withApiKey('token create', values, 'POST', '/api/server/room-tokens', body))}\n`);
}

/** `telemed webhooks test ID`: a signed ping, followed until delivered or failed (or --timeout seconds). */
async function testWebhook(values, id) {
  if (!id) fail('telemed webhooks test: the webhook id is required', 64);
  let delivery = await withApiKey('webhooks test', values, 'POST', `/api/server/webhooks/${encodeURIComponent(id)}/test`);
  const deadline = Date.now() + Number(values.timeout ?? 30) * 1000;
  while (delivery.status === 'pending' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    delivery = await withApiKey('webhooks test', values, 'GET', `/api/server/webhooks/${encodeURIComponent(id)}/deliveries/${delivery.id}`);
  }
  process.stdout.write(`${JSON.stringify(delivery)}\n`);
  if (delivery.status !== 'delivered') process.exit(1);
}

const positiveInt = (command, name, value, fallback) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`telemed ${command}: --${name} must be a whole number of at least 1 (got ${value})`, 64);
  return n;
};

/**
 * `telemed load-test`: the benchmark bots (benchmarks/src/sfu) against a running media server, with
 * tokens signed by the installation's ROOM_TOKEN_SECRET (the loadTest grant: plain RTP transports).
 * Progress on stderr; the summary on stdout (JSON with --json). Exits 1 when a bot could not join
 * or nothing arrived.
 */
async function loadTest(values) {
  const { settings } = loadSettings({ file: values.config });
  const secret = settings.ROOM_TOKEN_SECRET;
  if (!secret)
    fail('telemed load-test: ROOM_TOKEN_SECRET is required (the configuration file or the environment): the bots sign their own load-test tokens', 64);
  const publicUrl = settings.PUBLIC_URL ? new URL(settings.PUBLIC_URL) : undefined;
  const mediaUrl = values['media-url'] ?? settings.MEDIA_PUBLIC_URL ?? (publicUrl ? `wss://${publicUrl.host}/rtc` : undefined);
  if (!mediaUrl) fail('telemed load-test: --media-url (or MEDIA_PUBLIC_URL or PUBLIC_URL in the configuration) is required', 64);
  const options = {
    mediaUrl,
    roomTokenSecret: secret,
    rooms: positiveInt('load-test', 'rooms', values.rooms, 1),
    participants: positiveInt('load-test', 'participants', values.participants, 2),
    durationSeconds: positiveInt('load-test', 'duration', values.duration, 10),
    ...(values['video-bitrate'] ? { videoBitrate: positiveInt('load-test', 'video-bitrate', values['video-bitrate']) } : {}),
  };
  if (options.participants < 2) fail('telemed load-test: --participants must be at least 2 (each bot receives the others)', 64);
  const entry = path.join(ROOT, 'benchmarks/dist/load-test/run.js');
  if (!fs.existsSync(entry)) fail('telemed: not built (benchmarks/dist missing): run `npm run build` first', 1);
  // mediasoup reads MEDIASOUP_WORKER_BIN when it is imported: set before the bots load.
  process.env.MEDIASOUP_WORKER_BIN ??= settings.MEDIASOUP_WORKER_BIN ?? (await ensureMediasoupWorker());
  const { runLoadTest } = await import(entry);
  const kbit = (bps) => `${(bps / 1000).toFixed(0)} kbit/s`;
  process.stderr.write(
    `telemed load-test: ${options.rooms} room(s) × ${options.participants} bots against ${mediaUrl}, ${options.durationSeconds} s of media\n`,
  );
  const summary = await runLoadTest({
    ...options,
    onJoinError: (identity, error) => process.stderr.write(`  ${identity} could not join: ${error.message}\n`),
    onProgress: (p) =>
      process.stderr.write(
        `  ${p.elapsedSeconds.toFixed(1)}/${p.durationSeconds} s: receiving ${kbit(p.receivedBitrateBps)}, sending ${kbit(p.sentBitrateBps)}\n`,
      ),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(
      [
        `joins: ${summary.joinsOk} ok, ${summary.joinsFailed} failed (ready in ${summary.joinSeconds.toFixed(1)} s)`,
        `received: ${kbit(summary.receivedBitrateBps)} in all, ${kbit(summary.receivedBitrateBpsPerBot)} per bot (sent ${kbit(summary.sentBitrateBps)})`,
        `packets: ${summary.receivedPackets} of ${summary.expectedPackets} expected, loss ${(summary.lossRatio * 100).toFixed(2)} % over ${summary.durationSeconds.toFixed(1)} s`,
      ].join('\n') + '\n',
    );
  }
  if (summary.joinsFailed > 0 || summary.receivedPackets === 0) process.exit(1);
}

/** Each command: its options (node:util parseArgs) and its --help text. */
const COMMANDS = {
  serve: {
    options: { config: { type: 'string' } },
    help: 'telemed serve [--config FILE]\n  Start the production stack (API, media server, web apps) and supervise it.',
  },
  run: {
    options: { config: { type: 'string' } },
    positionals: true,
    help: "telemed run api|media [--config FILE]\n  Check the configuration like serve, then run one service in this process (a container's command; SIGTERM drains it).",
  },
  check: { options: { config: { type: 'string' } }, help: 'telemed check [--config FILE]\n  Check the configuration; start nothing.' },
  secrets: {
    options: { containers: { type: 'boolean' } },
    help: 'telemed secrets [--containers]\n  Print fresh secrets for the configuration file (--containers: also POSTGRES_PASSWORD and REDIS_PASSWORD for deploy/compose.yaml).',
  },
  'add-user': {
    options: { config: { type: 'string' }, role: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' } },
    help: 'telemed add-user [--config FILE] --role admin|doctor|patient --email E --name N\n  Create a user; the password is read from stdin (or TELEMED_NEW_PASSWORD).',
  },
  backup: {
    options: { config: { type: 'string' }, out: { type: 'string' }, 'key-file': { type: 'string' }, 'passphrase-file': { type: 'string' } },
    help: [
      'telemed backup [--config FILE] --out DIR [--key-file FILE] [--passphrase-file FILE]',
      '  Back up the database, attachments and the key ring (encrypted with a passphrase: TELEMED_BACKUP_PASSPHRASE,',
      '  --passphrase-file, or a prompt); the key file is written apart from the data. See docs/operations.md.',
    ].join('\n'),
  },
  restore: {
    options: {
      config: { type: 'string' },
      from: { type: 'string' },
      'key-file': { type: 'string' },
      'passphrase-file': { type: 'string' },
      force: { type: 'boolean' },
    },
    help: 'telemed restore [--config FILE] --from DIR [--key-file FILE] [--passphrase-file FILE] [--force]\n  Restore a backup into an empty installation (--force: into a non-empty one).',
  },
  migrate: {
    options: { config: { type: 'string' }, to: { type: 'string' } },
    positionals: true,
    help: 'telemed migrate status|up|down [--to NAME|none] [--config FILE]\n  Show the applied and pending database migrations, apply them, or roll back (one step, or to NAME).',
  },
  'token create': {
    options: {
      api: { type: 'string' },
      key: { type: 'string' },
      room: { type: 'string' },
      identity: { type: 'string' },
      name: { type: 'string' },
      ttl: { type: 'string' },
      'room-admin': { type: 'boolean' },
    },
    help: [
      'telemed token create --api URL --key KEY --room ROOM --identity ID [--name NAME] [--ttl SECONDS] [--room-admin]',
      '  Mint a room token with an API key (scope room-tokens) and print {"token","url","expiresIn"} as JSON.',
      "  --api defaults to TELEMED_API_URL, --key to TELEMED_API_KEY. ROOM is an app room: not a call's id, not dev-….",
    ].join('\n'),
  },
  'calls list': {
    options: { api: { type: 'string' }, key: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } },
    help: 'telemed calls list --api URL --key KEY [--status active|ended|…] [--limit N]\n  List calls, newest first, with an API key (scope calls); prints the page as JSON.',
  },
  'calls access': {
    options: { api: { type: 'string' }, key: { type: 'string' } },
    positionals: true,
    help: [
      'telemed calls access CALL_ID USER_ID --api URL --key KEY',
      "  Get a room access for a participant who has accepted an active call, with an API key (scope calls): the participant's",
      '  own {"callId","room","token","url","expiresIn","iceServers"} as JSON, for your page to join the call with the browser SDK.',
    ].join('\n'),
  },
  'rooms list': {
    options: { api: { type: 'string' }, key: { type: 'string' } },
    help: 'telemed rooms list --api URL --key KEY\n  List the rooms of the active calls and who is in them, with an API key (scope rooms); prints JSON.',
  },
  'rooms participants': {
    options: { api: { type: 'string' }, key: { type: 'string' } },
    positionals: true,
    help: 'telemed rooms participants ROOM --api URL --key KEY\n  List who is in a live room now, with their tracks, with an API key (scope rooms); prints JSON.',
  },
  'webhooks test': {
    options: { api: { type: 'string' }, key: { type: 'string' }, timeout: { type: 'string' } },
    positionals: true,
    help: 'telemed webhooks test ID --api URL --key KEY [--timeout SECONDS]\n  Send a signed webhook.ping to endpoint ID with an API key (scope webhooks) and wait for its delivery; exit 1 unless delivered.',
  },
  'load-test': {
    options: {
      config: { type: 'string' },
      'media-url': { type: 'string' },
      rooms: { type: 'string' },
      participants: { type: 'string' },
      duration: { type: 'string' },
      'video-bitrate': { type: 'string' },
      json: { type: 'boolean' },
    },
    help: [
      'telemed load-test [--config FILE] [--media-url URL] [--rooms N] [--participants N] [--duration SECONDS] [--video-bitrate BPS] [--json]',
      "  Load a running media server with bots (the benchmarks' bots: synthetic VP8 + Opus over SRTP): N rooms (default 1) of",
      '  N participants (default 2) that each publish and receive everyone else, for SECONDS of media (default 10) at BPS video',
      '  per bot (default 1500000). Tokens are signed with ROOM_TOKEN_SECRET from the configuration (the loadTest grant);',
      '  --media-url defaults to MEDIA_PUBLIC_URL, else wss://<PUBLIC_URL host>/rtc. Progress goes to stderr, then the summary:',
      '  joins ok/failed, received and sent bitrate, packet loss (--json: one JSON object). Exit 1 if a bot failed to join or nothing arrived.',
    ].join('\n'),
  },
};

const argv = process.argv.slice(2);
const command = argv[1] && `${argv[0]} ${argv[1]}` in COMMANDS ? `${argv[0]} ${argv[1]}` : argv[0];
const rest = argv.slice(command?.includes(' ') ? 2 : 1);
const USAGE_ALL = `${USAGE}\n\ncommands:\n${Object.values(COMMANDS)
  .map((c) => `  ${c.help.split('\n')[0]}`)
  .join('\n')}\n\n\`telemed <command> --help\` describes one.`;
if (command === '--help' || command === 'help') {
  process.stdout.write(`${USAGE_ALL}\n`);
  process.exit(0);
}
const spec = command ? COMMANDS[command] : undefined;
if (!spec) fail(USAGE_ALL, 64);
let values;
let positionals;
try {
  ({ values, positionals } = parseArgs({ args: rest, options: { ...spec.options, help: { type: 'boolean' } }, allowPositionals: spec.positionals === true }));
} catch (error) {
  fail(`telemed ${command}: ${error.message}\n\n${spec.help}`, 64);
}
if (values.help) {
  process.stdout.write(`${spec.help}\n`);
  process.exit(0);
}
const opsSettings = () => {
  if (!fs.existsSync(path.join(ROOT, 'api/dist/backup/backup.js'))) fail('telemed: not built (api/dist missing): run `node scripts/setup.mjs start` first');
  return loadSettings({ file: values.config });
};
try {
  if (command === 'serve') await serve(values.config);
  else if (command === 'run') await runService(positionals[0], values.config);
  else if (command === 'check') {
    const { file, publicUrl } = plan(values.config);
    process.stdout.write(`telemed: configuration OK (${file ?? 'environment only'}; public URL ${publicUrl})\n`);
  } else if (command === 'secrets') process.stdout.write(`${freshSecrets({ containers: values.containers === true })}\n`);
  else if (command === 'add-user') await addUser(values.config, values);
  else if (command === 'backup') await backup(opsSettings().settings, values);
  else if (command === 'restore') {
    const { settings, file } = opsSettings();
    await restore(settings, file, values);
  } else if (command === 'migrate') await migrate(opsSettings().settings, positionals[0], values);
  else if (command === 'token create') await createToken(values);
  else if (command === 'calls list') {
    const query = new URLSearchParams({ ...(values.status ? { status: values.status } : {}), ...(values.limit ? { limit: values.limit } : {}) });
    process.stdout.write(`${JSON.stringify(await withApiKey(command, values, 'GET', `/api/server/calls${query.size ? `?${query}` : ''}`))}\n`);
  } else if (command === 'calls access') {
    const [callId, userId] = positionals;
    if (!callId || !userId) fail(`telemed ${command}: CALL_ID and USER_ID are required\n\n${spec.help}`, 64);
    const route = `/api/server/calls/${encodeURIComponent(callId)}/access`;
    process.stdout.write(`${JSON.stringify(await withApiKey(command, values, 'POST', route, { userId }))}\n`);
  } else if (command === 'rooms list') process.stdout.write(`${JSON.stringify(await withApiKey(command, values, 'GET', '/api/server/rooms'))}\n`);
  else if (command === 'rooms participants') {
    if (!positionals[0]) fail(`telemed ${command}: ROOM is required\n\n${spec.help}`, 64);
    process.stdout.write(
      `${JSON.stringify(await withApiKey(command, values, 'GET', `/api/server/rooms/${encodeURIComponent(positionals[0])}/participants`))}\n`,
    );
  } else if (command === 'webhooks test') await testWebhook(values, positionals[0]);
  else if (command === 'load-test') await loadTest(values);
} catch (error) {
  if (error instanceof CommandError) fail(error.message.startsWith('telemed') ? error.message : `telemed ${command}: ${error.message}`, error.exitCode);
  fail(`telemed ${command}: ${error.message}`);
}
