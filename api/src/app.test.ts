import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import { App } from './app.js';
import { TEST_SECRETS } from './testing/test-app.js';

const SECRET = TEST_SECRETS.roomTokenSecret;
const apps: App[] = [];
const servers: http.Server[] = [];

async function start(mode: 'development' | 'production' | 'test', mediaInternalUrl = 'http://127.0.0.1:9'): Promise<string> {
  const app = new App({ ...TEST_SECRETS, port: 0, mode, mediaInternalUrl, logLevel: 'silent', databaseDir: 'memory://', seedDemo: false });
  await app.start();
  apps.push(app);
  return `http://127.0.0.1:${app.port}`;
}

/** A stand-in media server /health answering like the real one (the real one is covered in e2e). */
async function mediaHealth(status: number): Promise<string> {
  const server = http.createServer((_, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: status === 200 ? 'ok' : 'degraded', workers: 2, rooms: 0 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const post = (url: string, body: unknown, type = 'application/json'): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('GET /health', () => {
  it('is 200 when the media server is up and 503 when it is not', async () => {
    const up = await start('test', await mediaHealth(200));
    const res = await fetch(`${up}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', api: 'ok', media: { status: 'ok', workers: 2 } });

    const down = await start('test');
    const res2 = await fetch(`${down}/health`);
    expect(res2.status).toBe(503);
    expect(await res2.json()).toMatchObject({ status: 'degraded', media: { status: 'unreachable' } });
  });
});

describe('POST /api/dev/room-token', () => {
  it('issues a room token the media server can verify', async () => {
    const base = await start('development');
    const res = await post(`${base}/api/dev/room-token`, { room: 'r1', identity: 'alice' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; url: string };
    const claims = jwt.verify(body.token, SECRET, { audience: 'telemed-media', issuer: 'telemed-api' }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ room: 'r1', sub: 'alice', grants: { canPublish: true, canSubscribe: true, roomAdmin: false } });
    expect(body.url).toMatch(/^ws:\/\//);
  });

  it('answers bad input with the JSON error shape', async () => {
    const base = await start('development');
    const invalid = await post(`${base}/api/dev/room-token`, { room: '../etc', identity: 'alice' });
    expect(invalid.status).toBe(422);
    expect(await invalid.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', message: expect.any(String), details: [{ path: 'room' }] } });
    const notJson = await post(`${base}/api/dev/room-token`, '{oops');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    const wrongType = await post(`${base}/api/dev/room-token`, 'room=r1', 'application/x-www-form-urlencoded');
    expect(wrongType.status).toBe(415);
    const tooBig = await post(`${base}/api/dev/room-token`, { room: 'r1', identity: 'a', name: 'x'.repeat(70_000) });
    expect(tooBig.status).toBe(413);
    const unknown = await fetch(`${base}/api/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('does not exist in production mode', async () => {
    const base = await start('production');
    const res = await post(`${base}/api/dev/room-token`, { room: 'r1', identity: 'alice' });
    expect(res.status).toBe(404);
  });
});
