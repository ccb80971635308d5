// A third-party developer's integration, from the packed SDK in a fresh project outside the repo:
// their Node backend holds an API key and mints room tokens; their page, on their own origin,
// loads the SDK's browser bundle from node_modules and joins a call through the real SFU.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../browser.js';

import { packWorkspace } from '../pack.js';
import { startTestPlatform } from '../platform.js';
import { decodedVideoFrames, joinPage, type TestPlatform } from './harness.js';
import { waitFor } from '@telemed/test-kit';

const ROOM = 'support-1';

// The developer's backend: serves their page and the SDK bundle, and mints tokens with the key.
const BACKEND = `
import fs from 'node:fs';
import http from 'node:http';
const bundle = new URL('./node_modules/@telemed/sdk/dist/telemed-sdk.browser.mjs', import.meta.url);
const page = \`<!doctype html><meta charset="utf-8"><title>Acme support</title><link rel="icon" href="data:,"><p id="status">starting</p>
<script type="module">
  import { Room } from '/sdk.mjs';
  const access = await (await fetch('/access?identity=visitor')).json();
  const room = new Room();
  window.room = room;
  room.on('connectionStateChanged', (state) => (document.getElementById('status').textContent = state));
  room.on('trackSubscribed', (track) => document.body.append(track.attach()));
  await room.connect(access.url, access.token);
  await room.localParticipant.setCameraEnabled(true, { width: 640, height: 360 });
</script>\`;
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  if (url.pathname === '/sdk.mjs') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(fs.readFileSync(bundle));
  if (url.pathname === '/access') {
    const answer = await fetch(process.env.TELEMED_API_URL + '/api/server/room-tokens', {
      method: 'POST',
      headers: { authorization: 'Bearer ' + process.env.TELEMED_API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ room: '${ROOM}', identity: url.searchParams.get('identity') }),
    });
    return res.writeHead(answer.ok ? 200 : 502, { 'content-type': 'application/json' }).end(await answer.text());
  }
  res.writeHead(404).end();
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

describe('a third-party integration from the packed SDK', () => {
  let dir: string;
  let platform: TestPlatform;
  let browser: TestBrowser;
  let backend: ChildProcess;
  let siteUrl: string;
  let keyId: string;
  let adminToken: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-third-party-'));
    const project = path.join(dir, 'acme');
    const sdkDir = path.join(project, 'node_modules', '@telemed', 'sdk');
    fs.mkdirSync(sdkDir, { recursive: true });
    const packed = await packWorkspace('sdk', dir);
    await promisify(execFile)('tar', ['-xzf', packed.tarball, '-C', sdkDir, '--strip-components=1']);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'acme', private: true, type: 'module' }));
    fs.writeFileSync(path.join(project, 'backend.mjs'), BACKEND);
    [platform, browser] = await Promise.all([startTestPlatform({ apiEnv: { SEED_DEMO: 'true' } }) as Promise<TestPlatform>, launchBrowser('chromium')]);

    // An admin creates the key the developer puts in their backend's environment.
    const login = await fetch(`${platform.apiUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@telemed.demo', password: 'telemed-demo' }) });
    const session = (await login.json()) as { accessToken: string };
    expect(login.status, JSON.stringify(session)).toBe(200);
    adminToken = session.accessToken;
    const created = await fetch(`${platform.apiUrl}/api/admin/api-keys`, {
      method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Acme support', scopes: ['room-tokens'] }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { apiKey, secret } = (await created.json()) as { apiKey: { id: string }; secret: string };
    keyId = apiKey.id;

    backend = spawn(process.execPath, ['backend.mjs'], { cwd: project, env: { ...process.env, TELEMED_API_URL: platform.apiUrl, TELEMED_API_KEY: secret }, stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<string>((resolve, reject) => {
      backend.stdout!.on('data', (chunk: Buffer) => {
        const match = /listening (\d+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      backend.once('exit', (code) => reject(new Error(`the backend exited (${code})`)));
    });
    siteUrl = `http://127.0.0.1:${port}`;
    // The other side of the call: a call page with a token signed for the same room.
    await joinPage(browser, platform, ROOM, 'host', { grants: {}, params: { res: '640x360' } });
  });

  afterAll(async () => {
    backend?.kill();
    await browser?.close();
    await platform?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the backend mints a token with its key and the page on its own origin joins and decodes video', async () => {
    const page = await browser.newPage(`${siteUrl}/`);
    const frames = await waitFor('the third-party page decoding the host\'s video', async () => {
      const decoded = await decodedVideoFrames(page, 'room');
      return decoded > 10 ? decoded : undefined;
    }, { timeoutMs: 60_000 });
    expect(frames).toBeGreaterThan(10);
    // And it publishes: its camera has a server-side producer.
    expect(await waitFor('the third-party page publishing its camera', () => page.evaluate(() => {
      const room = (window as unknown as { room: { localParticipant: { identity: string; getTrack(source: string): { sid?: string } | undefined } } }).room;
      return room.localParticipant.getTrack('camera')?.sid ? room.localParticipant.identity : undefined;
    }), { timeoutMs: 60_000 })).toBe('visitor');
    expect(page.errors).toEqual([]);
  });

  it('a revoked key is refused: the backend gets 401 and can mint no more', async () => {
    const revoked = await fetch(`${platform.apiUrl}/api/admin/api-keys/${keyId}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    expect(revoked.status).toBe(200);
    const res = await fetch(`${siteUrl}/access?identity=late`);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: 'UNAUTHORIZED', message: 'this API key was revoked' } });
  });
});
