// The two targets of bench:api as their own processes: the BUILT API (api/dist/main.js) with
// PostgreSQL, and the bare Koa + pg baseline (bare-server.ts). Each reports the port it bound.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcess } from '../../../scripts/platform.mjs';
import { ROOT } from '../common/machine.js';
import { WaitAborted, waitFor } from '@telemed/test-kit';

export interface Target {
  name: 'api' | 'bare';
  url: string;
  pid: number;
  /** The application_name its database connections carry (to find their server processes). */
  applicationName: string;
  stop(): Promise<void>;
}

export interface ApiSecrets {
  encryptionKey: string;
  accessTokenSecret: string;
}

/** Starts `args` under Node and waits until a stdout line yields the port. */
async function startProcess(
  name: Target['name'],
  args: string[],
  env: NodeJS.ProcessEnv,
  port: (line: string) => number | undefined,
  applicationName: string,
): Promise<Target> {
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  let bound: number | undefined;
  let partial = '';
  const onData = (chunk: Buffer): void => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      output.push(line);
      if (output.length > 40) output.shift();
      bound ??= port(line);
    }
    // Once listening, the log is only drained (read and dropped), never parsed.
    if (bound !== undefined) child.stdout?.off('data', onData).resume();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const stop = (): Promise<void> => stopProcess(child);
  try {
    await waitFor(
      `the ${name} server`,
      () => {
        if (child.exitCode !== null) throw new WaitAborted(`${name} exited (${child.exitCode}):\n${output.join('\n')}`);
        return bound;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, url: `http://127.0.0.1:${bound}`, pid: child.pid ?? 0, applicationName, stop };
}

const withApplicationName = (url: string, name: string): string => {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
};

export function startApi(databaseUrl: string, secrets: ApiSecrets, poolSize: number, nodeFlags: string[] = []): Promise<Target> {
  const applicationName = 'bench-api-telemed';
  return startProcess(
    'api',
    [...nodeFlags, path.join(ROOT, 'api', 'dist', 'main.js')],
    {
      ...process.env,
      TELEMED_MODE: 'production',
      LOG_LEVEL: 'info', // the production default: one JSON line per request
      API_HOST: '127.0.0.1',
      API_PORT: '0',
      DATABASE_URL: withApplicationName(databaseUrl, applicationName),
      DATABASE_POOL_SIZE: String(poolSize),
      ENCRYPTION_KEY: secrets.encryptionKey,
      ACCESS_TOKEN_SECRET: secrets.accessTokenSecret,
      ACCESS_TOKEN_TTL: '3600',
      ROOM_TOKEN_SECRET: 'bench-room-token-secret-0123456789',
      MEDIA_WEBHOOK_SECRET: 'bench-media-webhook-secret-0123456789',
      // Configuration, not code: the per-user send limit (120/min by default) would answer most of
      // a 1,000 req/s run with 429; the logins of the bench users must not be limited either.
      MESSAGE_RATE_LIMIT: '1000000000',
      LOGIN_RATE_LIMIT: '1000000',
      LOGIN_ADDRESS_RATE_LIMIT: '1000000',
    },
    (line) => {
      if (!line.includes('api listening')) return undefined;
      try {
        return (JSON.parse(line) as { port?: number }).port;
      } catch {
        return undefined;
      }
    },
    applicationName,
  );
}

export function startBare(databaseUrl: string, poolSize: number): Promise<Target> {
  const applicationName = 'bench-api-bare';
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bare-server.js');
  return startProcess(
    'bare',
    [script, withApplicationName(databaseUrl, applicationName), String(poolSize)],
    process.env,
    (line) => {
      const match = /^listening (\d+)$/.exec(line);
      return match ? Number(match[1]) : undefined;
    },
    applicationName,
  );
}
