import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { BackupError } from './backup-error.js';

const run = promisify(execFile);

/** The server's major version (15 for 15.x). */
export async function serverMajorVersion(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>("select current_setting('server_version_num') as v");
    return Math.floor(Number(rows[0]!.v) / 10_000);
  } finally {
    await client.end();
  }
}

async function toolMajor(bin: string): Promise<number | undefined> {
  try {
    const { stdout } = await run(bin, ['--version']);
    const match = /\(PostgreSQL\)\s+(\d+)/.exec(stdout);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * pg_dump or pg_restore for a server of `major`: Debian's versioned binary for exactly that major
 * when installed (postgresql-client-<major>), else the one on PATH when it is at least as new
 * (pg_dump refuses newer servers; a dump is best restored by the same major).
 */
export async function findTool(name: 'pg_dump' | 'pg_restore', major: number): Promise<string> {
  const versioned = `/usr/lib/postgresql/${major}/bin/${name}`;
  if (fs.existsSync(versioned)) return versioned;
  const found = await toolMajor(name);
  if (found !== undefined && found >= major) return name;
  throw new BackupError(
    'tool',
    found === undefined
      ? `${name} is not installed: install postgresql-client-${major} (Debian: apt-get install postgresql-client-${major}; newer majors from apt.postgresql.org)`
      : `${name} ${found} is older than the server's PostgreSQL ${major}: install postgresql-client-${major}`,
  );
}

/** libpq settings from a URL, the password in PGPASSWORD: never on a command line other users can read. */
function connection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { dbname: parsed.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } };
}

/** Runs a libpq tool; its --verbose lines are progress, its errors the failure message. */
function runTool(bin: string, args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const errors: string[] = [];
    let pending = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (/error|fatal/i.test(line)) errors.push(line);
        else if (line.trim()) onLine(line);
      }
    });
    child.once('error', (error) => reject(new BackupError('tool', `${bin} could not run: ${error.message}`)));
    child.once('close', (code) => {
      if (pending && /error|fatal/i.test(pending)) errors.push(pending);
      if (code === 0) resolve();
      else reject(new BackupError('tool', `${bin} failed (exit ${code}): ${errors.slice(0, 5).join(' | ') || 'no message'}`));
    });
  });
}

/** A consistent dump (one snapshot) in pg_dump's custom format. */
export async function dumpPostgres(url: string, file: string, onLine: (line: string) => void): Promise<{ serverMajor: number }> {
  const serverMajor = await serverMajorVersion(url);
  const bin = await findTool('pg_dump', serverMajor);
  const { dbname, env } = connection(url);
  await runTool(bin, ['--format=custom', '--no-owner', '--no-privileges', '--verbose', `--file=${file}`, `--dbname=${dbname}`], env, onLine);
  return { serverMajor };
}

export async function restorePostgres(url: string, file: string, onLine: (line: string) => void): Promise<void> {
  const bin = await findTool('pg_restore', await serverMajorVersion(url));
  const { dbname, env } = connection(url);
  await runTool(bin, ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', '--verbose', `--dbname=${dbname}`, file], env, onLine);
}

/** Tables (and other relations) in the database's own schemas: none in a new installation. */
export async function postgresRelations(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(`select count(*) as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp%' and c.relkind in ('r', 'p', 'v', 'm', 'S')`);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

/** Empties the public schema (restore --force). */
export async function wipePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('drop schema public cascade');
    await client.query('create schema public');
  } finally {
    await client.end();
  }
}
