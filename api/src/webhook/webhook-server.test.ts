// What a third-party backend sees of webhooks: a test ping sent with its API key and followed to
// its delivery (the server SDK's testWebhook/getWebhookDelivery, `telemed webhooks test`), and a
// recording's changes delivered as signed `recording.updated` events.
import { ApiResponseError, TelemedServerClient, verifyWebhook, type WebhookEvent } from '@telemed/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call, CallRecording, Session } from '@telemed/sdk';
import { waitFor } from '@telemed/test-kit';
import { runTelemed } from '../testing/telemed-cli.js';
import { DATABASES, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';
import { startWebhookReceiver, type ReceivedWebhook } from '../testing/webhook-receiver.js';

interface Registered {
  webhook: { id: string };
  secret: string;
}

describe.each(DATABASES)('webhooks for a backend (%s)', (database) => {
  let t: TestApp;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);
  const register = async (eventTypes: string[]): Promise<Registered> =>
    (await as('admin').post<Registered>('/api/admin/webhooks', { url: receiver.url, eventTypes })).body;
  const apiKey = async (scopes: string[]): Promise<{ apiKey: { id: string }; secret: string }> =>
    (await as('admin').post<{ apiKey: { id: string }; secret: string }>('/api/admin/api-keys', { name: `Backend ${scopes.join(',')}`, scopes })).body;
  const verified = (r: ReceivedWebhook, secret: string): WebhookEvent => verifyWebhook(r.body, r.headers['telemed-signature'], secret);

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    t = await startTestApp(database, {
      webhookAllowPrivateTargets: true,
      webhookRetryBaseSeconds: 0.05,
      webhookRetryMaxSeconds: 0.2,
      webhookMaxAttempts: 3,
      webhookPollSeconds: 0.1,
      enableCallRecording: true,
    });
    for (const who of ['alice', 'drgrey', 'admin'] as const) s[who] = await login(t.url, who);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('the server SDK sends a test ping with a key and follows it to its delivery; unknown ids and a key without the scope are refused; audited', async () => {
    const { webhook, secret } = await register(['call.ended']);
    const key = await apiKey(['webhooks']);
    const sdk = new TelemedServerClient({ apiUrl: t.url, apiKey: key.secret });
    const ping = await sdk.testWebhook(webhook.id);
    expect(ping).toMatchObject({ endpointId: webhook.id, eventType: 'webhook.ping', status: 'pending', attempts: 0 });
    const delivered = await waitFor('the ping delivered', async () => {
      const delivery = await sdk.getWebhookDelivery(webhook.id, ping.id);
      return delivery.status !== 'pending' && delivery;
    });
    expect(delivered).toMatchObject({ id: ping.id, eventId: ping.eventId, status: 'delivered', attempts: 1, responseStatus: 200, lastError: null });
    const received = receiver.received.filter((r) => r.headers['telemed-event-type'] === 'webhook.ping' && r.body.includes(webhook.id));
    expect(received.map((r) => verified(r, secret))).toEqual([
      { id: ping.eventId, type: 'webhook.ping', createdAt: expect.any(String), data: { endpointId: webhook.id } },
    ]);

    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => expect.unreachable('answered'),
        (error: unknown) => error,
      );
    const unknownDelivery = await refusal(sdk.getWebhookDelivery(webhook.id, crypto.randomUUID()));
    expect(unknownDelivery).toBeInstanceOf(ApiResponseError);
    expect(unknownDelivery).toMatchObject({ status: 404, apiCode: 'NOT_FOUND' });
    expect(await refusal(sdk.testWebhook(crypto.randomUUID()))).toMatchObject({ status: 404, apiCode: 'NOT_FOUND' });
    const callsOnly = new TelemedServerClient({ apiUrl: t.url, apiKey: (await apiKey(['calls'])).secret });
    expect(await refusal(callsOnly.testWebhook(webhook.id))).toMatchObject({ status: 403, apiCode: 'FORBIDDEN' });
    expect(await refusal(callsOnly.getWebhookDelivery(webhook.id, ping.id))).toMatchObject({ status: 403, apiCode: 'FORBIDDEN' });

    // The key is the actor: the ping, then each read of its delivery.
    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'actor_id', 'entity_ids'])
      .where('entity_type', '=', 'webhook')
      .where('actor_id', 'is', null)
      .orderBy('id')
      .execute();
    expect(audit[0]).toEqual({ action: 'create', actor_id: null, entity_ids: [webhook.id, key.apiKey.id] });
    expect(audit.slice(1).length).toBeGreaterThan(0);
    for (const row of audit.slice(1)) expect(row).toEqual({ action: 'read', actor_id: null, entity_ids: [webhook.id, key.apiKey.id] });
  });

  it('`telemed webhooks test` waits for the delivery: exit 0 when delivered, 1 when it failed, is still pending or the key may not, 64 without an id', async () => {
    const { webhook } = await register(['call.ended']);
    const key = await apiKey(['webhooks']);
    const run = (...args: string[]) => runTelemed(t.url, ['webhooks', 'test', ...args]);
    const printed = (stdout: string) => JSON.parse(stdout) as { endpointId: string; status: string; attempts: number };

    const ok = await run(webhook.id, '--key', key.secret);
    expect(ok.code, ok.stderr).toBe(0);
    expect(printed(ok.stdout)).toMatchObject({ endpointId: webhook.id, eventType: 'webhook.ping', status: 'delivered', attempts: 1, responseStatus: 200 });

    receiver.answer((r) => (r.body.includes(webhook.id) ? 503 : 200));
    try {
      const failed = await run(webhook.id, '--key', key.secret);
      expect(failed.code).toBe(1);
      expect(printed(failed.stdout)).toMatchObject({ status: 'failed', attempts: 3, responseStatus: 503, lastError: 'HTTP 503' });
    } finally {
      receiver.answer(() => 200);
    }
    const waitedNot = await run(webhook.id, '--key', key.secret, '--timeout', '0');
    expect(waitedNot.code).toBe(1);
    expect(printed(waitedNot.stdout)).toMatchObject({ status: 'pending', attempts: 0 });

    const callsOnly = (await apiKey(['calls'])).secret;
    expect(await run(webhook.id, '--key', callsOnly)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('403 FORBIDDEN: this API key lacks the scope webhooks'),
    });
    expect(await run(crypto.randomUUID(), '--key', key.secret)).toMatchObject({ code: 1, stderr: expect.stringContaining('404 NOT_FOUND') });
    expect(await run('--key', key.secret)).toMatchObject({ code: 64, stderr: expect.stringContaining('the webhook id is required') });
  });

  it('delivers recording.updated, signed, for each change of a recording: ids and states, no names', async () => {
    const { secret } = await register(['recording.updated']);
    const call = (await as('drgrey').post<Call>('/api/calls', { type: 'video', inviteeIds: [s.alice.user.id] })).body;
    expect((await as('alice').post(`/api/calls/${call.id}/accept`)).status).toBe(200);
    const asked = await as('drgrey').post<CallRecording>(`/api/calls/${call.id}/recording`);
    expect(asked).toMatchObject({ status: 201, body: { state: 'awaiting_consent' } });
    const stopped = await as('drgrey').post<CallRecording>(`/api/calls/${call.id}/recording/stop`);
    expect(stopped).toMatchObject({ status: 200, body: { state: 'cancelled' } });

    const events = () =>
      receiver.received
        .filter((r) => r.headers['telemed-event-type'] === 'recording.updated')
        .map((r) => verified(r, secret))
        .flatMap((e) => (e.type === 'recording.updated' && e.data.recording.callId === call.id ? [e] : []));
    await waitFor('two recording.updated webhooks', () => events().length >= 2);
    expect(events().map((e) => e.data.recording)).toEqual([
      { id: asked.body.id, callId: call.id, state: 'awaiting_consent', startedAt: null, stoppedAt: null, durationSeconds: null },
      { id: asked.body.id, callId: call.id, state: 'cancelled', startedAt: null, stoppedAt: stopped.body.stoppedAt, durationSeconds: null },
    ]);
    expect(JSON.stringify(events())).not.toContain(s.alice.user.displayName);
    expect(JSON.stringify(events())).not.toContain(s.drgrey.user.displayName);
  });
});
