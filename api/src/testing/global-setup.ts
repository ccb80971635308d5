// vitest globalSetup for the unit project: a real PostgreSQL 15 (the local cluster, started if it
// is down, with a throwaway role) and a real redis-server on a free port. Both are installed by
// scripts/system-packages.sh (profile test).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { ensurePgliteTemplate } from './pglite-template.js';
import { startRedisServer } from './redis-server.js';

// The provided values are declared in test-app.ts (ProvidedContext).

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const psql = (sql: string): string => run('runuser', ['-u', 'postgres', '--', 'psql', '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]);

function cluster(): { port: number; online: boolean } {
  const line = run('pg_lsclusters', ['--no-header']).split('\n').find((l) => /^15\s+main\s/.test(l));
  if (!line) throw new Error('PostgreSQL 15 (cluster 15/main) is not installed: run scripts/system-packages.sh test');
  const [, , port, status] = line.trim().split(/\s+/);
  return { port: Number(port), online: status === 'online' };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Left running afterwards: several test runs may share the cluster, each with its own role.
  const { port, online } = cluster();
  if (!online) run('pg_ctlcluster', ['15', 'main', 'start']);
  const role = `telemed_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  psql(`create role ${role} login createdb password '${password}'`);
  project.provide('pgAdminUrl', `postgres://${role}:${password}@127.0.0.1:${port}/postgres`);

  const redis = await startRedisServer();
  project.provide('redisUrl', redis.url);

  // Once, before the workers start (they would each build it at the same time).
  await ensurePgliteTemplate();

  return async () => {
    redis.stop();
    const databases = psql(`select datname from pg_database d join pg_roles r on r.oid = d.datdba where r.rolname = '${role}'`).split('\n').filter(Boolean);
    for (const name of databases) psql(`drop database if exists "${name}" with (force)`);
    psql(`drop role if exists ${role}`);
  };
}
