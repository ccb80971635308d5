import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { Encryptor } from '../crypto/encryption.js';
import type { Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { PGliteDialect } from '../db/pglite-dialect.js';
import { seedDemo } from '../db/seed.js';
import { inject } from 'vitest';
import pg from 'pg';
import { App } from '../app.js';
import type { ApiOptions } from '../config.js';
import type { Logger } from '../logger.js';
import { DEMO_PASSWORD, DEMO_USERS } from '../db/seed.js';
import type { Session } from '@telemed/sdk';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by global-setup.ts: a role that may create databases on the local PostgreSQL 15. */
    pgAdminUrl: string;
    redisUrl: string;
  }
}

export const DATABASES = ['pglite', 'postgres'] as const;
export type TestDatabase = (typeof DATABASES)[number];

export const TEST_SECRETS = {
  roomTokenSecret: 'room-token-secret-0123456789abcdef',
  accessTokenSecret: 'access-token-secret-0123456789abcdef0123',
  mediaWebhookSecret: 'media-webhook-secret-0123456789',
  encryptionKey: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
};

/** A throwaway PostgreSQL database on the test cluster (dropped with the role at teardown). */
export async function createPostgresDatabase(): Promise<string> {
  const admin = inject('pgAdminUrl');
  const name = `telemed_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestApp {
  app: App;
  url: string;
  close(): Promise<void>;
}

let template: Promise<Blob> | undefined;

/**
 * A migrated and seeded PGlite data directory, made once and cached in the temp folder (keyed by
 * the migration and seed sources): starting PGlite from it takes ~1 s instead of initdb's ~10 s.
 */
export function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const dbDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'db');
    const sources = [path.join(dbDir, 'seed.ts'), path.join(dbDir, 'demo-users.ts'), ...fs.readdirSync(path.join(dbDir, 'migrations')).sort().map((f) => path.join(dbDir, 'migrations', f))];
    const hash = createHash('sha256');
    for (const file of sources) hash.update(fs.readFileSync(file));
    hash.update(TEST_SECRETS.encryptionKey);
    const file = path.join(os.tmpdir(), `telemed-pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
    if (fs.existsSync(file)) return new Blob([fs.readFileSync(file)]);
    const pglite = await PGlite.create('memory://', { parsers: { 20: (value: string) => Number(value) } });
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    await migrateToLatest(db);
    await seedDemo(db, new Encryptor(TEST_SECRETS.encryptionKey));
    const dump = await pglite.dumpDataDir('none');
    await db.destroy();
    await pglite.close();
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    fs.renameSync(partial, file);
    return dump;
  })();
  return template;
}

/** A started App on a fresh, migrated and seeded database of the given kind. */
export async function startTestApp(database: TestDatabase, options: Partial<ApiOptions> & { databaseUrl?: string } = {}, logger?: Logger): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? (database === 'postgres' ? await createPostgresDatabase() : undefined);
  const app = new App({
    port: 0,
    mode: 'test',
    logLevel: 'silent',
    mediaInternalUrl: 'http://127.0.0.1:9',
    seedDemo: true,
    databaseDir: 'memory://',
    ...TEST_SECRETS,
    ...options,
    ...(databaseUrl ? { databaseUrl } : { pgliteTemplate: await pgliteTemplate() }),
  }, logger);
  await app.start();
  return { app, url: `http://127.0.0.1:${app.port}`, close: () => app.stop() };
}

export type DemoUser = (typeof DEMO_USERS)[number]['key'];

export async function login(url: string, who: DemoUser): Promise<Session> {
  const user = DEMO_USERS.find((u) => u.key === who)!;
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password: DEMO_PASSWORD }) });
  if (res.status !== 200) throw new Error(`login ${who}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Session;
}

/** A tiny JSON client bound to one access token. */
export function client(url: string, token?: string) {
  const request = async <T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    get: <T = unknown>(path: string) => request<T>('GET', path),
    post: <T = unknown>(path: string, body: unknown = {}) => request<T>('POST', path, body),
    put: <T = unknown>(path: string, body: unknown) => request<T>('PUT', path, body),
  };
}

export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
