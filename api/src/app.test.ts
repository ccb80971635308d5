import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import { sql } from 'kysely';
import { App } from './app.js';
import os from 'node:os';
import { TEST_SECRETS, client, login, pgliteTemplate, startTestApp, type TestApp } from './testing/test-app.js';

const SECRET = TEST_SECRETS.roomTokenSecret;
const apps: Array<App | TestApp> = [];
const servers: http.Server[] = [];

async function start(
  mode: 'development' | 'production' | 'test',
  mediaInternalUrl = 'http://127.0.0.1:9',
  options: { host?: string; metricsToken?: string } = {},
): Promise<string> {
  // From the migrated template: an initdb per app took 20-30 s each on a loaded 2-core machine.
  const app = new App({
    ...TEST_SECRETS,
    port: 0,
    mode,
    mediaInternalUrl,
    logLevel: 'silent',
    databaseDir: 'memory://',
    pgliteTemplate: await pgliteTemplate(),
    seedDemo: false,
    ...options,
  });
  await app.start();
  apps.push(app);
  return `http://127.0.0.1:${app.port}`;
}

/** A stand-in media server /health answering like the real one (the real one is covered in e2e). */
async function mediaHealth(status: number): Promise<string> {
  const server = http.createServer((_, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: status === 200 ? 'ok' : 'degraded', workers: 2, rooms: 0, participants: 0 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => ('close' in app ? app.close() : app.stop())));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const post = (url: string, body: unknown, type = 'application/json'): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('GET /health', () => {
  it('is 200 when the media server is up and 503 when it is not, and says nothing about processes', async () => {
    const up = await start('test', await mediaHealth(200));
    const res = await fetch(`${up}/health`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ status: 'ok', api: 'ok', media: { status: 'ok' }, version: '0.1.0' });

    const down = await start('test');
    const res2 = await fetch(`${down}/health`);
    expect(res2.status).toBe(503);
    expect(await res2.json()).toMatchObject({ status: 'degraded', media: { status: 'unreachable' } });
  });
});

describe('GET /api/admin/health', () => {
  it('gives admins the detail (media workers and rooms, this instance) and nobody else', async () => {
    const t = await startTestApp('pglite', { mediaInternalUrl: await mediaHealth(200) });
    apps.push(t);
    const get = async (who?: 'admin' | 'drgrey' | 'alice') =>
      fetch(`${t.url}/api/admin/health`, { headers: who ? { authorization: `Bearer ${(await login(t.url, who)).accessToken}` } : {} });
    const res = await get('admin');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      version: '0.1.0',
      api: { pid: process.pid, database: 'pglite', bus: 'in-process', attachments: 'local disk', websockets: 0 },
      media: { status: 'ok', workers: 2, rooms: 0 },
    });
    expect((await get('drgrey')).status).toBe(403);
    expect((await get('alice')).status).toBe(403);
    expect((await get()).status).toBe(401);
  });
});

describe('server errors', () => {
  it('answer 500 with the JSON error shape and nothing of the cause (no SQL, table or stack)', async () => {
    const t = await startTestApp('pglite');
    apps.push(t);
    const session = await login(t.url, 'alice');
    await sql`alter table presence rename to presence_moved`.execute(t.app.db); // every presence query now fails in the database
    const res = await fetch(`${t.url}/api/presence`, { headers: { authorization: `Bearer ${session.accessToken}` } });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/); // what support asks for; the cause is in the log under it
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: 'internal server error' } });
    expect(text).not.toMatch(/presence|relation|select|at .*\.ts/i);
  });
});

describe('GET /metrics', () => {
  const nonLoopback = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && !a.internal)?.address;

  it('without METRICS_TOKEN answers loopback clients only', async () => {
    expect(nonLoopback, 'this test needs a non-loopback IPv4 address on the machine').toBeDefined();
    const base = await start('test', undefined, { host: '0.0.0.0' });
    const port = new URL(base).port;
    const local = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(local.status).toBe(200);
    expect(await local.text()).toContain('telemed_api_http_requests_total');
    const remote = await fetch(`http://${nonLoopback}:${port}/metrics`, { headers: { 'x-forwarded-for': '127.0.0.1' } });
    expect(remote.status).toBe(403);
    expect(await remote.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  it('with METRICS_TOKEN wants that bearer token from everyone, loopback included', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const base = await start('test', undefined, { metricsToken: token });
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token.replace('0', 'x')}` } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const right = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('telemed_api_websockets_active');
  });
});

describe('POST /api/dev/room-token', () => {
  const nonLoopback = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && !a.internal)?.address;

  it('issues a room token for a development room the media server can verify', async () => {
    const base = await start('development');
    const res = await post(`${base}/api/dev/room-token`, { room: 'dev-r1', identity: 'alice' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; url: string };
    const claims = jwt.verify(body.token, SECRET, { audience: 'telemed-media', issuer: 'telemed-api' }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ room: 'dev-r1', sub: 'alice', grants: { canPublish: true, canSubscribe: true, roomAdmin: false } });
    expect(body.url).toMatch(/^ws:\/\//);
  });

  it("never mints a token for a call's room or a user's identity", async () => {
    const t = await startTestApp('pglite', { mode: 'development' });
    apps.push(t);
    const alice = await login(t.url, 'alice');
    const grey = (await client(t.url, alice.accessToken).get<{ items: Array<{ id: string }> }>('/api/users/contacts')).body.items[0]!;
    const call = await client(t.url, alice.accessToken).post<{ id: string }>('/api/calls', { type: 'video', inviteeIds: [grey.id] });
    expect(call.status).toBe(201);
    const refusals = [
      { room: call.body.id, identity: 'stranger', roomAdmin: true, path: 'room' }, // the live call's room
      { room: 'r1', identity: 'stranger', path: 'room' }, // outside the development name space
      { room: 'dev-r1', identity: grey.id, roomAdmin: true, path: 'identity' }, // the doctor's identity in calls
      { room: 'dev-r1', identity: 'grey@doctors.demo', path: 'identity' },
    ];
    for (const { path, ...request } of refusals) {
      const res = await post(`${t.url}/api/dev/room-token`, request);
      expect(res.status, JSON.stringify(request)).toBe(422);
      expect(await res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: [{ path }] } });
    }
  });

  it('answers bad input with the JSON error shape', async () => {
    const base = await start('development');
    const invalid = await post(`${base}/api/dev/room-token`, { room: 'dev-../etc', identity: 'alice' });
    expect(invalid.status).toBe(422);
    expect(await invalid.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', message: expect.any(String), details: [{ path: 'room' }] } });
    const notJson = await post(`${base}/api/dev/room-token`, '{oops');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    const wrongType = await post(`${base}/api/dev/room-token`, 'room=dev-r1', 'application/x-www-form-urlencoded');
    expect(wrongType.status).toBe(415);
    const tooBig = await post(`${base}/api/dev/room-token`, { room: 'dev-r1', identity: 'a', name: 'x'.repeat(70_000) });
    expect(tooBig.status).toBe(413);
    const unknown = await fetch(`${base}/api/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('does not exist in production mode, beyond loopback or behind a proxy', async () => {
    const request = { room: 'dev-r1', identity: 'alice' };
    const production = await start('production');
    expect((await post(`${production}/api/dev/room-token`, request)).status).toBe(404);

    // Listening on every interface: absent, for loopback clients too.
    expect(nonLoopback, 'this test needs a non-loopback IPv4 address on the machine').toBeDefined();
    const everywhere = new URL(await start('development', undefined, { host: '0.0.0.0' })).port;
    for (const host of ['127.0.0.1', nonLoopback!]) {
      const res = await post(`http://${host}:${everywhere}/api/dev/room-token`, request);
      expect(res.status, host).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }

    // On loopback, a request a local reverse proxy forwarded may come from anywhere.
    const local = await start('development');
    for (const header of ['x-forwarded-for', 'forwarded', 'via']) {
      const res = await fetch(`${local}/api/dev/room-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [header]: 'for=203.0.113.7' },
        body: JSON.stringify(request),
      });
      expect(res.status, header).toBe(404);
    }
    expect((await post(`${local}/api/dev/room-token`, request)).status).toBe(200);
  }, 90_000);
});
