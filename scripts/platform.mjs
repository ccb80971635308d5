// Starts the platform's processes (media server, API) from their built output and waits until
// /health says everything is up; with `supervise`, a service that crashes afterwards is restarted
// (the others keep running). Used by `npm start` and by the end-to-end tests.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcess, superviseService } from './supervise.mjs';
import { RotatingLogFile } from './rotating-log.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LEVEL_NAMES = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Random secrets for one platform instance. */
export function generateSecrets() {
  return {
    roomTokenSecret: randomBytes(32).toString('base64url'),
    serviceSecret: randomBytes(32).toString('base64url'),
    accessTokenSecret: randomBytes(32).toString('base64url'),
    mediaWebhookSecret: randomBytes(32).toString('base64url'),
    // AES-256-GCM key ring for data at rest: `id:base64`, the first key encrypts.
    encryptionKey: `k1:${randomBytes(32).toString('base64')}`,
  };
}

/** Secrets kept under the data directory so restarts keep issued tokens valid. */
export function loadOrCreateSecrets(dataDir) {
  const file = path.join(dataDir, 'secrets.json');
  const existing = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  // Keep what exists (issued tokens and encrypted rows stay valid); add secrets new releases need.
  const secrets = { ...generateSecrets(), ...existing };
  if (Object.keys(secrets).length !== Object.keys(existing).length) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}

export { stopProcess, superviseService };

function spawnService(name, entry, env, options) {
  const child = spawn(process.execPath, [path.join(ROOT, entry)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logFile = options.logDir
    ? new RotatingLogFile(path.join(options.logDir, `${name}.log`), { maxBytes: options.logMaxBytes, keep: options.logKeep })
    : undefined;
  let buffered = '';
  const onChunk = (chunk) => {
    logFile?.write(chunk);
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      let level = 30;
      let msg = line;
      try {
        const record = JSON.parse(line);
        level = record.level ?? 30;
        msg = record.msg ?? line;
      } catch {
        level = 40; // not pino: a crash trace or a library's console output
      }
      options.onLog?.({ service: name, level: LEVEL_NAMES[level] ?? String(level), levelValue: level, msg, line });
    }
  };
  child.stdout.on('data', onChunk);
  child.stderr.on('data', onChunk);
  child.on('exit', () => logFile?.end());
  return child;
}

async function waitForHealth(url, children, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    for (const child of children) {
      if (child.exitCode !== null) throw new Error(`a platform process exited during start-up (exit ${child.exitCode}); see its log`);
    }
    try {
      // Not a 1 s window: on a loaded machine (load 20-30 on 2 cores) a starting API answers
      // /health in several seconds, and every attempt was cut off until the start-up deadline.
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(1000, Math.min(10_000, deadline - Date.now()))) });
      if (res.ok) return res.json();
      last = `HTTP ${res.status} ${await res.text()}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`the platform did not become healthy within ${timeoutMs} ms (${last})`);
}

/**
 * Each service's environment for these options: startPlatform's child processes, and the
 * containers' single service process (`telemed run api|media`).
 * @param {import('./platform.d.mts').PlatformOptions} options
 * @param {Record<string, string | undefined>} [baseEnv] what both inherit (default: this process's)
 * @returns {{ media: Record<string, string>; api: Record<string, string> }}
 */
export function serviceEnvironments(options, baseEnv = process.env) {
  const host = options.host ?? '127.0.0.1';
  const apiPort = options.apiPort ?? 3000;
  const mediaPort = options.mediaPort ?? 4443;
  const secrets = options.secrets ?? generateSecrets();
  // Browsers' signaling URL: the API's fallback, and what the node registers with REDIS_URL.
  const mediaPublicUrl = options.apiEnv?.MEDIA_PUBLIC_URL ?? `ws://${host}:${mediaPort}/rtc`;
  const common = {
    ...baseEnv,
    ...(options.workerBin ? { MEDIASOUP_WORKER_BIN: options.workerBin } : {}),
    ROOM_TOKEN_SECRET: secrets.roomTokenSecret,
    LOG_LEVEL: options.logLevel ?? 'info',
  };
  const media = {
    ...common,
    MEDIA_HOST: host,
    MEDIA_PORT: String(mediaPort),
    MEDIA_RTC_BASE_PORT: String(options.rtcBasePort ?? 40000),
    MEDIA_SERVICE_SECRET: secrets.serviceSecret,
    MEDIA_WEBHOOK_SECRET: secrets.mediaWebhookSecret,
    MEDIA_PUBLIC_URL: mediaPublicUrl,
    API_INTERNAL_URL: `http://${host}:${apiPort}`,
    ...(options.numWorkers ? { MEDIA_NUM_WORKERS: String(options.numWorkers) } : {}),
    ...options.mediaEnv,
  };
  const api = {
    ...common,
    API_HOST: host,
    API_PORT: String(apiPort),
    TELEMED_MODE: options.mode ?? 'development',
    MEDIA_PUBLIC_URL: mediaPublicUrl,
    MEDIA_INTERNAL_URL: `http://${host}:${mediaPort}`,
    // The API ends a disabled account's media sessions through the media server's service API.
    MEDIA_SERVICE_SECRET: secrets.serviceSecret,
    STATIC_DIR: path.join(ROOT, 'demo-app', 'dist', 'public'),
    ENCRYPTION_KEY: secrets.encryptionKey,
    ACCESS_TOKEN_SECRET: secrets.accessTokenSecret,
    MEDIA_WEBHOOK_SECRET: secrets.mediaWebhookSecret,
    // PGlite's files (when DATABASE_URL is unset): one directory per platform instance.
    DATABASE_DIR: path.join(options.dataDir ?? path.join(ROOT, 'data'), 'db'),
    ...options.apiEnv,
  };
  return { media, api };
}

/**
 * @param {import('./platform.d.mts').PlatformOptions} options
 * @returns {Promise<import('./platform.d.mts').Platform>}
 */
export async function startPlatform(options) {
  const host = options.host ?? '127.0.0.1';
  const apiPort = options.apiPort ?? 3000;
  const mediaPort = options.mediaPort ?? 4443;
  const secrets = options.secrets ?? generateSecrets();
  if (options.logDir) fs.mkdirSync(options.logDir, { recursive: true });
  const mediaHttp = `http://${host}:${mediaPort}`;
  const { media: mediaEnv, api: apiEnv } = serviceEnvironments({ ...options, secrets });
  const spawners = {
    media: () => spawnService('media-server', 'media-server/dist/main.js', mediaEnv, options),
    api: () => spawnService('api', 'api/dist/main.js', apiEnv, options),
  };
  // Until the platform is healthy, a process that exits fails the start; supervision begins after.
  const current = { media: spawners.media(), api: spawners.api() };
  const services = [];
  // How long each process may take to stop after SIGTERM (draining) before it is killed.
  const grace =
    typeof options.stopGraceMs === 'number' ? { api: options.stopGraceMs, media: options.stopGraceMs } : { api: 5000, media: 5000, ...options.stopGraceMs };
  const graceOf = { 'media-server': grace.media, api: grace.api };
  const stop = async () => {
    await Promise.all([
      ...services.map((service) => service.stop(graceOf[service.name])),
      ...Object.entries(current).map(([key, child]) => stopProcess(child, grace[key])),
    ]);
  };
  const apiUrl = `http://${host}:${apiPort}`;
  let health;
  try {
    health = await waitForHealth(`${apiUrl}/health`, Object.values(current), options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const processes = { ...current };
  if (options.supervise) {
    const supervision = options.supervise === true ? {} : options.supervise;
    for (const [key, service] of [
      ['media', 'media-server'],
      ['api', 'api'],
    ]) {
      const supervised = superviseService(service, spawners[key], {
        ...supervision,
        child: current[key],
        onLog: (line) => {
          if (options.logDir)
            fs.appendFileSync(
              path.join(options.logDir, `${service}.log`),
              `${JSON.stringify({ level: line.levelValue, time: Date.now(), name: 'supervisor', msg: line.msg })}\n`,
            );
          options.onLog?.({ ...line, line: line.msg });
        },
        onGiveUp: (exit) => supervision.onGiveUp?.(service, exit),
      });
      services.push(supervised);
      delete current[key];
      Object.defineProperty(processes, key, { get: () => supervised.child, enumerable: true });
    }
  }
  return {
    apiUrl,
    mediaHttpUrl: mediaHttp,
    mediaWsUrl: `ws://${host}:${mediaPort}/rtc`,
    secrets,
    health,
    processes,
    restarts: () => Object.fromEntries(services.map((service) => [service.name, service.restarts])),
    stop,
  };
}

/**
 * One more API instance beside a started platform's: the same options (and `secrets`), so the same
 * database (DATABASE_URL in `apiEnv`; PGlite cannot be shared) and Redis, on `options.apiPort`.
 * Its log goes to `<logDir>/<name>.log`. Resolves once it answers /health.
 * @param {import('./platform.d.mts').PlatformOptions & { secrets: import('./platform.d.mts').PlatformSecrets; name?: string }} options
 * @returns {Promise<import('./platform.d.mts').ApiInstance>}
 */
export async function startApiInstance(options) {
  if (options.logDir) fs.mkdirSync(options.logDir, { recursive: true });
  const { api } = serviceEnvironments(options);
  const child = spawnService(options.name ?? 'api', 'api/dist/main.js', api, options);
  const apiUrl = `http://${options.host ?? '127.0.0.1'}:${api.API_PORT}`;
  try {
    await waitForHealth(`${apiUrl}/health`, [child], options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await stopProcess(child, options.stopGraceMs ?? 5000);
    throw error;
  }
  return { apiUrl, process: child, stop: () => stopProcess(child, typeof options.stopGraceMs === 'number' ? options.stopGraceMs : 5000) };
}
