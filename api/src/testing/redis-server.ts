// A real redis-server on a free loopback port, for the test setup and for tests that need their
// own server (to stop it under a running API).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePortRange, waitFor, WaitAborted } from '@telemed/test-kit';

export interface RedisServer {
  url: string;
  /** Kills the server (SIGKILL: as a crash, no clean shutdown). Idempotent. */
  kill(): void;
  /** Starts a new, empty server on the same port once the previous one has exited (after kill()). */
  restart(): Promise<void>;
  stop(): void;
}

/** True when a Redis server answers PING on `port`. */
function answersPing(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('error', () => resolve(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
  });
}

function waitForRedis(port: number, child: ChildProcess): Promise<true> {
  return waitFor(
    `redis-server answering PING on port ${port}`,
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new WaitAborted(`redis-server exited (${child.exitCode ?? child.signalCode})`);
      return (await answersPing(port)) || undefined;
    },
    { intervalMs: 50 },
  );
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePortRange(1);
  const spawnServer = (): ChildProcess =>
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let child = spawnServer();
  await waitForRedis(port, child);
  return {
    url: `redis://127.0.0.1:${port}`,
    kill: () => void child.kill('SIGKILL'),
    restart: async () => {
      if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
      child = spawnServer();
      await waitForRedis(port, child);
    },
    stop: () => void child.kill('SIGTERM'),
  };
}
