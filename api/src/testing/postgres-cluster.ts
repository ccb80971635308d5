// The machine's PostgreSQL 15 cluster (installed by scripts/system-packages.sh, profile test),
// started if it is down and left running (several test runs may share it), and throwaway roles on
// it: the unit project's globalSetup and the e2e files that run several API instances use it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const psql = (sql: string): string => run('runuser', ['-u', 'postgres', '--', 'psql', '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]);

/** Starts cluster 15/main when it is down; answers its port. */
export function ensurePostgresCluster(): number {
  const line = run('pg_lsclusters', ['--no-header'])
    .split('\n')
    .find((l) => /^15\s+main\s/.test(l));
  if (!line) throw new Error('PostgreSQL 15 (cluster 15/main) is not installed: run scripts/system-packages.sh test');
  const [, , port, status] = line.trim().split(/\s+/);
  if (status !== 'online') run('pg_ctlcluster', ['15', 'main', 'start']);
  return Number(port);
}

export interface PostgresRole {
  /** Connection URL of `database` (default `postgres`) as this role. */
  url(database?: string): string;
  /** Creates a database this role owns; answers its URL. */
  createDatabase(name: string): string;
  /** Drops the role's databases (connections forced closed) and the role. */
  drop(): void;
}

/** A login role that may create databases, on the running cluster. */
export function createPostgresRole(port = ensurePostgresCluster()): PostgresRole {
  const role = `telemed_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  psql(`create role ${role} login createdb password '${password}'`);
  const url = (database = 'postgres'): string => `postgres://${role}:${password}@127.0.0.1:${port}/${database}`;
  return {
    url,
    createDatabase: (name) => {
      psql(`create database "${name}" owner ${role}`);
      return url(name);
    },
    drop: () => {
      const databases = psql(`select datname from pg_database d join pg_roles r on r.oid = d.datdba where r.rolname = '${role}'`).split('\n').filter(Boolean);
      for (const name of databases) psql(`drop database if exists "${name}" with (force)`);
      psql(`drop role if exists ${role}`);
    },
  };
}
