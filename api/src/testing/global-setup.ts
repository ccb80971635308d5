// vitest globalSetup for the unit project: a real PostgreSQL 15 (the local cluster, started if it
// is down, with a throwaway role) and a real redis-server on a free port. Both are installed by
// scripts/system-packages.sh (profile test).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { TestProject } from 'vitest/node';

// The provided values are declared in test-app.ts (ProvidedContext).

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const psql = (sql: string): string => run('runuser', ['-u', 'postgres', '--', 'psql', '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]);

function cluster(): { port: number; online: boolean } {
  const line = run('pg_lsclusters', ['--no-header']).split('\n').find((l) => /^15\s+main\s/.test(l));
  if (!line) throw new Error('PostgreSQL 15 (cluster 15/main) is not installed: run scripts/system-packages.sh test');
  const [, , port, status] = line.trim().split(/\s+/);
  return { port: Number(port), online: status === 'online' };
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

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Left running afterwards: several test runs may share the cluster, each with its own role.
  const { port, online } = cluster();
  if (!online) run('pg_ctlcluster', ['15', 'main', 'start']);
  const role = `telemed_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  psql(`create role ${role} login createdb password '${password}'`);
  project.provide('pgAdminUrl', `postgres://${role}:${password}@127.0.0.1:${port}/postgres`);

  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitForRedis(redisPort, redis);
  project.provide('redisUrl', `redis://127.0.0.1:${redisPort}`);

  return async () => {
    redis.kill('SIGTERM');
    const databases = psql(`select datname from pg_database d join pg_roles r on r.oid = d.datdba where r.rolname = '${role}'`).split('\n').filter(Boolean);
    for (const name of databases) psql(`drop database if exists "${name}" with (force)`);
    psql(`drop role if exists ${role}`);
  };
}
