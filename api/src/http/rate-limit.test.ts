import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Conversation, Page } from '@telemed/sdk';
import { DEMO_PASSWORD } from '../db/seed.js';
import { startRedisServer, type RedisServer } from '../testing/redis-server.js';
import { client, createPostgresDatabase, login, startTestApp, type TestApp } from '../testing/test-app.js';

describe('rate limits shared by two API instances through a real redis-server', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const databaseUrl = await createPostgresDatabase();
    // Own key prefix: other test files share this redis-server.
    const shared = { databaseUrl, redisUrl: inject('redisUrl'), redisKeyPrefix: `test-${randomUUID()}`, loginRateLimit: 4, messageRateLimit: 3 };
    a = await startTestApp('postgres', shared);
    b = await startTestApp('postgres', shared);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const attempt = (url: string, password: string) =>
    fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'carol@patients.demo', password }),
    });

  it('logins: one budget for both instances, then 429 with the JSON error shape and Retry-After', async () => {
    const statuses = [];
    for (const [url, password] of [
      [a.url, 'wrong-1'],
      [b.url, 'wrong-2'],
      [a.url, DEMO_PASSWORD],
      [b.url, 'wrong-3'],
    ] as const)
      statuses.push((await attempt(url, password)).status);
    expect(statuses).toEqual([401, 401, 200, 401]); // 4 = LOGIN_RATE_LIMIT, split across the two
    for (const url of [a.url, b.url]) {
      const limited = await attempt(url, DEMO_PASSWORD); // even the right password now waits
      expect(limited.status).toBe(429);
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(await limited.json()).toEqual({
        error: { code: 'RATE_LIMITED', message: expect.stringContaining('too many requests'), details: { retryAfterSeconds: retryAfter } },
      });
    }
  });

  it('messages: one budget per user across instances', async () => {
    const session = await login(a.url, 'alice');
    const conversation = (await client(a.url, session.accessToken).get<Page<Conversation>>('/api/conversations')).body.items[0]!;
    const send = (url: string) =>
      client(url, session.accessToken).post(`/api/conversations/${conversation.id}/messages`, { clientId: randomUUID(), body: 'hello' });
    const statuses = [];
    for (const url of [a.url, b.url, a.url, b.url, a.url]) statuses.push((await send(url)).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    // Another user's budget is untouched.
    const doctor = await login(b.url, 'drgrey');
    const other = (await client(b.url, doctor.accessToken).get<Page<Conversation>>('/api/conversations')).body.items[0]!;
    expect((await client(b.url, doctor.accessToken).post(`/api/conversations/${other.id}/messages`, { clientId: randomUUID(), body: 'hi' })).status).toBe(201);
  });
});

describe.each(['memory', 'redis'] as const)('login attempts per address across accounts (%s counters)', (store) => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const shared = { loginAddressRateLimit: 3, ...(store === 'redis' ? { redisUrl: inject('redisUrl'), redisKeyPrefix: `test-${randomUUID()}` } : {}) };
    a = await startTestApp('pglite', shared);
    // In memory the budget is one instance's: both rounds go to it.
    b = store === 'redis' ? await startTestApp('pglite', shared) : a;
  });
  afterAll(async () => {
    await a?.close();
    if (b !== a) await b?.close();
  });

  it('one password tried on many accounts from one address: 429 with Retry-After, even for a right password', async () => {
    const attempt = (url: string, email: string, password: string) =>
      fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    const statuses = [];
    for (const [url, email] of [
      [a.url, 'alice@patients.demo'],
      [b.url, 'bob@patients.demo'],
      [a.url, 'carol@patients.demo'],
    ] as const)
      statuses.push((await attempt(url, email, 'Summer2026!')).status);
    expect(statuses).toEqual([401, 401, 401]);
    for (const url of [a.url, b.url]) {
      const limited = await attempt(url, 'grey@doctors.demo', DEMO_PASSWORD);
      expect(limited.status).toBe(429);
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(await limited.json()).toEqual({
        error: { code: 'RATE_LIMITED', message: expect.stringContaining('too many requests'), details: { retryAfterSeconds: retryAfter } },
      });
    }
  });
});

describe('when Redis goes away under a running API', () => {
  let redis: RedisServer;
  let app: TestApp;
  beforeAll(async () => {
    redis = await startRedisServer(); // its own server: this test kills it
    app = await startTestApp('pglite', { redisUrl: redis.url, loginRateLimit: 3 });
  });
  afterAll(async () => {
    await app?.close();
    redis?.stop();
  });

  it('requests neither hang nor fail: limits fall back to memory and messages are still stored', async () => {
    const session = await login(app.url, 'alice');
    redis.kill();
    const started = Date.now();
    const statuses = [];
    for (const password of ['wrong-1', 'wrong-2', 'wrong-3']) statuses.push((await attempt(password)).status);
    statuses.push((await attempt(DEMO_PASSWORD)).status);
    console.log(`[rate-limit] redis killed: logins answered ${statuses.join(', ')} in ${Date.now() - started} ms`);
    expect(statuses).toEqual([401, 401, 401, 429]); // the memory limiter took over the budget of 3
    const api = client(app.url, session.accessToken);
    const conversation = (await api.get<Page<Conversation>>('/api/conversations')).body.items[0]!;
    const clientId = randomUUID();
    expect((await api.post(`/api/conversations/${conversation.id}/messages`, { clientId, body: 'still here' })).status).toBe(201);
    const page = (await api.get<Page<{ clientId: string }>>(`/api/conversations/${conversation.id}/messages`)).body;
    expect(page.items.some((m) => m.clientId === clientId)).toBe(true);
  });

  const attempt = (password: string) =>
    fetch(`${app.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'carol@patients.demo', password }),
    });
});
