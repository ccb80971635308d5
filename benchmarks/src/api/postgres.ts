// A throwaway database on the machine's PostgreSQL 15 cluster (15/main), the way the API's test
// setup (api/src/testing/global-setup.ts) reaches it: start the cluster if it is down, then, as the
// postgres OS user over peer auth, a login role with a random password that owns a fresh database.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
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
  const line = run('pg_lsclusters', ['--no-header'])
    .split('\n')
    .find((l) => /^15\s+main\s/.test(l));
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

/** Statistics of the bench database, read over one connection of its own (no psql process per read). */
export class DatabaseStats {
  readonly #client: pg.Client;

  private constructor(client: pg.Client) {
    this.#client = client;
  }

  static async connect(url: string): Promise<DatabaseStats> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new DatabaseStats(client);
  }

  /** The server processes serving one client's connections (its pool's `application_name`). */
  async backendPids(applicationName: string): Promise<number[]> {
    const result = await this.#client.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and application_name = $1', [
      applicationName,
    ]);
    return result.rows.map((r) => r.pid);
  }

  /** Exact row counts of WRITTEN_TABLES (the difference over a window is what it wrote). */
  async activity(): Promise<DatabaseActivity> {
    const result = await this.#client.query<Record<string, string>>(`select ${WRITTEN_TABLES.map((t) => `(select count(*) from ${t}) as ${t}`).join(', ')}`);
    const row = result.rows[0] ?? {};
    return Object.fromEntries(WRITTEN_TABLES.map((t) => [t, Number(row[t] ?? 0)])) as DatabaseActivity;
  }

  close(): Promise<void> {
    return this.#client.end();
  }
}

/** The tables these routes write. */
export const WRITTEN_TABLES = ['messages', 'user_events', 'audit_log'] as const;
export type DatabaseActivity = Record<(typeof WRITTEN_TABLES)[number], number>;

/**
 * CPU (cores) of one client's server processes over an interval. Pools open and close connections,
 * so the set is read at both ends: a process that appeared meanwhile counts whole, one that ended
 * meanwhile is lost (rare under load, when connections stay busy).
 */
export class BackendCpuMeter {
  readonly #stats: DatabaseStats;
  readonly #applicationName: string;
  #start = new Map<number, number>();
  #startedAt = 0;

  constructor(stats: DatabaseStats, applicationName: string) {
    this.#stats = stats;
    this.#applicationName = applicationName;
  }

  async start(): Promise<void> {
    this.#start = new Map((await this.#stats.backendPids(this.#applicationName)).map((pid) => [pid, cpuSeconds(pid)]));
    this.#startedAt = performance.now();
  }

  async stop(): Promise<number> {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const pids = await this.#stats.backendPids(this.#applicationName);
    return pids.reduce((n, pid) => n + Math.max(0, cpuSeconds(pid) - (this.#start.get(pid) ?? 0)), 0) / seconds;
  }
}
