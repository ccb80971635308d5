// Several media nodes on one machine, each on its own loopback address (127.0.0.2, .3, …), sharing
// a real redis-server with one API: the built platform (API + the first node) plus extra nodes
// started from media-server/dist, all with REDIS_URL, so they register and the API places rooms.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MediaNodeInfo } from '@telemed/sdk/protocol';
import { startRedisServer, type RedisServer } from '../../../api/src/testing/redis-server.js';
import { stopProcess } from '../../../scripts/platform.mjs';
import { waitFor } from '../call-stats.js';
import type { TestPlatform } from '../calls/harness.js';
import { startTestPlatform } from '../platform.js';
import { freePortRange } from '../ports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface MediaNode {
  id: string;
  ip: string;
  /** Signaling URL (`RoomAccess.url` when the API places a room here). */
  url: string;
  process(): ChildProcess;
}

export interface Cluster {
  platform: TestPlatform;
  redis: RedisServer;
  nodes: MediaNode[];
  /** The node a signaling URL belongs to. */
  nodeOf(url: string): MediaNode | undefined;
  /** The registry as the API sees it (GET /api/admin/media-nodes). */
  registry(): Promise<(MediaNodeInfo & { score: number })[]>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  nodes: number;
  /** Extra environment for every media node (e.g. MEDIA_DRAIN_TIMEOUT). */
  mediaEnv?: Record<string, string>;
}

async function adminToken(apiUrl: string): Promise<string> {
  const res = await fetch(`${apiUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@telemed.demo', password: 'telemed-demo' }) });
  if (!res.ok) throw new Error(`admin login: HTTP ${res.status}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const workerBin = process.env.MEDIASOUP_WORKER_BIN;
  if (!workerBin) throw new Error('MEDIASOUP_WORKER_BIN is not set: run the tests with `npm test`');
  const redis = await startRedisServer();
  const keyPrefix = `scale-${process.pid}-${Date.now()}`;
  const children: ChildProcess[] = [];
  let platform: TestPlatform | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((child) => stopProcess(child, 2000)));
    await platform?.stop();
    redis.stop();
  };
  try {
    // Node 1 comes with the platform; its ports (and every node's) are free on 127.0.0.1 as well.
    const base = await freePortRange(3);
    const first = { id: 'media-1', ip: '127.0.0.2', port: base + 1 };
    const shared = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: keyPrefix, MEDIA_EMPTY_ROOM_GRACE_MS: '1000', ...options.mediaEnv };
    const nodeEnv = (node: { id: string; ip: string }): Record<string, string> => ({ ...shared, MEDIA_NODE_ID: node.id, MEDIA_HOST: node.ip, MEDIA_RTC_LISTEN_IP: node.ip });
    platform = (await startTestPlatform({
      apiPort: base, mediaPort: first.port, rtcBasePort: base + 2, numWorkers: 1,
      mediaEnv: nodeEnv(first),
      apiEnv: { SEED_DEMO: 'true', REDIS_URL: redis.url, REDIS_KEY_PREFIX: keyPrefix, MEDIA_PUBLIC_URL: `ws://${first.ip}:${first.port}/rtc`, MEDIA_INTERNAL_URL: `http://${first.ip}:${first.port}` },
    })) as TestPlatform;
    const started = platform;
    const nodes: MediaNode[] = [{ id: first.id, ip: first.ip, url: `ws://${first.ip}:${first.port}/rtc`, process: () => started.processes.media }];
    const logDir = path.join(ROOT, 'test-results', 'logs', `scale-${base}`);
    fs.mkdirSync(logDir, { recursive: true });
    for (let i = 2; i <= options.nodes; i++) {
      const ports = await freePortRange(2);
      const node = { id: `media-${i}`, ip: `127.0.0.${i + 1}` };
      const log = fs.openSync(path.join(logDir, `${node.id}.log`), 'a');
      const child = spawn(process.execPath, [path.join(ROOT, 'media-server', 'dist', 'main.js')], {
        cwd: ROOT,
        stdio: ['ignore', log, log],
        env: {
          ...process.env, ...nodeEnv(node), MEDIASOUP_WORKER_BIN: workerBin, LOG_LEVEL: 'info',
          MEDIA_PORT: String(ports), MEDIA_RTC_BASE_PORT: String(ports + 1), MEDIA_NUM_WORKERS: '1',
          ROOM_TOKEN_SECRET: started.secrets.roomTokenSecret, MEDIA_SERVICE_SECRET: started.secrets.serviceSecret,
          MEDIA_WEBHOOK_SECRET: started.secrets.mediaWebhookSecret, API_INTERNAL_URL: started.apiUrl,
        },
      });
      fs.closeSync(log);
      children.push(child);
      nodes.push({ id: node.id, ip: node.ip, url: `ws://${node.ip}:${ports}/rtc`, process: () => child });
    }
    const token = await adminToken(started.apiUrl);
    const registry = async (): Promise<(MediaNodeInfo & { score: number })[]> => {
      const res = await fetch(`${started.apiUrl}/api/admin/media-nodes`, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`media nodes: HTTP ${res.status}`);
      return ((await res.json()) as { items: (MediaNodeInfo & { score: number })[] }).items;
    };
    await waitFor(`${options.nodes} media nodes registered`, async () => ((await registry()).length === options.nodes ? true : undefined), 120_000);
    return { platform: started, redis, nodes, nodeOf: (url) => nodes.find((n) => n.url === url), registry, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
