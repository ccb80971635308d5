import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import { App } from '../app.js';
import type { ApiOptions } from '../config.js';
import type { Logger } from '../logger.js';
import { DEMO_PASSWORD, DEMO_USERS } from '../db/seed.js';
import type { Session } from '@telemed/sdk';
import { checkEveryResponseFrom } from './openapi-responses.js';
import { pgliteTemplate, TEMPLATE_ENCRYPTION_KEY } from './pglite-template.js';

export { pgliteTemplate };

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
  encryptionKey: TEMPLATE_ENCRYPTION_KEY,
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

/** A started App on a fresh, migrated and seeded database of the given kind. */
export async function startTestApp(database: TestDatabase, options: Partial<ApiOptions> & { databaseUrl?: string } = {}, logger?: Logger): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? (database === 'postgres' ? await createPostgresDatabase() : undefined);
  const app = new App(
    {
      port: 0,
      mode: 'test',
      logLevel: 'silent',
      mediaInternalUrl: 'http://127.0.0.1:9',
      seedDemo: true,
      databaseDir: 'memory://',
      ...TEST_SECRETS,
      ...options,
      ...(databaseUrl ? { databaseUrl } : { pgliteTemplate: await pgliteTemplate() }),
    },
    logger,
  );
  await app.start();
  const url = `http://127.0.0.1:${app.port}`;
  checkEveryResponseFrom(url);
  return { app, url, close: () => app.stop() };
}

export type DemoUser = (typeof DEMO_USERS)[number]['key'];

export async function login(url: string, who: DemoUser): Promise<Session> {
  checkEveryResponseFrom(url);
  const user = DEMO_USERS.find((u) => u.key === who)!;
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: DEMO_PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login ${who}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Session;
}

/** A tiny JSON client bound to one access token; every answer is checked against the API's OpenAPI document (checkEveryResponseFrom). */
export function client(url: string, token?: string) {
  checkEveryResponseFrom(url);
  const request = async <T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const parsed = text && res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as unknown) : text || undefined;
    return { status: res.status, body: parsed as T };
  };
  return {
    get: <T = unknown>(path: string) => request<T>('GET', path),
    post: <T = unknown>(path: string, body: unknown = {}) => request<T>('POST', path, body),
    put: <T = unknown>(path: string, body?: unknown) => request<T>('PUT', path, body),
    patch: <T = unknown>(path: string, body: unknown) => request<T>('PATCH', path, body),
    delete: <T = unknown>(path: string) => request<T>('DELETE', path),
  };
}
