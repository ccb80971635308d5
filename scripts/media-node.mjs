// One more media node from media-server/dist, registered in Redis beside the platform's own (see
// startPlatform): the scale tests and bench:failover run several on their own loopback addresses.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {import('./media-node.d.mts').MediaNodeOptions} options
 * @returns {import('./media-node.d.mts').SpawnedMediaNode}
 */
export function spawnMediaNode(options) {
  const { id, ip, port, secrets } = options;
  let log = 'ignore';
  if (options.logFile) {
    fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
    log = fs.openSync(options.logFile, 'a');
  }
  const child = spawn(process.execPath, [path.join(ROOT, 'media-server', 'dist', 'main.js')], {
    cwd: ROOT,
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      MEDIASOUP_WORKER_BIN: options.workerBin,
      LOG_LEVEL: options.logLevel ?? 'info',
      MEDIA_NODE_ID: id,
      MEDIA_HOST: ip,
      MEDIA_RTC_LISTEN_IP: ip,
      MEDIA_PORT: String(port),
      MEDIA_RTC_BASE_PORT: String(options.rtcBasePort ?? port + 1),
      MEDIA_NUM_WORKERS: String(options.numWorkers ?? 1),
      REDIS_URL: options.redisUrl,
      REDIS_KEY_PREFIX: options.keyPrefix,
      ROOM_TOKEN_SECRET: secrets.roomTokenSecret,
      MEDIA_SERVICE_SECRET: secrets.serviceSecret,
      MEDIA_WEBHOOK_SECRET: secrets.mediaWebhookSecret,
      API_INTERNAL_URL: options.apiInternalUrl,
      ...options.env,
    },
  });
  if (typeof log === 'number') fs.closeSync(log);
  return { id, ip, url: `ws://${ip}:${port}/rtc`, child };
}
