// vitest globalSetup for the unit project: a real PostgreSQL 15 (the local cluster, started if it
// is down, with a throwaway role) and a real redis-server on a free port. Both are installed by
// scripts/system-packages.sh (profile test).
import type { TestProject } from 'vitest/node';
import { ensurePgliteTemplate } from './pglite-template.js';
import { createPostgresRole } from './postgres-cluster.js';
import { startRedisServer } from './redis-server.js';

// The provided values are declared in test-app.ts (ProvidedContext).

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The cluster is left running afterwards: several test runs may share it, each with its own role.
  const role = createPostgresRole();
  project.provide('pgAdminUrl', role.url());

  const redis = await startRedisServer();
  project.provide('redisUrl', redis.url);

  // Once, before the workers start (they would each build it at the same time).
  await ensurePgliteTemplate();

  return async () => {
    redis.stop();
    role.drop();
  };
}
