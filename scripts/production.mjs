// The production configuration: one env file (KEY=value lines) and/or the environment, checked
// before anything starts. Secrets come only from the operator: nothing here generates or stores
// one (`telemed secrets` prints fresh ones to paste into the file). Node built-ins only.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';

export const DEFAULT_CONFIG_FILE = '/etc/telemed/telemed.env';

/** Every secret the stack uses, with what it protects (named in the refusal messages). */
export const SECRETS = {
  ROOM_TOKEN_SECRET: 'signs room tokens (API and media server)',
  ACCESS_TOKEN_SECRET: "signs users' access tokens",
  MEDIA_WEBHOOK_SECRET: "signs the media server's events to the API",
  MEDIA_SERVICE_SECRET: "authorises service requests to the media server (the API ends a disabled account's media sessions with it)",
  ENCRYPTION_KEY: 'encrypts messages and attachments at rest',
  TURN_SECRET: "coturn's use-auth-secret (only with TURN_URLS)",
  METRICS_TOKEN: 'bearer token for /metrics (optional)',
};

const MIN_SECRET_CHARS = 32;
/**
 * Words people leave in config files; any secret containing one is refused. Five letters or more:
 * a random value contains a given 4-character string often enough to be refused now and then
 * (1 in 7,000 base64url secrets held "abcd", "todo", "xxxx", "0123" or "1234", and `telemed secrets`
 * printed such values), while a 6-letter word turns up about once in 10^9.
 */
const PLACEHOLDERS = ['change', 'secret', 'example', 'password', 'telemed', 'default', 'replace'];
/** Fewer distinct characters than this is a pattern, not a random value (hex from `openssl rand -hex 32` has 15-16). */
const MIN_DISTINCT_CHARS = 10;
/** A run this long of one character, or of consecutive ones ("123456", "abcdef"), is typed, not drawn. */
const MAX_RUN = 6;

/**
 * Fresh secrets in env-file form, for the operator to paste into the config file; with
 * `containers`, also the passwords of the compose stack's PostgreSQL and Redis. Each value is
 * drawn again until the launcher's own checks accept it.
 */
export function freshSecrets({ containers = false } = {}) {
  const draw = (make, weakness) => {
    for (;;) {
      const value = make();
      if (!weakness(value)) return value;
    }
  };
  const token = () => draw(() => randomBytes(32).toString('base64url'), secretWeakness);
  const encryptionKey = () => draw(() => `k1:${randomBytes(32).toString('base64')}`, encryptionKeyWeakness);
  return [
    ...(containers ? [`POSTGRES_PASSWORD=${token()}`, `REDIS_PASSWORD=${token()}`] : []),
    `ROOM_TOKEN_SECRET=${token()}`,
    `ACCESS_TOKEN_SECRET=${token()}`,
    `MEDIA_WEBHOOK_SECRET=${token()}`,
    `MEDIA_SERVICE_SECRET=${token()}`,
    `ENCRYPTION_KEY=${encryptionKey()}`,
    `TURN_SECRET=${token()}`,
    `METRICS_TOKEN=${token()}`,
  ].join('\n');
}

/**
 * Parses an env file: `KEY=value` lines, `#` comments, blank lines, optional `export `, values in
 * single or double quotes. Throws with the line number on anything else.
 */
export function parseEnvFile(text, file = 'config') {
  const values = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new Error(`${file}:${index + 1}: expected KEY=value`);
    let value = match[2];
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, '');
    values[match[1]] = value;
  });
  return values;
}

/**
 * The settings: the config file's values (when there is one), overridden by the environment.
 * `file` is the given path, else TELEMED_CONFIG, else /etc/telemed/telemed.env when it exists.
 */
export function loadSettings({ file, env = process.env } = {}) {
  const path = file ?? env.TELEMED_CONFIG ?? (fs.existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const fromFile = path ? parseEnvFile(fs.readFileSync(path, 'utf8'), path) : {};
  const settings = { ...fromFile };
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') settings[key] = value;
  return { settings, file: path };
}

/** Why `value` is not an acceptable secret, or undefined when it is. */
export function secretWeakness(value) {
  if (value.length < MIN_SECRET_CHARS) return `too short (${value.length} characters; at least ${MIN_SECRET_CHARS})`;
  const lower = value.toLowerCase();
  const placeholder = PLACEHOLDERS.find((word) => lower.includes(word));
  if (placeholder) return `looks like a placeholder (contains "${placeholder}")`;
  const distinct = new Set(value).size;
  if (distinct < MIN_DISTINCT_CHARS) return `too few distinct characters (${distinct}; a random value has ${MIN_DISTINCT_CHARS} or more)`;
  const run = typedRun(value);
  if (run) return `a typed run ("${run}")`;
  return undefined;
}

/** The first run of MAX_RUN characters that are all the same or each one after the previous; undefined if none. */
function typedRun(value) {
  for (const step of [0, 1]) {
    let length = 1;
    for (let i = 1; i < value.length; i++) {
      length = value.charCodeAt(i) - value.charCodeAt(i - 1) === step ? length + 1 : 1;
      if (length >= MAX_RUN) return value.slice(i - MAX_RUN + 1, i + 1);
    }
  }
  return undefined;
}

function encryptionKeyWeakness(spec) {
  const parts = spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return 'empty';
  for (const part of parts) {
    const [id, key] = part.includes(':') ? part.split(':', 2) : ['k1', part];
    const bytes = Buffer.from(key, 'base64');
    if (bytes.length !== 32) return `key ${id}: expected 32 bytes of base64, got ${bytes.length}`;
    if (new Set(bytes).size < 16) return `key ${id}: not random (${new Set(bytes).size} distinct bytes)`;
  }
  return undefined;
}

const connectable = (host) => (host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host);
const urlHost = (host) => (net.isIPv6(host) ? `[${host}]` : host);

function port(settings, key, fallback, problems) {
  const raw = settings[key];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) problems.push(`${key}: "${raw}" is not a port (1-65535)`);
  return value;
}

function url(settings, key, protocols, problems) {
  const raw = settings[key];
  if (raw === undefined) return undefined;
  try {
    const parsed = new URL(raw);
    if (!protocols.includes(parsed.protocol)) problems.push(`${key}: must be a ${protocols.join(' or ')} URL (got ${parsed.protocol}//…)`);
    return parsed;
  } catch {
    problems.push(`${key}: "${raw}" is not a URL`);
    return undefined;
  }
}

/**
 * Where an installation keeps its data: TELEMED_DATA_DIR (/var/lib/telemed), the embedded
 * database under db/ (DATABASE_DIR), attachments under attachments/ (ATTACHMENTS_DIR).
 * @param {Record<string, string>} settings
 */
export function dataPaths(settings) {
  const dataDir = settings.TELEMED_DATA_DIR ?? '/var/lib/telemed';
  return {
    dataDir,
    databaseDir: settings.DATABASE_DIR ?? `${dataDir}/db`,
    attachmentsDir: settings.ATTACHMENTS_DIR ?? `${dataDir}/attachments`,
  };
}

/** Bad production settings, one line per problem, each naming its variable. */
export class ProductionConfigError extends Error {
  constructor(problems) {
    super(`refusing to start in production mode:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ProductionConfigError';
    this.problems = problems;
  }
}

/**
 * Checks the settings and turns them into startPlatform() options. Throws ProductionConfigError
 * naming every missing or weak secret and every bad setting at once.
 * @param {Record<string, string>} settings
 */
export function productionPlan(settings) {
  const problems = [];
  const required = ['ROOM_TOKEN_SECRET', 'ACCESS_TOKEN_SECRET', 'MEDIA_WEBHOOK_SECRET', 'MEDIA_SERVICE_SECRET', 'ENCRYPTION_KEY'];
  const turnUrls =
    settings.TURN_URLS?.split(',')
      .map((u) => u.trim())
      .filter(Boolean) ?? [];
  if (turnUrls.length > 0) required.push('TURN_SECRET');
  for (const name of required)
    if (!settings[name]) problems.push(`${name} is missing (${SECRETS[name]}); \`node scripts/telemed.mjs secrets\` prints fresh values`);
  for (const name of [...required, 'METRICS_TOKEN'].filter((n) => n !== 'ENCRYPTION_KEY')) {
    const value = settings[name];
    const weakness = value && secretWeakness(value);
    if (weakness) problems.push(`${name} is weak: ${weakness}`);
  }
  if (settings.ENCRYPTION_KEY) {
    const weakness = encryptionKeyWeakness(settings.ENCRYPTION_KEY);
    if (weakness) problems.push(`ENCRYPTION_KEY is weak: ${weakness}`);
  }
  const secretNames = [...required, 'METRICS_TOKEN'].filter((n) => settings[n]);
  for (let i = 0; i < secretNames.length; i++) {
    for (let j = i + 1; j < secretNames.length; j++) {
      if (settings[secretNames[i]] === settings[secretNames[j]])
        problems.push(`${secretNames[j]} is weak: the same value as ${secretNames[i]} (each secret must be its own)`);
    }
  }
  for (const name of ['SEED_DEMO']) if (settings[name] === 'true') problems.push(`${name}=true: production never seeds demo users`);
  if (settings.TELEMED_MODE && settings.TELEMED_MODE !== 'production')
    problems.push(`TELEMED_MODE=${settings.TELEMED_MODE}: this command starts production mode only (use npm start for development)`);

  const publicUrl = url(settings, 'PUBLIC_URL', ['https:'], problems);
  if (!settings.PUBLIC_URL) problems.push('PUBLIC_URL is missing: the https:// address patients and doctors open (e.g. https://telemed.clinic.example)');
  const mediaPublicUrl = url(settings, 'MEDIA_PUBLIC_URL', ['wss:'], problems)?.href ?? (publicUrl ? `wss://${publicUrl.host}/rtc` : undefined);
  for (const turn of turnUrls) if (!/^turns?:[^\s]+$/.test(turn)) problems.push(`TURN_URLS: "${turn}" is not a turn: or turns: URL`);

  const apiHost = settings.API_HOST ?? '127.0.0.1';
  const mediaHost = settings.MEDIA_HOST ?? '127.0.0.1';
  const apiPort = port(settings, 'API_PORT', 3000, problems);
  const mediaPort = port(settings, 'MEDIA_PORT', 4443, problems);
  const rtcBasePort = port(settings, 'MEDIA_RTC_BASE_PORT', 40000, problems);
  const drainSeconds = Number(settings.MEDIA_DRAIN_TIMEOUT ?? 900);
  if (!Number.isFinite(drainSeconds) || drainSeconds < 0) problems.push(`MEDIA_DRAIN_TIMEOUT: "${settings.MEDIA_DRAIN_TIMEOUT}" is not a number of seconds`);
  const apiDrainSeconds = Number(settings.API_DRAIN_TIMEOUT ?? 25);
  if (!Number.isFinite(apiDrainSeconds) || apiDrainSeconds < 0) problems.push(`API_DRAIN_TIMEOUT: "${settings.API_DRAIN_TIMEOUT}" is not a number of seconds`);
  if (problems.length > 0) throw new ProductionConfigError(problems);

  const { dataDir, attachmentsDir } = dataPaths(settings);
  const apiInternal = `http://${urlHost(connectable(apiHost))}:${apiPort}`;
  const mediaInternal = `http://${urlHost(connectable(mediaHost))}:${mediaPort}`;
  // Each service gets the settings plus what is derived; secrets only the service that uses them.
  const apiOnly = ['ACCESS_TOKEN_SECRET', 'ENCRYPTION_KEY', 'TURN_SECRET', 'DATABASE_URL', 'SMTP_PASSWORD', 'S3_SECRET_ACCESS_KEY', 'METRICS_TOKEN'];
  // MEDIA_SERVICE_SECRET goes to both: the API ends a disabled account's media sessions with it.
  const mediaOnly = [];
  const pass = (skip) => Object.fromEntries(Object.entries(settings).filter(([key]) => !skip.includes(key)));
  return {
    publicUrl: publicUrl.origin,
    dataDir,
    drainMs: drainSeconds * 1000,
    options: {
      mode: 'production',
      host: connectable(apiHost),
      apiPort,
      mediaPort,
      rtcBasePort,
      ...(settings.MEDIA_NUM_WORKERS ? { numWorkers: Number(settings.MEDIA_NUM_WORKERS) } : {}),
      dataDir,
      logLevel: settings.LOG_LEVEL ?? 'info',
      secrets: {
        roomTokenSecret: settings.ROOM_TOKEN_SECRET,
        serviceSecret: settings.MEDIA_SERVICE_SECRET,
        accessTokenSecret: settings.ACCESS_TOKEN_SECRET,
        mediaWebhookSecret: settings.MEDIA_WEBHOOK_SECRET,
        encryptionKey: settings.ENCRYPTION_KEY,
      },
      // The API stops within its drain deadline; the media server may keep calls going up to its own.
      stopGraceMs: { api: (apiDrainSeconds + 10) * 1000, media: (drainSeconds + 10) * 1000 },
      apiEnv: {
        ...pass(mediaOnly),
        API_HOST: apiHost,
        APP_BASE_URL: settings.APP_BASE_URL ?? publicUrl.origin,
        MEDIA_PUBLIC_URL: mediaPublicUrl,
        MEDIA_INTERNAL_URL: settings.MEDIA_INTERNAL_URL ?? mediaInternal,
        TELEMED_MODE: 'production',
        API_DRAIN_TIMEOUT: String(apiDrainSeconds),
        ...(settings.DATABASE_DIR ? { DATABASE_DIR: settings.DATABASE_DIR } : {}),
        ATTACHMENTS_DIR: attachmentsDir,
      },
      mediaEnv: {
        ...pass(apiOnly),
        MEDIA_HOST: mediaHost,
        // With REDIS_URL the node registers this URL and the API hands it to browsers (the registry).
        MEDIA_PUBLIC_URL: mediaPublicUrl,
        MEDIA_DRAIN_TIMEOUT: String(drainSeconds),
        API_INTERNAL_URL: settings.API_INTERNAL_URL ?? apiInternal,
        MEDIA_RECORDING_DIR: settings.MEDIA_RECORDING_DIR ?? `${dataDir}/recordings`,
        TELEMED_MODE: 'production',
      },
    },
  };
}
