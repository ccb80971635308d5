// A throwaway database on the machine's PostgreSQL 15 cluster (15/main), the way the API's test
// setup (api/src/testing/global-setup.ts) reaches it: start the cluster if it is down, then, as the
// postgres OS user over peer auth, a login role with a random password that owns a fresh database.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpuSeconds } from '../common/proc.js';

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Runs SQL as the postgres superuser (peer auth); returns unaligned, tuples-only output. */
export const psql = (sql: string, database = 'postgres'): string =>
  run('runuser', ['-u', 'postgres', '--', 'psql', '-d', database, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]);

export interface BenchDatabase {
  /** postgres://role:password@127.0.0.1:port/name (TCP needs the password). */
  url: string;
  name: string;
  serverVersion: string;
  /** Drops the database and its role; idempotent. */
  drop(): void;
}

export function createDatabase(): BenchDatabase {
  const line = run('pg_lsclusters', ['--no-header']).split('\n').find((l) => /^15\s+main\s/.test(l));
  if (!line) throw new Error('PostgreSQL 15 (cluster 15/main) is not installed: run scripts/system-packages.sh test');
  const [, , port, status] = line.trim().split(/\s+/);
  if (status !== 'online') run('pg_ctlcluster', ['15', 'main', 'start']);
  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const role = `bench_api_${suffix}`;
  const name = `bench_api_${suffix}`;
  const password = randomBytes(18).toString('base64url');
  psql(`create role ${role} login password '${password}'`);
  psql(`create database ${name} owner ${role}`);
  let dropped = false;
  return {
    url: `postgres://${role}:${password}@127.0.0.1:${port}/${name}`,
    name,
    serverVersion: psql('show server_version').trim(),
    drop: () => {
      if (dropped) return;
      dropped = true;
      psql(`drop database if exists ${name} with (force)`);
      psql(`drop role if exists ${role}`);
    },
  };
}

/** The server processes serving one client's connections to this database (for their CPU). */
function backendPids(database: string, applicationName: string): number[] {
  return psql(`select pid from pg_stat_activity where datname = '${database}' and application_name = '${applicationName}'`)
    .split('\n')
    .filter(Boolean)
    .map(Number);
}

/**
 * CPU (cores) of one client's server processes over an interval. Pools open and close connections,
 * so the set is read at both ends: a process that appeared meanwhile counts whole, one that ended
 * meanwhile is lost (rare under load, when connections stay busy).
 */
export class BackendCpuMeter {
  readonly #database: string;
  readonly #applicationName: string;
  #start = new Map<number, number>();
  #startedAt = 0;

  constructor(database: string, applicationName: string) {
    this.#database = database;
    this.#applicationName = applicationName;
  }

  start(): void {
    this.#start = new Map(backendPids(this.#database, this.#applicationName).map((pid) => [pid, cpuSeconds(pid)]));
    this.#startedAt = performance.now();
  }

  stop(): number {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const used = backendPids(this.#database, this.#applicationName).reduce((n, pid) => n + Math.max(0, cpuSeconds(pid) - (this.#start.get(pid) ?? 0)), 0);
    return used / seconds;
  }
}

/** The tables these routes write, and how many rows each holds now. */
export const WRITTEN_TABLES = ['messages', 'user_events', 'audit_log'] as const;
export type DatabaseActivity = Record<(typeof WRITTEN_TABLES)[number], number>;

/** Exact row counts of WRITTEN_TABLES (the difference over a window is what it wrote). */
export function databaseActivity(database: string): DatabaseActivity {
  const counts = psql(`select ${WRITTEN_TABLES.map((t) => `(select count(*) from ${t})`).join(', ')}`, database).trim().split('|').map(Number);
  return Object.fromEntries(WRITTEN_TABLES.map((t, i) => [t, counts[i] ?? 0])) as DatabaseActivity;
}
