// The admin's developer screens as a third-party integration uses them: an API key created in the
// dashboard (its secret shown once) mints a room token through @telemed/server-sdk and is refused
// once revoked; a webhook registered in the dashboard reaches a real local receiver that checks
// every signature with verifyWebhook and gets a call's events in order, and the delivery log shows
// each delivery; deleting the webhook in the dashboard removes it from the API.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiResponseError, TelemedServerClient, verifyWebhook, WebhookVerificationError, type WebhookEvent } from '@telemed/server-sdk';
import { TestSignalingClient, waitFor } from '@telemed/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';
import { startTestPlatform, type Platform } from '../platform.js';
import { DEMO, DEMO_PASSWORD, fill, screenshots, unlabelledControls, waitForSelector, waitForText } from './app-page.js';
import { failOnPolicyViolations, signInAdmin } from './fixture.js';

/** A third party's webhook endpoint: every request is verified with the secret the dashboard showed. */
class WebhookReceiver {
  readonly events: WebhookEvent[] = [];
  readonly refused: string[] = [];
  secret = '';
  readonly #server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        this.events.push(verifyWebhook(Buffer.concat(chunks), req.headers['telemed-signature'], this.secret));
        res.writeHead(204).end();
      } catch (error) {
        const code = error instanceof WebhookVerificationError ? error.code : 'ERROR';
        this.refused.push(code);
        res.writeHead(400).end(code);
      }
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/telemed-webhooks`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

describe("the admin's API keys and webhooks, used by a third-party backend, in chromium", () => {
  const checked = failOnPolicyViolations();
  const receiver = new WebhookReceiver();
  let platform: Platform & { serverErrors: string[] };
  let browser: TestBrowser;
  let admin: TestPage;
  let hookUrl = '';
  let keySecret = '';

  beforeAll(async () => {
    let browserStarted: TestBrowser | undefined;
    [platform, browserStarted, hookUrl] = await Promise.all([
      startTestPlatform({
        // Deliveries to a loopback receiver, looked for often so the test waits little.
        apiEnv: { SEED_DEMO: 'true', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_INTERVAL: '0.2', WEBHOOK_RETRY_BASE: '0.5' },
      }) as Promise<Platform & { serverErrors: string[] }>,
      launchBrowser('chromium').then(checked),
      receiver.listen(),
    ]);
    browser = browserStarted;
    admin = await signInAdmin({ browser, platform });
    await admin.click('a[href="#/developers"]');
    await waitForSelector(admin, '[data-testid=developers] #api-keys-table');
  });

  /** The admin's session through the API, for checks beside the dashboard. */
  const adminSession = async (): Promise<{ accessToken: string }> =>
    (await (
      await fetch(`${platform.apiUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: DEMO.admin, password: DEMO_PASSWORD }),
      })
    ).json()) as { accessToken: string };

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await receiver.close();
  });

  it('creates a key with scopes, shows its secret once, and the key mints a room token from Node', async () => {
    expect(await unlabelledControls(admin)).toEqual([]);
    await fill(admin, '#api-key-name', 'Acme support');
    await admin.click('input[name=scope][value=room-tokens]');
    await admin.click('input[name=scope][value=calls]');
    await admin.click('#new-api-key button[type=submit]');
    await waitForSelector(admin, '[data-testid=api-key-secret]');
    keySecret = await admin.evaluate(() => document.querySelector<HTMLInputElement>('[data-testid=api-key-secret]')!.value);
    expect(keySecret).toMatch(/^tmk_/);
    const row = await waitFor('the key in the list', () =>
      admin.evaluate(() => {
        const tr = [...document.querySelectorAll<HTMLElement>('#api-keys-table [data-row]')].find((r) => r.textContent?.includes('Acme support'));
        return tr ? { text: tr.textContent ?? '', prefix: tr.querySelector('code')?.textContent ?? '' } : undefined;
      }),
    );
    expect(row.text).toContain('room-tokens, calls');
    expect(row.text).toContain('active');
    expect(keySecret.startsWith(row.prefix.replace(/…$/, ''))).toBe(true);
    // The list never carries the secret itself.
    expect(await admin.evaluate((secret) => document.querySelector('#api-keys-table')!.textContent!.includes(secret), keySecret)).toBe(false);

    const telemed = new TelemedServerClient({ apiUrl: platform.apiUrl, apiKey: keySecret });
    const access = await telemed.mintRoomToken({ room: 'support-1', identity: 'visitor', name: 'A visitor' });
    expect(access.url).toBe(platform.mediaWsUrl);
    // The media server takes the token: the visitor is welcomed into the room.
    const signaling = await TestSignalingClient.connect({ url: access.url, token: access.token });
    expect(signaling.welcome.roomId).toBe('support-1');
    signaling.terminate();
    const screens = await screenshots(admin, 'admin-api-keys');
    console.log(`[admin-dev] screenshots: ${screens.join(', ')}`);
  });

  it("registers a webhook that verifies every delivery, answers a test, and gets a call's events in order", async () => {
    await fill(admin, '#webhook-url', hookUrl);
    await fill(admin, '#webhook-description', 'Acme receiver');
    await admin.click('#new-webhook button[type=submit]');
    await waitForSelector(admin, '[data-testid=webhook-secret]');
    receiver.secret = await admin.evaluate(() => document.querySelector<HTMLInputElement>('[data-testid=webhook-secret]')!.value);
    expect(receiver.secret).toMatch(/^whsec_/);
    await waitForText(admin, '#webhooks-table [data-row]', /Acme receiver/);

    await admin.click(`#webhooks-table button[aria-label="Send a test event to ${hookUrl}"]`);
    await waitFor('the ping in the delivery log, delivered', () =>
      admin.evaluate(() =>
        [...document.querySelectorAll('#webhook-deliveries [data-row]')].some(
          (r) => r.textContent?.includes('webhook.ping') && r.querySelector('[data-status=delivered]'),
        ),
      ),
    );
    expect(receiver.events.map((e) => e.type)).toEqual(['webhook.ping']);

    // A call made through the API with the key: a doctor rings a patient, then it is cancelled.
    const session = await adminSession();
    const idOf = async (email: string): Promise<string> => {
      const page = (await (
        await fetch(`${platform.apiUrl}/api/admin/users?q=${encodeURIComponent(email)}`, { headers: { authorization: `Bearer ${session.accessToken}` } })
      ).json()) as { items: Array<{ id: string; email: string }> };
      return page.items.find((u) => u.email === email)!.id;
    };
    const telemed = new TelemedServerClient({ apiUrl: platform.apiUrl, apiKey: keySecret });
    const call = await telemed.createCall({ initiatorId: await idOf(DEMO.grey), inviteeIds: [await idOf(DEMO.alice)], type: 'video' });
    await telemed.endCall(call.id);
    const callEvents = await waitFor("the call's events at the receiver", () => {
      const events = receiver.events.filter((e) => 'call' in e.data && e.data.call.id === call.id);
      return events.some((e) => e.type === 'call.ended') ? events : undefined;
    });
    console.log(`[admin-dev] receiver got: ${receiver.events.map((e) => e.type).join(', ')}; refused: ${receiver.refused.length}`);
    expect(callEvents.map((e) => e.type)).toEqual(['call.created', 'call.ringing', 'call.ended']);
    expect(callEvents.at(-1)!.data).toMatchObject({ call: { id: call.id, status: 'cancelled' } });
    expect(receiver.refused).toEqual([]);
    // Every delivery is in the log, delivered with the receiver's 204.
    const log = await waitFor("the call's deliveries in the log", async () => {
      const rows = await admin.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('#webhook-deliveries [data-row]')].map((r) => ({
          event: r.querySelector('td[data-label=Event]')?.textContent ?? '',
          status: r.querySelector('[data-status]')?.getAttribute('data-status'),
          response: r.querySelector('td[data-label=Response]')?.textContent,
        })),
      );
      return rows.length === 4 && rows.every((r) => r.status === 'delivered') ? rows : undefined;
    });
    expect(log.map((r) => r.event).sort()).toEqual(['call.created', 'call.ended', 'call.ringing', 'webhook.ping']);
    expect(log.every((r) => r.response === '204')).toBe(true);
    expect(await unlabelledControls(admin)).toEqual([]);
    const screens = await screenshots(admin, 'admin-webhooks');
    console.log(`[admin-dev] screenshots: ${screens.join(', ')}`);
  });

  it('deletes the webhook in the dashboard, after which the API no longer lists it', async () => {
    // The Delete button asks window.confirm first: answer yes, and keep the question to check it.
    await admin.evaluate(() => {
      window.confirm = (question?: string) => {
        document.body.dataset.confirmed = question ?? '';
        return true;
      };
    });
    await admin.click(`#webhooks-table button[aria-label="Delete the webhook ${hookUrl} and its delivery log"]`);
    expect(await admin.evaluate(() => document.body.dataset.confirmed)).toBe(`Delete the webhook ${hookUrl} and its delivery log?`);
    await waitFor('the webhook gone from the list', () =>
      admin.evaluate(
        (url) =>
          document.querySelector('#webhooks-table') !== null &&
          ![...document.querySelectorAll('#webhooks-table [data-row]')].some((r) => r.textContent?.includes(url)),
        hookUrl,
      ),
    );
    const session = await adminSession();
    const listed = await fetch(`${platform.apiUrl}/api/admin/webhooks`, { headers: { authorization: `Bearer ${session.accessToken}` } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: Array<{ url: string }> }).items.map((w) => w.url)).not.toContain(hookUrl);
  });

  it('revokes the key in the dashboard, after which the backend is refused', async () => {
    await admin.click('#api-keys-table button[aria-label="Revoke the API key Acme support"]');
    await waitFor('the key shown revoked', () => admin.evaluate(() => document.querySelector('#api-keys-table [data-status=revoked]') !== null));
    const telemed = new TelemedServerClient({ apiUrl: platform.apiUrl, apiKey: keySecret });
    const refused = await telemed.mintRoomToken({ room: 'support-1', identity: 'late' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ApiResponseError);
    expect(refused).toMatchObject({ status: 401, apiCode: 'UNAUTHORIZED' });
    // The raw answer is the API's error shape.
    const res = await fetch(`${platform.apiUrl}/api/server/room-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keySecret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ room: 'support-1', identity: 'late' }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'this API key was revoked' } });
  });

  it('ran without page or server errors', () => {
    expect(admin.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
