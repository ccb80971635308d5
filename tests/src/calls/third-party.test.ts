// A third-party developer's integration, from the packed SDK and server SDK in a fresh project
// outside the repo: their Node backend holds an API key and mints room tokens and starts calls with
// @telemed/server-sdk, and receives the platform's webhooks, checking each with verifyWebhook; their
// page, on their own origin, loads the SDK's browser bundle from node_modules and joins a room
// through the real SFU.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signWebhook, TelemedServerClient } from '@telemed/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../browser.js';

import { installPacked } from '../pack.js';
import { startTestPlatform } from '../platform.js';
import { decodedVideoFrames, joinPage, type TestPlatform } from './harness.js';
import { freePortRange, waitFor } from '@telemed/test-kit';

const ROOM = 'support-1';

// The developer's backend: serves their page and the SDK bundle, mints tokens and starts calls with
// the key, and receives webhooks (verified, deduplicated on the event id, as the server SDK's README says).
const BACKEND = `
import fs from 'node:fs';
import http from 'node:http';
import { ApiResponseError, TelemedServerClient, verifyWebhook, WebhookVerificationError } from '@telemed/server-sdk';
const telemed = new TelemedServerClient({ apiUrl: process.env.TELEMED_API_URL, apiKey: process.env.TELEMED_API_KEY });
const bundle = new URL('./node_modules/@telemed/sdk/dist/telemed-sdk.browser.mjs', import.meta.url);
const page = \`<!doctype html><meta charset="utf-8"><title>Acme support</title><link rel="icon" href="data:,"><p id="status">starting</p>
<script type="module">
  import { Room } from '/sdk.mjs';
  const access = await (await fetch('/access?identity=visitor')).json();
  const room = new Room();
  window.room = room;
  room.on('connectionStateChanged', (state) => (document.getElementById('status').textContent = state));
  room.on('disconnected', (error) => (window.disconnectReason = error ? error.reason : 'none'));
  room.on('trackSubscribed', (track) => document.body.append(track.attach()));
  await room.connect(access.url, access.token, { iceServers: access.iceServers });
  await room.localParticipant.setCameraEnabled(true, { width: 640, height: 360 });
</script>\`;
const events = [];
const refused = [];
const seen = new Set();
const json = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const read = (req) => new Promise((resolve) => { const chunks = []; req.on('data', (c) => chunks.push(c)); req.on('end', () => resolve(Buffer.concat(chunks))); });
// The API's refusal, passed on to the page.
const apiError = (res, error) => {
  if (!(error instanceof ApiResponseError)) throw error;
  json(res, 502, { error: { code: error.apiCode, status: error.status, message: error.message } });
};
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  if (url.pathname === '/sdk.mjs') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(fs.readFileSync(bundle));
  if (url.pathname === '/access') {
    const identity = url.searchParams.get('identity');
    try {
      const access = await telemed.mintRoomToken({ room: '${ROOM}', identity });
      return json(res, 200, access);
    } catch (error) { return apiError(res, error); }
  }
  if (url.pathname === '/consultations' && req.method === 'POST') {
    const { doctorId, patientId } = JSON.parse((await read(req)).toString());
    try {
      return json(res, 201, await telemed.createCall({ initiatorId: doctorId, inviteeIds: [patientId], type: 'video' }));
    } catch (error) { return apiError(res, error); }
  }
  if (url.pathname.startsWith('/consultations/') && req.method === 'DELETE') {
    try {
      return json(res, 200, await telemed.endCall(url.pathname.split('/')[2]));
    } catch (error) { return apiError(res, error); }
  }
  if (url.pathname === '/telemed-webhooks' && req.method === 'POST') {
    const body = await read(req);
    try {
      const event = verifyWebhook(body, req.headers['telemed-signature'], process.env.TELEMED_WEBHOOK_SECRET);
      if (seen.has(event.id)) { refused.push('DUPLICATE'); return json(res, 409, { error: 'already received' }); }
      seen.add(event.id);
      events.push({ id: event.id, type: event.type, callId: event.data.call?.id ?? null, raw: body.toString(), signature: req.headers['telemed-signature'] });
      return res.writeHead(204).end();
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      refused.push(error.code);
      return json(res, 400, { error: error.code });
    }
  }
  if (url.pathname === '/webhook-log') return json(res, 200, { events, refused });
  res.writeHead(404).end();
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

/** The code lines of the SDK README's walkthrough block `name`, without comments, blank and import lines. */
function walkthrough(name: 'backend' | 'page'): string[] {
  const readme = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'sdk', 'README.md'), 'utf8');
  const block = new RegExp(`<!-- walkthrough:${name} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!block) throw new Error(`sdk/README.md has no walkthrough:${name} block`);
  return block[1]!
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('//') && !line.startsWith('import '));
}

describe("the SDK README's walkthrough", () => {
  it("is what this test's backend and page run, line for line", () => {
    const ran = BACKEND.split('\n').map((line) => line.trim());
    const lines = [...walkthrough('backend'), ...walkthrough('page')];
    expect(lines.length).toBeGreaterThanOrEqual(7);
    for (const line of lines) expect(ran, `README line: ${line}`).toContain(line);
  });
});

interface WebhookLog {
  events: Array<{ id: string; type: string; callId: string | null; raw: string; signature: string }>;
  refused: string[];
}

describe('a third-party integration from the packed SDK and server SDK', () => {
  let dir: string;
  let platform: TestPlatform;
  let browser: TestBrowser;
  let backend: ChildProcess;
  let siteUrl: string;
  let keyId: string;
  let webhookSecret: string;
  let adminToken: string;
  const admin = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${platform.apiUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    expect(res.ok, `${method} ${route}: ${res.status} ${await res.clone().text()}`).toBe(true);
    return (await res.json()) as T;
  };
  const webhookLog = async (): Promise<WebhookLog> => (await (await fetch(`${siteUrl}/webhook-log`)).json()) as WebhookLog;
  const postWebhook = (raw: string, signature: string): Promise<Response> =>
    fetch(`${siteUrl}/telemed-webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', 'telemed-signature': signature }, body: raw });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-third-party-'));
    const project = path.join(dir, 'acme');
    // `npm install` of the two packed tarballs, as the developer's project would.
    fs.mkdirSync(project, { recursive: true });
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'acme', private: true, type: 'module' }));
    for (const name of ['sdk', 'server-sdk']) await installPacked(name, project, dir);
    fs.writeFileSync(path.join(project, 'backend.mjs'), BACKEND);
    [platform, browser] = await Promise.all([
      // Webhooks to the backend on loopback, looked for often so the test waits little.
      startTestPlatform({ apiEnv: { SEED_DEMO: 'true', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_INTERVAL: '0.2' } }) as Promise<TestPlatform>,
      launchBrowser('chromium'),
    ]);

    // An admin creates the key the developer puts in their backend's environment, and registers
    // the backend's webhook URL; its signing secret goes into the environment too.
    const login = await fetch(`${platform.apiUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@telemed.demo', password: 'telemed-demo' }),
    });
    const session = (await login.json()) as { accessToken: string };
    expect(login.status, JSON.stringify(session)).toBe(200);
    adminToken = session.accessToken;
    const { apiKey, secret } = await admin<{ apiKey: { id: string }; secret: string }>('POST', '/api/admin/api-keys', {
      name: 'Acme support',
      scopes: ['room-tokens', 'calls'],
    });
    keyId = apiKey.id;
    const port = await freePortRange(1);
    siteUrl = `http://127.0.0.1:${port}`;
    const hook = await admin<{ secret: string }>('POST', '/api/admin/webhooks', {
      url: `${siteUrl}/telemed-webhooks`,
      eventTypes: ['call.created', 'call.ringing', 'call.ended'],
    });
    webhookSecret = hook.secret;

    backend = spawn(process.execPath, ['backend.mjs'], {
      cwd: project,
      env: { ...process.env, PORT: String(port), TELEMED_API_URL: platform.apiUrl, TELEMED_API_KEY: secret, TELEMED_WEBHOOK_SECRET: webhookSecret },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      backend.stdout!.on('data', (chunk: Buffer) => {
        if (/listening \d+/.test(chunk.toString())) resolve();
      });
      backend.once('exit', (code) => reject(new Error(`the backend exited (${code})`)));
    });
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
    const frames = await waitFor(
      "the third-party page decoding the host's video",
      async () => {
        const decoded = await decodedVideoFrames(page, 'room');
        return decoded > 10 ? decoded : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(frames).toBeGreaterThan(10);
    // And it publishes: its camera has a server-side producer.
    expect(
      await waitFor(
        'the third-party page publishing its camera',
        () =>
          page.evaluate(() => {
            const room = (
              window as typeof window & { room: { localParticipant: { identity: string; getTrack(source: string): { sid?: string } | undefined } } }
            ).room;
            return room.localParticipant.getTrack('camera')?.sid ? room.localParticipant.identity : undefined;
          }),
        { timeoutMs: 60_000 },
      ),
    ).toBe('visitor');
    expect(page.errors).toEqual([]);
  });

  it('a backend with a rooms key lists the page, mutes its camera (muted by the server) and removes it (reason removed, no reconnect)', async () => {
    const { secret } = await admin<{ secret: string }>('POST', '/api/admin/api-keys', { name: 'Acme moderation', scopes: ['rooms'] });
    const moderation = new TelemedServerClient({ apiUrl: platform.apiUrl, apiKey: secret });
    // A fresh visitor page (it replaces the previous test's session of the same identity).
    const page = await browser.newPage(`${siteUrl}/`);
    type PageRoom = { state: string; localParticipant: { getTrack(source: string): { sid?: string; isMuted: boolean; mutedBy: string | null } | undefined } };
    const camera = () =>
      page.evaluate(() => {
        const track = (window as typeof window & { room: PageRoom }).room.localParticipant.getTrack('camera');
        return track?.sid ? { isMuted: track.isMuted, mutedBy: track.mutedBy } : undefined;
      });
    expect(await waitFor('the visitor publishing its camera', camera, { timeoutMs: 60_000 })).toEqual({ isMuted: false, mutedBy: null });
    const listed = await waitFor(
      'the visitor listed with its camera',
      async () => {
        const participants = await moderation.listParticipants(ROOM);
        return participants.find((p) => p.identity === 'visitor')?.tracks.some((t) => t.source === 'camera') ? participants : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(listed.map((p) => p.identity).sort()).toEqual(['host', 'visitor']);

    await moderation.muteParticipant(ROOM, 'visitor', 'camera');
    expect(
      await waitFor('the page showing its camera muted by the server', async () => {
        const state = await camera();
        return state?.isMuted ? state : undefined;
      }),
    ).toEqual({ isMuted: true, mutedBy: 'server' });

    await moderation.removeParticipant(ROOM, 'visitor');
    expect(
      await waitFor('the page disconnected as removed', () => page.evaluate(() => (window as typeof window & { disconnectReason?: string }).disconnectReason)),
    ).toBe('removed');
    expect(await page.evaluate(() => (window as typeof window & { room: PageRoom }).room.state)).toBe('disconnected');
    expect((await moderation.listParticipants(ROOM)).map((p) => p.identity)).toEqual(['host']);
  });

  it("the backend starts and ends a call with its key and receives the call's webhooks, verified and in order", async () => {
    const users = await admin<{ items: Array<{ id: string; email: string }> }>('GET', '/api/admin/users?limit=200');
    const idOf = (email: string): string => users.items.find((u) => u.email === email)!.id;
    const created = await fetch(`${siteUrl}/consultations`, {
      method: 'POST',
      body: JSON.stringify({ doctorId: idOf('grey@doctors.demo'), patientId: idOf('alice@patients.demo') }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const call = (await created.json()) as { id: string; status: string };
    expect(call.status).toBe('ringing');
    const ended = await fetch(`${siteUrl}/consultations/${call.id}`, { method: 'DELETE' });
    expect(((await ended.json()) as { status: string }).status).toBe('cancelled');
    const log = await waitFor('call.ended at the backend', async () => {
      const current = await webhookLog();
      return current.events.some((e) => e.type === 'call.ended' && e.callId === call.id) ? current : undefined;
    });
    console.log(`[third-party] webhooks at the backend: ${log.events.map((e) => e.type).join(', ')}; refused: ${log.refused.join(', ') || 'none'}`);
    expect(log.events.filter((e) => e.callId === call.id).map((e) => e.type)).toEqual(['call.created', 'call.ringing', 'call.ended']);
    expect(log.refused).toEqual([]);
  });

  it('a forged, tampered or replayed webhook is refused', async () => {
    const [delivered] = (await webhookLog()).events;
    expect(delivered).toBeDefined();
    const { raw, signature } = delivered!;
    const timestamp = Number(/t=(\d+)/.exec(signature)![1]);
    // Signed with a secret that is not the endpoint's.
    expect((await postWebhook(raw, signWebhook(raw, 'whsec_not-the-endpoint-secret'))).status).toBe(400);
    // A real signature over a changed body.
    expect((await postWebhook(raw.replace('call.', 'call.x'), signature)).status).toBe(400);
    // A delivery captured ten minutes ago, sent again: its signed time is outside the window.
    const old = JSON.stringify({ ...(JSON.parse(raw) as object), id: 'evt-captured-earlier' });
    expect((await postWebhook(old, signWebhook(old, webhookSecret, timestamp - 600))).status).toBe(400);
    // The same delivery again within the window: the event id was seen.
    expect((await postWebhook(raw, signature)).status).toBe(409);
    const { refused, events } = await webhookLog();
    expect(refused).toEqual(['WEBHOOK_SIGNATURE_INVALID', 'WEBHOOK_SIGNATURE_INVALID', 'WEBHOOK_TIMESTAMP_OUT_OF_RANGE', 'DUPLICATE']);
    expect(events.filter((e) => e.id === 'evt-captured-earlier')).toEqual([]);
  });

  it('a revoked key is refused: the backend gets 401 and can mint no more', async () => {
    await admin('POST', `/api/admin/api-keys/${keyId}/revoke`);
    const res = await fetch(`${siteUrl}/access?identity=late`);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; status: number; message: string } };
    expect(body.error).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect(body.error.message).toContain('this API key was revoked');
  });
});
