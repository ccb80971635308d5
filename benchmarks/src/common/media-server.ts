// The built media server (media-server/dist/main.js) as its own process, alone: the SFU and
// signaling benchmarks measure the media path, which never touches the API.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { stopProcess } from '../../../scripts/platform.mjs';
import { ROOT } from './machine.js';
import { WaitAborted, waitFor } from '@telemed/test-kit';

export interface MediaServerProcess {
  wsUrl: string;
  httpUrl: string;
  roomTokenSecret: string;
  serviceSecret: string;
  process: ChildProcess;
  /** The process's last lines of output (its warnings and errors, at LOG_LEVEL warn). */
  recentOutput(): string;
  stop(): Promise<void>;
}

export interface MediaServerProcessOptions {
  workerBin: string;
  numWorkers: number;
  /** Signaling on basePort, workers' RTC on basePort + 1 + i. */
  basePort: number;
  env?: Record<string, string>;
}

export async function startMediaServer(options: MediaServerProcessOptions): Promise<MediaServerProcess> {
  const roomTokenSecret = randomBytes(32).toString('base64url');
  const serviceSecret = randomBytes(32).toString('base64url');
  const host = '127.0.0.1';
  const child = spawn(process.execPath, [path.join(ROOT, 'media-server', 'dist', 'main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      MEDIASOUP_WORKER_BIN: options.workerBin,
      ROOM_TOKEN_SECRET: roomTokenSecret,
      MEDIA_SERVICE_SECRET: serviceSecret,
      LOG_LEVEL: 'warn',
      MEDIA_HOST: host,
      MEDIA_PORT: String(options.basePort),
      MEDIA_RTC_BASE_PORT: String(options.basePort + 1),
      MEDIA_NUM_WORKERS: String(options.numWorkers),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const httpUrl = `http://${host}:${options.basePort}`;
  const stop = (): Promise<void> => stopProcess(child);
  try {
    await waitFor(
      'the media server /health',
      async () => {
        if (child.exitCode !== null) throw new WaitAborted(`media server exited (${child.exitCode}):\n${output.join('')}`);
        try {
          const res = await fetch(`${httpUrl}/health`, { signal: AbortSignal.timeout(1000) });
          return res.ok ? true : undefined;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { wsUrl: `ws://${host}:${options.basePort}/rtc`, httpUrl, roomTokenSecret, serviceSecret, process: child, recentOutput: () => output.join(''), stop };
}
