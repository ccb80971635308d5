// Several media nodes on one machine, each on its own loopback address (127.0.0.2, .3, …), sharing
// a real redis-server with one API: the built platform (API + the first node) plus extra nodes
// started from media-server/dist, all with REDIS_URL, so they register and the API places rooms.
// With `apiInstances: 2`, a second API instance shares a real PostgreSQL database and Redis with the
// first, behind Caddy with the deployment's Caddyfile (round robin, no sticky sessions).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MediaNodeInfo } from '@telemed/sdk/protocol';
import { createPostgresRole, type PostgresRole } from '../../../api/src/testing/postgres-cluster.js';
import { startRedisServer, type RedisServer } from '../../../api/src/testing/redis-server.js';
import { spawnMediaNode } from '../../../scripts/media-node.mjs';
import { startApiInstance, stopProcess, type ApiInstance } from '../../../scripts/platform.mjs';
import { startCaddy, type Caddy } from '../deploy/caddy.js';

import type { TestPlatform } from '../calls/harness.js';
import { startTestPlatform } from '../platform.js';
import { freePortRange, waitFor } from '@telemed/test-kit';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface MediaNode {
  id: string;
  ip: string;
  /** Signaling URL (`RoomAccess.url` when the API places a room here). */
  url: string;
  process(): ChildProcess;
}

export interface ApiProcess {
  url: string;
  process(): ChildProcess;
}

export interface Cluster {
  platform: TestPlatform;
  /** Where clients go: Caddy in front of the API instances, or the one API. */
  apiUrl: string;
  /** The API instances, the platform's first. */
  apis: ApiProcess[];
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
  /** Extra environment for every API instance (e.g. CALL_TIMEOUT). */
  apiEnv?: Record<string, string>;
  /** 2: two API instances on one PostgreSQL database behind Caddy (default 1, on PGlite). */
  apiInstances?: 1 | 2;
}

/** Where the API places `room` (a token for a probe identity; nobody joins). */
export async function placeDevRoom(apiUrl: string, room: string): Promise<string> {
  const res = await fetch(`${apiUrl}/api/dev/room-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ room, identity: `probe-${room}` }),
  });
  if (!res.ok) throw new Error(`dev room token: HTTP ${res.status}`);
  return ((await res.json()) as { url: string }).url;
}

async function adminToken(apiUrl: string): Promise<string> {
  const res = await fetch(`${apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@telemed.demo', password: 'telemed-demo' }),
  });
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
  let postgres: PostgresRole | undefined;
  let second: ApiInstance | undefined;
  let caddy: Caddy | undefined;
  const caddyDir = options.apiInstances === 2 ? fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-scale-caddy-')) : undefined;
  const stop = async (): Promise<void> => {
    await caddy?.stop();
    await Promise.all(children.map((child) => stopProcess(child, 2000)));
    await second?.stop();
    await platform?.stop();
    redis.stop();
    postgres?.drop();
    if (caddyDir) fs.rmSync(caddyDir, { recursive: true, force: true });
  };
  try {
    // Node 1 comes with the platform; its ports (and every node's) are free on 127.0.0.1 as well.
    const base = await freePortRange(3);
    const first = { id: 'media-1', ip: '127.0.0.2', port: base + 1 };
    const settings = { MEDIA_EMPTY_ROOM_GRACE_MS: '1000', ...options.mediaEnv };
    const logDir = path.join(ROOT, 'test-results', 'logs', `scale-${base}`);
    if (options.apiInstances === 2) postgres = createPostgresRole();
    const apiEnv = {
      SEED_DEMO: 'true',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: keyPrefix,
      MEDIA_PUBLIC_URL: `ws://${first.ip}:${first.port}/rtc`,
      MEDIA_INTERNAL_URL: `http://${first.ip}:${first.port}`,
      ...(postgres ? { DATABASE_URL: postgres.createDatabase(`telemed_scale_${base}`) } : {}),
      ...options.apiEnv,
    };
    platform = (await startTestPlatform({
      apiPort: base,
      mediaPort: first.port,
      rtcBasePort: base + 2,
      numWorkers: 1,
      mediaEnv: {
        ...settings,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: keyPrefix,
        MEDIA_NODE_ID: first.id,
        MEDIA_HOST: first.ip,
        MEDIA_RTC_LISTEN_IP: first.ip,
      },
      apiEnv,
    })) as TestPlatform;
    const started = platform;
    const apis: ApiProcess[] = [{ url: started.apiUrl, process: () => started.processes.api }];
    let apiUrl = started.apiUrl;
    if (options.apiInstances === 2) {
      // Started once the first has migrated and seeded the database.
      const [apiPort, proxyPort] = [await freePortRange(1), await freePortRange(1)];
      const instance = await startApiInstance({
        apiPort,
        mediaPort: first.port,
        mode: 'test',
        logLevel: 'warn',
        secrets: started.secrets,
        apiEnv,
        logDir,
        name: 'api-2',
        startTimeoutMs: 150_000,
      });
      second = instance;
      apis.push({ url: instance.apiUrl, process: () => instance.process });
      caddy = await startCaddy({
        dir: caddyDir!,
        domain: '127.0.0.1',
        port: proxyPort,
        api: apis.map((a) => new URL(a.url).host).join(' '),
        media: `${first.ip}:${first.port}`,
      });
      apiUrl = `http://127.0.0.1:${proxyPort}`;
    }
    const nodes: MediaNode[] = [{ id: first.id, ip: first.ip, url: `ws://${first.ip}:${first.port}/rtc`, process: () => started.processes.media }];
    for (let i = 2; i <= options.nodes; i++) {
      const port = await freePortRange(2);
      const id = `media-${i}`;
      const node = spawnMediaNode({
        id,
        ip: `127.0.0.${i + 1}`,
        port,
        workerBin,
        secrets: started.secrets,
        redisUrl: redis.url,
        keyPrefix,
        apiInternalUrl: started.apiUrl,
        logFile: path.join(logDir, `${id}.log`),
        env: settings,
      });
      children.push(node.child);
      nodes.push({ id, ip: node.ip, url: node.url, process: () => node.child });
    }
    const token = await adminToken(started.apiUrl);
    const registry = async (): Promise<(MediaNodeInfo & { score: number })[]> => {
      const res = await fetch(`${started.apiUrl}/api/admin/media-nodes`, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`media nodes: HTTP ${res.status}`);
      return ((await res.json()) as { items: (MediaNodeInfo & { score: number })[] }).items;
    };
    await waitFor(`${options.nodes} media nodes registered`, async () => ((await registry()).length === options.nodes ? true : undefined), {
      timeoutMs: 120_000,
    });
    return { platform: started, apiUrl, apis, redis, nodes, nodeOf: (url) => nodes.find((n) => n.url === url), registry, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
