import { z } from 'zod';
import { ConfigError, envFlag, envList, envText, parseConfigWith, readEnv, type Env, type EnvSource } from '@telemed/server-kit';
import { proxyEntryProblem } from './http/trusted-proxies.js';

const ConfigSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(3000),
    /** `production` disables demo-only routes (dev room tokens, demo seed). */
    mode: z.enum(['development', 'production', 'test']).default('development'),
    /** HS256 secret shared with the media server. */
    roomTokenSecret: z.string({ error: 'ROOM_TOKEN_SECRET is required' }).min(16, 'ROOM_TOKEN_SECRET must be at least 16 characters'),
    roomTokenTtlSeconds: z.coerce.number().int().min(10).max(86_400).default(3600),
    /** The media server's signaling URL as browsers reach it, and its HTTP base as the API does. */
    mediaPublicUrl: z.string().url().default('ws://127.0.0.1:4443/rtc'),
    mediaInternalUrl: z.string().url().default('http://127.0.0.1:4443'),
    /** Folder of static files (the built demo app) served at `/`. */
    staticDir: z.string().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** PostgreSQL URL; when unset, PGlite runs in-process with its data under `databaseDir`. */
    databaseUrl: z.string().optional(),
    databaseDir: z.string().default('./data/db'),
    databasePoolSize: z.coerce.number().int().min(1).max(100).default(10),
    /** A PGlite data-directory dump to start from instead of an empty cluster (tests: skips initdb). */
    pgliteTemplate: z.instanceof(Blob).optional(),
    /** Redis for realtime fan-out across API instances; an in-process bus when unset. */
    redisUrl: z.string().optional(),
    /** Prefix of the API's Redis keys (rate limits, presence), so deployments can share one Redis. */
    redisKeyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'REDIS_KEY_PREFIX: letters, digits, ":", "_", "-" (at most 64)')
      .default('telemed'),
    /** AES-256-GCM keys for data at rest: `id:base64[,id:base64...]`, the first one encrypts. */
    encryptionKey: z.string({ error: 'ENCRYPTION_KEY is required' }).min(1, 'ENCRYPTION_KEY is required'),
    /** HS256 secret for access tokens (at least 32 characters). */
    accessTokenSecret: z.string({ error: 'ACCESS_TOKEN_SECRET is required' }).min(32, 'ACCESS_TOKEN_SECRET must be at least 32 characters'),
    accessTokenTtlSeconds: z.coerce.number().int().min(1).max(3600).default(900),
    /** Idle session logoff: a refresh token unused for this long no longer works. */
    refreshIdleSeconds: z.coerce
      .number()
      .int()
      .min(1)
      .default(30 * 60),
    refreshMaxSeconds: z.coerce
      .number()
      .int()
      .min(60)
      .default(7 * 24 * 3600),
    /**
     * How long an instance trusts what it read about a session (open or revoked). Revocations reach
     * every instance at once over the bus; this bounds the delay when such a message is lost.
     */
    sessionCheckTtlSeconds: z.coerce.number().min(0.1).max(300).default(10),
    /** HS256 secret the media server signs its event batches with. */
    mediaWebhookSecret: z.string({ error: 'MEDIA_WEBHOOK_SECRET is required' }).min(16, 'MEDIA_WEBHOOK_SECRET must be at least 16 characters'),
    /** Ring timeout: a call nobody accepted within this many seconds is missed. */
    callTimeoutSeconds: z.coerce.number().min(0.1).max(600).default(60),
    /** A scheduled call may be started (and joined) from this many seconds before its time. */
    scheduledCallStartWindowSeconds: z.coerce.number().min(0).max(86_400).default(600),
    /** A scheduled call nobody started this many seconds after its time is missed. */
    scheduledCallGraceSeconds: z.coerce.number().min(1).max(86_400).default(1800),
    /** Origins allowed by CORS (exact match); empty means same-origin only. */
    corsOrigins: z.array(z.string()).default([]),
    /** Rate limits per window of `rateLimitWindowSeconds`. */
    rateLimitWindowSeconds: z.coerce.number().min(1).default(60),
    loginRateLimit: z.coerce.number().int().min(1).default(10),
    /** Login attempts from one address whatever the e-mail (password spraying across accounts). */
    loginAddressRateLimit: z.coerce.number().int().min(1).default(30),
    messageRateLimit: z.coerce.number().int().min(1).default(120),
    /** Seed demo users and conversations into an empty database (never in production mode). */
    seedDemo: z.boolean().optional(),
    /** Missed-call and unread-message e-mails (only when smtpHost is set). */
    smtpHost: z.string().optional(),
    smtpPort: z.coerce.number().int().min(1).max(65535).default(587),
    smtpUser: z.string().optional(),
    smtpPassword: z.string().optional(),
    smtpFrom: z.string().default('Telemed <no-reply@telemed.local>'),
    smtpSecure: z.boolean().default(false),
    unreadNotifyDelaySeconds: z.coerce
      .number()
      .min(0.1)
      .default(15 * 60),
    notifyIntervalSeconds: z.coerce.number().min(0.05).default(30),
    appBaseUrl: z.string().default('http://127.0.0.1:3000'),
    /** Where encrypted attachments live on local disk (default: beside the PGlite directory). */
    attachmentsDir: z.string().optional(),
    maxUploadBytes: z.coerce
      .number()
      .int()
      .min(1)
      .max(1024 * 1024 * 1024)
      .default(10 * 1024 * 1024),
    /** S3-compatible attachment store, used instead of local disk when s3Bucket is set. */
    s3Bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'S3_BUCKET must be a valid bucket name (3-63 lowercase letters, digits, dots, hyphens)')
      .optional(),
    /** Endpoint of a non-AWS store (MinIO, Ceph, ...); AWS's regional endpoint when unset. */
    s3Endpoint: z.url({ protocol: /^https?$/, error: 'S3_ENDPOINT must be an http(s) URL' }).optional(),
    s3Region: z.string().min(1).default('us-east-1'),
    s3AccessKeyId: z.string().min(1).optional(),
    s3SecretAccessKey: z.string().min(1).optional(),
    /** `bucket` in the path instead of the host name (most self-hosted stores need it). */
    s3ForcePathStyle: z.boolean().default(false),
    /** Bearer token for GET /metrics; without it only loopback clients may scrape. */
    metricsToken: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
    /** Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client; none by default. */
    trustedProxies: z
      .array(
        z.string().superRefine((entry, ctx) => {
          const problem = proxyEntryProblem(entry);
          if (problem) ctx.addIssue({ code: 'custom', message: `TRUSTED_PROXIES: ${problem}` });
        }),
      )
      .default([]),
    /** On SIGTERM: not ready at once, then in-flight requests get this long to finish, seconds. */
    drainTimeoutSeconds: z.coerce.number().min(0).max(3600).default(25),
    /** TURN servers handed out with every room access (coturn `use-auth-secret`): turn:/turns: URLs. */
    turnUrls: z.array(z.string().regex(/^turns?:[^\s]+$/, 'TURN_URLS: turn: or turns: URLs, comma-separated')).default([]),
    /** coturn's static-auth-secret: TURN credentials are HMAC-SHA1(secret, "expiry:user"). */
    turnSecret: z.string().min(16, 'TURN_SECRET must be at least 16 characters').optional(),
    /** Lifetime of TURN credentials, seconds; never beyond the room token's. */
    turnTtlSeconds: z.coerce.number().int().min(10).max(86_400).optional(),
    /** Queries at least this slow (ms) are logged with their SQL text and counted in telemed_api_db_slow_queries_total. */
    slowQueryMs: z.coerce.number().min(1).default(1000),
    /** `/events` heartbeat period (ms): a socket that misses one is dropped, so a dead one goes within two periods. */
    eventsHeartbeatMs: z.coerce.number().int().min(50).max(60_000).default(10_000),
    /** scrypt cost N of new password hashes (a power of two); hashes made with another are upgraded at login. */
    passwordScryptN: z.coerce
      .number()
      .int()
      .min(2 ** 14)
      .max(2 ** 20)
      .refine((n) => (n & (n - 1)) === 0, 'PASSWORD_SCRYPT_N must be a power of two')
      .default(2 ** 15),
    /** How long an invitation or password-reset link works, seconds. */
    invitationTtlSeconds: z.coerce
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .default(3 * 86_400),
    /** The media server's service secret (MEDIA_SERVICE_SECRET): lets the API end a disabled user's media sessions. */
    mediaServiceSecret: z.string().min(16, 'MEDIA_SERVICE_SECRET must be at least 16 characters').optional(),
    /** Call recording with consent (ENABLE_CALL_RECORDING); the media server needs it too. */
    enableCallRecording: z.boolean().default(false),
    /** Ready recordings are deleted this many days after they were stored (RECORDING_RETENTION_DAYS); unset keeps them. */
    recordingRetentionDays: z.coerce.number().min(0.0001).max(36_500).optional(),
    /** Largest recording file the media server may hand over (RECORDING_MAX_BYTES); it is encrypted in memory. */
    recordingMaxBytes: z.coerce
      .number()
      .int()
      .min(1024)
      .max(2 ** 31 - 1)
      .default(512 * 1024 * 1024),
    /** Presence with Redis: an instance's connections count only while it refreshes them within this TTL. */
    presenceTtlSeconds: z.coerce.number().min(0.2).max(3600).default(30),
    /** Retention (days; 0 keeps forever). The audit log is never deleted by it. */
    retentionQualitySamplesDays: z.coerce.number().min(0).max(36_500).default(90),
    retentionUserEventsDays: z.coerce.number().min(0).max(36_500).default(30),
    retentionMediaEventsDays: z.coerce.number().min(0).max(36_500).default(30),
    /** At least 2 days: missed-call mails look back one day and a deleted record would send one again. */
    retentionNotificationsDays: z.coerce
      .number()
      .min(0)
      .max(36_500)
      .refine((days) => days === 0 || days >= 2, 'RETENTION_NOTIFICATIONS_DAYS must be 0 (keep) or at least 2')
      .default(90),
    /** How often the retention sweep runs (one API instance at a time), seconds. */
    retentionIntervalSeconds: z.coerce
      .number()
      .min(1)
      .max(7 * 86_400)
      .default(3600),
    /** Rows per delete statement (short transactions; a sweep repeats until nothing is due). */
    retentionBatchSize: z.coerce.number().int().min(1).max(100_000).default(5000),
    /** Webhooks may target loopback and private addresses, and http: (tests, development only). */
    webhookAllowPrivateTargets: z.boolean().default(false),
    /** Attempts per webhook delivery before it is marked failed. */
    webhookMaxAttempts: z.coerce.number().int().min(1).max(50).default(8),
    /** Delay before the first retry, seconds; it doubles per attempt up to WEBHOOK_RETRY_MAX. */
    webhookRetryBaseSeconds: z.coerce.number().min(0.01).max(3600).default(10),
    webhookRetryMaxSeconds: z.coerce.number().min(0.01).max(86_400).default(3600),
    /** How long a webhook endpoint has to answer, seconds. */
    webhookTimeoutSeconds: z.coerce.number().min(0.1).max(120).default(10),
    /** How often each instance looks for due deliveries (retries, other instances' events), seconds. */
    webhookPollSeconds: z.coerce.number().min(0.05).max(3600).default(5),
  })
  .superRefine(
    (config, ctx) => {
      const s3Settings = { S3_ENDPOINT: config.s3Endpoint, S3_ACCESS_KEY_ID: config.s3AccessKeyId, S3_SECRET_ACCESS_KEY: config.s3SecretAccessKey };
      if (!config.s3Bucket) {
        const stray = Object.entries(s3Settings)
          .filter(([, value]) => value !== undefined)
          .map(([name]) => name);
        if (stray.length > 0)
          ctx.addIssue({
            code: 'custom',
            path: ['s3Bucket'],
            message: `S3_BUCKET is required when ${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set`,
          });
      }
      if (config.turnUrls.length > 0 && !config.turnSecret)
        ctx.addIssue({ code: 'custom', path: ['turnSecret'], message: 'TURN_SECRET is required when TURN_URLS is set' });
      if ((config.s3AccessKeyId === undefined) !== (config.s3SecretAccessKey === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [config.s3AccessKeyId ? 's3SecretAccessKey' : 's3AccessKeyId'],
          message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together (or leave both unset for the default AWS credential chain)',
        });
      }
    },
    { when: () => true },
  ); // also when other settings are wrong: every problem in one report

export type ApiConfig = z.infer<typeof ConfigSchema>;
export type ApiOptions = z.input<typeof ConfigSchema>;

/** Bad settings, one line per problem (the messages name the environment variables). */
export { ConfigError };

/** `variableOf` names a field's environment variable in the problems, unless its message does already. */
export function parseConfig(options: ApiOptions | Record<string, unknown>, variableOf?: (field: string) => string | undefined): ApiConfig {
  return parseConfigWith(ConfigSchema, options, { service: 'API', variableOf });
}

/** Settings that tests and embedders pass in code only: no environment variable reads them. */
type CodeOnlyOption = 'pgliteTemplate' | 'rateLimitWindowSeconds' | 'notifyIntervalSeconds';

/** Where each setting comes from in the environment. */
const ENV_SOURCES = {
  host: 'API_HOST',
  port: 'API_PORT',
  // NODE_ENV=production alone also means production, as most Node tooling reads it.
  mode: { variable: 'TELEMED_MODE', read: (env) => envText(env, 'TELEMED_MODE') ?? (env.NODE_ENV === 'production' ? 'production' : undefined) },
  roomTokenSecret: 'ROOM_TOKEN_SECRET',
  roomTokenTtlSeconds: 'ROOM_TOKEN_TTL',
  mediaPublicUrl: 'MEDIA_PUBLIC_URL',
  mediaInternalUrl: 'MEDIA_INTERNAL_URL',
  staticDir: 'STATIC_DIR',
  logLevel: 'LOG_LEVEL',
  databaseUrl: 'DATABASE_URL',
  databaseDir: 'DATABASE_DIR',
  databasePoolSize: 'DATABASE_POOL_SIZE',
  redisUrl: 'REDIS_URL',
  redisKeyPrefix: 'REDIS_KEY_PREFIX',
  encryptionKey: 'ENCRYPTION_KEY',
  accessTokenSecret: 'ACCESS_TOKEN_SECRET',
  accessTokenTtlSeconds: 'ACCESS_TOKEN_TTL',
  refreshIdleSeconds: 'SESSION_IDLE_TIMEOUT',
  refreshMaxSeconds: 'SESSION_MAX_AGE',
  sessionCheckTtlSeconds: 'SESSION_CHECK_TTL',
  mediaWebhookSecret: 'MEDIA_WEBHOOK_SECRET',
  callTimeoutSeconds: 'CALL_TIMEOUT',
  scheduledCallStartWindowSeconds: 'SCHEDULED_CALL_START_WINDOW',
  scheduledCallGraceSeconds: 'SCHEDULED_CALL_GRACE',
  corsOrigins: envList('CORS_ORIGINS'),
  loginRateLimit: 'LOGIN_RATE_LIMIT',
  loginAddressRateLimit: 'LOGIN_ADDRESS_RATE_LIMIT',
  messageRateLimit: 'MESSAGE_RATE_LIMIT',
  seedDemo: envFlag('SEED_DEMO'),
  smtpHost: 'SMTP_HOST',
  smtpPort: 'SMTP_PORT',
  smtpUser: 'SMTP_USER',
  smtpPassword: 'SMTP_PASSWORD',
  smtpFrom: 'SMTP_FROM',
  smtpSecure: envFlag('SMTP_SECURE'),
  unreadNotifyDelaySeconds: 'UNREAD_NOTIFY_DELAY',
  appBaseUrl: 'APP_BASE_URL',
  attachmentsDir: 'ATTACHMENTS_DIR',
  maxUploadBytes: 'MAX_UPLOAD_SIZE',
  s3Bucket: 'S3_BUCKET',
  s3Endpoint: 'S3_ENDPOINT',
  s3Region: 'S3_REGION',
  s3AccessKeyId: 'S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'S3_SECRET_ACCESS_KEY',
  s3ForcePathStyle: envFlag('S3_FORCE_PATH_STYLE'),
  metricsToken: 'METRICS_TOKEN',
  presenceTtlSeconds: 'PRESENCE_TTL',
  trustedProxies: envList('TRUSTED_PROXIES'),
  drainTimeoutSeconds: 'API_DRAIN_TIMEOUT',
  turnUrls: envList('TURN_URLS'),
  turnSecret: 'TURN_SECRET',
  turnTtlSeconds: 'TURN_TTL',
  slowQueryMs: 'SLOW_QUERY_MS',
  eventsHeartbeatMs: 'EVENTS_HEARTBEAT_MS',
  retentionQualitySamplesDays: 'RETENTION_QUALITY_SAMPLES_DAYS',
  retentionUserEventsDays: 'RETENTION_USER_EVENTS_DAYS',
  retentionMediaEventsDays: 'RETENTION_MEDIA_EVENTS_DAYS',
  retentionNotificationsDays: 'RETENTION_NOTIFICATIONS_DAYS',
  retentionIntervalSeconds: 'RETENTION_INTERVAL',
  retentionBatchSize: 'RETENTION_BATCH_SIZE',
  passwordScryptN: 'PASSWORD_SCRYPT_N',
  invitationTtlSeconds: 'INVITATION_TTL',
  mediaServiceSecret: 'MEDIA_SERVICE_SECRET',
  enableCallRecording: envFlag('ENABLE_CALL_RECORDING'),
  recordingRetentionDays: 'RECORDING_RETENTION_DAYS',
  recordingMaxBytes: 'RECORDING_MAX_BYTES',
  webhookAllowPrivateTargets: envFlag('WEBHOOK_ALLOW_PRIVATE_TARGETS'),
  webhookMaxAttempts: 'WEBHOOK_MAX_ATTEMPTS',
  webhookRetryBaseSeconds: 'WEBHOOK_RETRY_BASE',
  webhookRetryMaxSeconds: 'WEBHOOK_RETRY_MAX',
  webhookTimeoutSeconds: 'WEBHOOK_TIMEOUT',
  webhookPollSeconds: 'WEBHOOK_POLL_INTERVAL',
} satisfies Record<Exclude<keyof ApiOptions, CodeOnlyOption>, EnvSource>;

export function configFromEnv(env: Env = process.env): ApiConfig {
  const { input, variableOf } = readEnv(env, ENV_SOURCES);
  return parseConfig(input, variableOf);
}
