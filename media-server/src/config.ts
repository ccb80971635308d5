import os from 'node:os';
import { z } from 'zod';
import { envFlag, parseConfigWith, readEnv, type Env, type EnvSource } from '@telemed/server-kit';

const port = z.coerce.number().int().min(1).max(65535);

const ConfigSchema = z.object({
  /** HTTP + WebSocket signaling listen address and port (`/rtc`, `/health`, `/rooms/:id/stats`). */
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(4443),
  /** One mediasoup worker per core unless set. */
  numWorkers: z.coerce.number().int().min(1).max(64).default(os.cpus().length),
  /** IP the WebRtcServers listen on, and the one announced to clients in ICE candidates. */
  rtcListenIp: z.string().default('127.0.0.1'),
  rtcAnnouncedIp: z.string().optional(),
  /** Worker i listens on rtcBasePort + i, UDP and TCP. */
  rtcBasePort: port.default(40000),
  /** HS256 secret shared with the API, which issues room tokens. */
  roomTokenSecret: z.string().min(16, 'ROOM_TOKEN_SECRET must be at least 16 characters'),
  /** Secret for service requests (room stats) from the API and tests. */
  serviceSecret: z.string().min(16).optional(),
  maxParticipantsPerRoom: z.coerce.number().int().min(2).default(50),
  /** Consumers one worker serves for a room before new participants go to another worker (pipeToRouter). */
  consumersPerWorker: z.coerce.number().int().min(1).default(500),
  /** A call ends this many seconds after its room was created (MAX_CALL_DURATION). */
  maxCallDurationSec: z.coerce.number().int().min(1).default(3600),
  /**
   * Seconds before MAX_CALL_DURATION at which everyone in a call is told it ends soon
   * (`callEndingSoon`), comma-separated; `none` for no warning.
   */
  callEndWarningsSec: z
    .union([z.string(), z.array(z.number())])
    .transform((value) => (typeof value !== 'string' ? value : value.trim() === 'none' ? [] : value.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)))))
    .pipe(z.array(z.number().positive('CALL_END_WARNINGS: each comma-separated entry must be a number of seconds above 0, or the whole value `none`')))
    .default([300, 60]),
  /**
   * On SIGTERM: no new rooms; running calls may go on this long before the server stops, seconds.
   * 0 (stop at once) unless set: `telemed serve` sets 900, npm start and the tests keep 0.
   */
  drainTimeoutSec: z.coerce.number().min(0).max(86_400).default(0),
  /** An empty room stays open this long for someone to come back, ms. */
  emptyRoomGraceMs: z.coerce.number().int().min(0).default(10_000),
  /** A participant whose signaling socket dropped may resume its session within this time, ms. */
  resumeGraceMs: z.coerce.number().int().min(0).default(20_000),
  /** Producer/consumer/transport stats sampling period, ms. */
  statsIntervalMs: z.coerce.number().int().min(200).default(5_000),
  /**
   * The API's internal base URL for media events and recordings, or several instances' separated by
   * commas (each used until it fails, then the next); events are disabled without it and a secret.
   */
  apiInternalUrl: z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (typeof value === 'string' ? value.split(',') : value).map((url) => url.trim()).filter((url) => url !== ''))
    .pipe(z.array(z.string().url('API_INTERNAL_URL: each comma-separated entry must be a URL')).min(1, 'API_INTERNAL_URL names no URL'))
    .optional(),
  /** Media events kept while the API is unreachable; the oldest are dropped beyond it (and counted). */
  eventQueueMax: z.coerce.number().int().min(1).default(10_000),
  /** HS256 secret for media events (MEDIA_WEBHOOK_SECRET). */
  webhookSecret: z.string().min(16).optional(),
  /** This node's name in media events. */
  nodeId: z.string().min(1).default(os.hostname()),
  /** Bearer token for GET /metrics (METRICS_TOKEN); without it only loopback clients may scrape. */
  metricsToken: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  /** Call recording (ENABLE_CALL_RECORDING): off unless enabled; needs apiInternalUrl and webhookSecret. */
  enableRecording: z.boolean().default(false),
  /** Where recordings are written until the API has them (MEDIA_RECORDING_DIR). */
  recordingDir: z.string().default('./data/recordings'),
  /** The FFmpeg binary that records and muxes (FFMPEG_PATH). */
  ffmpegPath: z.string().default('ffmpeg'),
  /** FFprobe, which checks each track file before muxing (FFPROBE_PATH). */
  ffprobePath: z.string().default('ffprobe'),
  /**
   * Redis for the media node registry (REDIS_URL): this node heartbeats its URL and load there and
   * the API places rooms on the least-loaded node. Without it: one node, MEDIA_PUBLIC_URL as today.
   */
  redisUrl: z.string().optional(),
  redisKeyPrefix: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'REDIS_KEY_PREFIX: letters, digits, ":", "_", "-" (at most 64)')
    .default('telemed'),
  /** This node's signaling URL as browsers reach it (MEDIA_PUBLIC_URL); ws://host:port/rtc unless set. */
  publicUrl: z.string().url().optional(),
  /** This node's HTTP base as the API reaches it (MEDIA_INTERNAL_URL); http://host:port unless set. */
  internalUrl: z.string().url().optional(),
  /** Location label in the registry (MEDIA_REGION). */
  region: z.string().min(1).max(64).default('default'),
  /** Consumers this node takes before placement skips it (MEDIA_NODE_CAPACITY); numWorkers × consumersPerWorker unless set. */
  nodeCapacity: z.coerce.number().int().min(1).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  workerBin: z.string().optional(),
});

export type MediaServerConfig = z.infer<typeof ConfigSchema>;
export type MediaServerOptions = z.input<typeof ConfigSchema>;

export function parseConfig(options: MediaServerOptions | Record<string, unknown>, variableOf?: (field: string) => string | undefined): MediaServerConfig {
  return parseConfigWith(ConfigSchema, options, { service: 'media server', variableOf });
}

/** Where each setting comes from in the environment. */
const ENV_SOURCES = {
  host: 'MEDIA_HOST',
  port: 'MEDIA_PORT',
  numWorkers: 'MEDIA_NUM_WORKERS',
  rtcListenIp: 'MEDIA_RTC_LISTEN_IP',
  rtcAnnouncedIp: 'ANNOUNCED_IP',
  rtcBasePort: 'MEDIA_RTC_BASE_PORT',
  roomTokenSecret: 'ROOM_TOKEN_SECRET',
  serviceSecret: 'MEDIA_SERVICE_SECRET',
  maxParticipantsPerRoom: 'MAX_PARTICIPANTS_PER_ROOM',
  consumersPerWorker: 'MEDIA_CONSUMERS_PER_WORKER',
  maxCallDurationSec: 'MAX_CALL_DURATION',
  callEndWarningsSec: 'CALL_END_WARNINGS',
  drainTimeoutSec: 'MEDIA_DRAIN_TIMEOUT',
  emptyRoomGraceMs: 'MEDIA_EMPTY_ROOM_GRACE_MS',
  resumeGraceMs: 'MEDIA_RESUME_GRACE_MS',
  statsIntervalMs: 'MEDIA_STATS_INTERVAL_MS',
  apiInternalUrl: 'API_INTERNAL_URL',
  webhookSecret: 'MEDIA_WEBHOOK_SECRET',
  eventQueueMax: 'MEDIA_EVENT_QUEUE_MAX',
  nodeId: 'MEDIA_NODE_ID',
  metricsToken: 'METRICS_TOKEN',
  enableRecording: envFlag('ENABLE_CALL_RECORDING'),
  recordingDir: 'MEDIA_RECORDING_DIR',
  ffmpegPath: 'FFMPEG_PATH',
  ffprobePath: 'FFPROBE_PATH',
  redisUrl: 'REDIS_URL',
  redisKeyPrefix: 'REDIS_KEY_PREFIX',
  publicUrl: 'MEDIA_PUBLIC_URL',
  internalUrl: 'MEDIA_INTERNAL_URL',
  region: 'MEDIA_REGION',
  nodeCapacity: 'MEDIA_NODE_CAPACITY',
  logLevel: 'LOG_LEVEL',
  workerBin: 'MEDIASOUP_WORKER_BIN',
} satisfies Record<keyof MediaServerOptions, EnvSource>;

/** Reads the configuration from the environment (`MEDIA_*`, `ROOM_TOKEN_SECRET`, ...). */
export function configFromEnv(env: Env = process.env): MediaServerConfig {
  const { input, variableOf } = readEnv(env, ENV_SOURCES);
  return parseConfig(input, variableOf);
}
