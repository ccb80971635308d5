// A real redis-server on a free loopback port, for the test setup and for tests that need their
// own server (to stop it under a running API).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface RedisServer {
  url: string;
  /** Kills the server (SIGKILL: as a crash, no clean shutdown). Idempotent. */
  kill(): void;
  /** Starts a new, empty server on the same port once the previous one has exited (after kill()). */
  restart(): Promise<void>;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForRedis(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('error', () => resolve(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('redis-server did not answer PING within 10 s');
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
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
