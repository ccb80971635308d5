// Media nodes (three unless told) on 127.0.0.2, .3, …, each with one mediasoup worker, registered
// in a throwaway redis-server, and the API placing rooms on them (the platform's own node is
// media-1): the set-up of bench:failover, bench:placement and bench:sfu's cross-node points.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { MediaNodeLoad } from '@telemed/sdk/protocol';
import { spawnMediaNode } from '../../../scripts/media-node.mjs';
import { generateSecrets, startPlatform, stopProcess, type Platform } from '../../../scripts/platform.mjs';
import { withFreePorts } from './args.js';
import { ROOT } from './machine.js';
import { freePortRange, waitFor } from '@telemed/test-kit';

export interface ClusterNode {
  id: string;
  ip: string;
  port: number;
  rtcBasePort: number;
  child: ChildProcess;
  /** Its signaling URL, as the API hands it out. */
  url: string;
}

/** A media node as the API's admin route (`GET /api/admin/media-nodes`) shows it. */
export interface RegisteredNode {
  id: string;
  url: string;
  draining: boolean;
  capacity: { consumers: number };
  load: MediaNodeLoad;
  /** The node's last heartbeat, ISO 8601. */
  heartbeatAt: string;
}

export interface BenchCluster {
  platform: Platform;
  secrets: ReturnType<typeof generateSecrets>;
  nodes: ClusterNode[];
  /** A demo user's access token. */
  login(email: string): Promise<string>;
  /** A JSON request to the API; throws on an error status. */
  api<T>(token: string, method: 'GET' | 'POST', url: string, body?: unknown): Promise<T>;
  /** The registry as the API's admin route shows it. */
  registry(): Promise<RegisteredNode[]>;
  /** Starts `node` again (same address and ports) once its process has exited, and waits until every node is registered. */
  restart(node: ClusterNode): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net
      .createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
  });
}

/** A throwaway redis-server (no persistence) on a free loopback port. */
async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(
    'redis-server',
    () =>
      new Promise<true | undefined>((resolve) => {
        const socket = net
          .connect(port, '127.0.0.1')
          .once('error', () => resolve(undefined))
          .once('connect', () => {
            socket.destroy();
            resolve(true);
          });
      }),
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  return { url: `redis://127.0.0.1:${port}`, child };
}

export interface ClusterOptions {
  /** Names the key prefix, the data folder and the node logs (test-results/logs/bench-<name>/). */
  name: string;
  workerBin: string;
  /** Media nodes, media-1 (beside the API) to media-<nodes> (default 3). */
  nodes?: number;
  /** Added to every media node's environment. */
  mediaEnv?: Record<string, string>;
  /** Added to one node's environment after `mediaEnv`, by node id. */
  nodeEnv?: Record<string, Record<string, string>>;
}

export async function startCluster(options: ClusterOptions): Promise<BenchCluster> {
  const redis = await startRedis();
  const keyPrefix = `bench-${options.name}-${process.pid}`;
  const secrets = generateSecrets();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `telemed-bench-${options.name}-`));
  const logDir = path.join(ROOT, 'test-results', 'logs', `bench-${options.name}`);
  const mediaEnv = options.mediaEnv ?? {};
  const nodeCount = options.nodes ?? 3;
  const nodes: ClusterNode[] = [];
  const platform: Platform = await withFreePorts(3, (base) => {
    nodes.length = 0;
    return startPlatform({
      apiPort: base,
      mediaPort: base + 1,
      rtcBasePort: base + 2,
      numWorkers: 1,
      mode: 'test',
      workerBin: options.workerBin,
      secrets,
      logLevel: 'warn',
      dataDir,
      // The shared machine at load 40+ starts the API in minutes, not the default 30 s.
      startTimeoutMs: 180_000,
      mediaEnv: {
        ...mediaEnv,
        ...options.nodeEnv?.['media-1'],
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: keyPrefix,
        MEDIA_NODE_ID: 'media-1',
        MEDIA_HOST: '127.0.0.2',
        MEDIA_RTC_LISTEN_IP: '127.0.0.2',
      },
      apiEnv: {
        SEED_DEMO: 'true',
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: keyPrefix,
        MEDIA_PUBLIC_URL: `ws://127.0.0.2:${base + 1}/rtc`,
        MEDIA_INTERNAL_URL: `http://127.0.0.2:${base + 1}`,
      },
    }).then((started) => {
      nodes.push({
        id: 'media-1',
        ip: '127.0.0.2',
        port: base + 1,
        rtcBasePort: base + 2,
        child: started.processes.media,
        url: `ws://127.0.0.2:${base + 1}/rtc`,
      });
      return started;
    });
  });
  const spawnNode = (slot: Omit<ClusterNode, 'child' | 'url'>): ClusterNode => {
    const spawned = spawnMediaNode({
      ...slot,
      workerBin: options.workerBin,
      secrets,
      redisUrl: redis.url,
      keyPrefix,
      apiInternalUrl: platform.apiUrl,
      logLevel: 'warn',
      env: { ...mediaEnv, ...options.nodeEnv?.[slot.id] },
      logFile: path.join(logDir, `${slot.id}.log`),
    });
    return { ...slot, child: spawned.child, url: spawned.url };
  };
  for (let i = 2; i <= nodeCount; i++) {
    const port = await freePortRange(2);
    nodes.push(spawnNode({ id: `media-${i}`, ip: `127.0.0.${i + 1}`, port, rtcBasePort: port + 1 }));
  }

  const api = async <T>(token: string, method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${platform.apiUrl}${url}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
    });
    if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const login = async (email: string): Promise<string> =>
    (await api<{ accessToken: string }>('', 'POST', '/api/auth/login', { email, password: 'telemed-demo' })).accessToken;
  const admin = await login('admin@telemed.demo');
  const registry = async (): Promise<RegisteredNode[]> => (await api<{ items: RegisteredNode[] }>(admin, 'GET', '/api/admin/media-nodes')).items;
  const allRegistered = (what: string): Promise<true> =>
    waitFor(what, async () => ((await registry()).length === nodeCount ? true : undefined), { timeoutMs: 120_000, intervalMs: 100 });
  await allRegistered(`${nodeCount} media nodes registered`);

  return {
    platform,
    secrets,
    nodes,
    login,
    api,
    registry,
    async restart(node) {
      await new Promise((resolve) => (node.child.exitCode !== null || node.child.signalCode !== null ? resolve(undefined) : node.child.once('exit', resolve)));
      node.child = spawnNode(node).child;
      await allRegistered(`${node.id} registered again`);
    },
    async stop() {
      await Promise.all(nodes.slice(1).map((n) => stopProcess(n.child, 2000)));
      await stopProcess(nodes[0]!.child, 2000);
      await platform.stop();
      await stopProcess(redis.child, 2000);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
