import { verifyWebhook, signWebhook, WebhookVerificationError } from '@telemed/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call, Session } from '@telemed/sdk';
import { waitFor } from '@telemed/test-kit';
import { createLogger } from '../logger.js';
import { DATABASES, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';
import { startWebhookReceiver, type ReceivedWebhook } from '../testing/webhook-receiver.js';
import { retryDelaySeconds } from './webhook-dispatcher.js';
import { claimDue } from './webhook.repository.js';

interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastError: string | null;
  responseStatus: number | null;
}
interface Webhook {
  id: string;
  url: string;
  eventTypes: string[];
  disabledAt: string | null;
}
const ALL_EVENTS = ['call.created', 'call.ringing', 'call.started', 'call.participant_joined', 'call.participant_left', 'call.ended', 'recording.updated'];

describe.each(DATABASES)('outbound webhooks (%s)', (database) => {
  let t: TestApp;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const logLines: string[] = [];
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    t = await startTestApp(
      database,
      {
        webhookAllowPrivateTargets: true,
        webhookRetryBaseSeconds: 0.05,
        webhookRetryMaxSeconds: 0.2,
        webhookMaxAttempts: 3,
        webhookPollSeconds: 0.1,
        logLevel: 'debug',
      },
      createLogger('debug', { write: (line: string) => void logLines.push(line) }),
    );
    for (const who of ['alice', 'drgrey', 'admin'] as const) s[who] = await login(t.url, who);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it("sends the call's lifecycle, signed, after each commit, in order; the log shows each delivery; nothing secret is logged", async () => {
    const created = await as('admin').post<{ webhook: Webhook; secret: string }>('/api/admin/webhooks', {
      url: receiver.url,
      description: 'Scheduler',
      eventTypes: ALL_EVENTS,
    });
    expect(created.status).toBe(201);
    const { webhook, secret } = created.body;
    expect(secret).toMatch(/^whsec_/);
    const listed = await as('admin').get<{ items: Webhook[] }>('/api/admin/webhooks');
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    const row = await t.app.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', webhook.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret.slice(6));

    const call = (await as('drgrey').post<Call>('/api/calls', { type: 'video', inviteeIds: [s.alice.user.id] })).body;
    expect((await as('alice').post(`/api/calls/${call.id}/accept`)).status).toBe(200);
    expect((await as('alice').post(`/api/calls/${call.id}/leave`)).status).toBe(200);
    const types = () =>
      receiver.received
        .map((r) => verifyWebhook(r.body, r.headers['telemed-signature'], secret))
        .filter((e) => 'call' in e.data && e.data.call.id === call.id)
        .map((e) => e.type);
    await waitFor('six call webhooks', () => types().length >= 6);
    expect(types()).toEqual(['call.created', 'call.ringing', 'call.started', 'call.participant_joined', 'call.participant_left', 'call.ended']);
    const ended = receiver.received.map((r) => verifyWebhook(r.body, r.headers['telemed-signature'], secret)).find((e) => e.type === 'call.ended')!;
    expect(ended.data).toMatchObject({ call: { id: call.id, status: 'ended', initiatorId: s.drgrey.user.id } });
    // Ids and states only: no names leave the clinic.
    expect(JSON.stringify(ended)).not.toContain(s.alice.user.displayName);

    // The dispatcher records a delivery after the receiver answered: the log can trail the receipt.
    let logReads = 0;
    const log = await waitFor('six deliveries recorded', async () => {
      logReads += 1;
      const res = await as('admin').get<{ items: Delivery[] }>(`/api/admin/webhooks/${webhook.id}/deliveries`);
      return res.status === 200 && res.body.items.length === 6 && res.body.items.every((d) => d.status !== 'pending') ? res : undefined;
    });
    for (const d of log.body.items) expect(d).toMatchObject({ status: 'delivered', attempts: 1, responseStatus: 200, lastError: null });
    const logged = logLines.join('\n');
    expect(logged).toContain('webhook delivered');
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain(receiver.received[0]!.headers['telemed-signature'] as string);
    const audit = await t.app.db.selectFrom('audit_log').select(['action']).where('entity_type', '=', 'webhook').orderBy('id').execute();
    // The list, then each read of the delivery log.
    expect(audit.map((a) => a.action)).toEqual(['create', 'read', ...Array<string>(logReads).fill('read')]);
    expect((await as('admin').post(`/api/admin/webhooks/${webhook.id}/disable`)).status).toBe(200);
  });

  it('retries with backoff up to the cap, then fails; an admin redelivers; a signature from another secret or an old one is refused', async () => {
    const { webhook, secret } = (
      await as('admin').post<{ webhook: Webhook; secret: string }>('/api/admin/webhooks', { url: receiver.url, eventTypes: ['call.ended'] })
    ).body;
    const pings = (): ReceivedWebhook[] => receiver.received.filter((r) => r.headers['telemed-event-type'] === 'webhook.ping' && r.body.includes(webhook.id));
    let failures = 1;
    receiver.answer((r) => (r.body.includes(webhook.id) && failures-- > 0 ? 500 : 200));
    const ping = await as('admin').post<Delivery>(`/api/admin/webhooks/${webhook.id}/test`);
    expect(ping).toMatchObject({ status: 201, body: { status: 'pending', eventType: 'webhook.ping' } });
    const delivery = async () => (await as('admin').get<Delivery>(`/api/admin/webhooks/${webhook.id}/deliveries`)).body as unknown as { items: Delivery[] };
    await waitFor('the ping delivered on its second attempt', async () => (await delivery()).items[0]!.status === 'delivered');
    expect((await delivery()).items[0]).toMatchObject({ attempts: 2, responseStatus: 200, lastError: null });
    expect(pings()).toHaveLength(2);
    // The same event (id, body) each time; each attempt signed anew.
    expect(pings()[1]!.body).toBe(pings()[0]!.body);

    receiver.answer((r) => (r.body.includes(webhook.id) ? 503 : 200));
    const failing = (await as('admin').post<Delivery>(`/api/admin/webhooks/${webhook.id}/test`)).body;
    const find = async () => (await delivery()).items.find((d) => d.id === failing.id)!;
    await waitFor('the ping failed after 3 attempts', async () => (await find()).status === 'failed');
    expect(await find()).toMatchObject({ attempts: 3, responseStatus: 503, lastError: 'HTTP 503' });

    receiver.answer(() => 200);
    const again = await as('admin').post<Delivery>(`/api/admin/webhooks/${webhook.id}/deliveries/${failing.id}/redeliver`);
    expect(again).toMatchObject({ status: 200, body: { status: 'pending', attempts: 0 } });
    await waitFor('the redelivered ping', async () => (await find()).status === 'delivered');
    expect((await as('admin').post(`/api/admin/webhooks/${webhook.id}/deliveries/${failing.id}/redeliver`)).status).toBe(200);
    await waitFor('the second redelivery', async () => (await find()).status === 'delivered');

    const last = pings().at(-1)!;
    expect(verifyWebhook(last.body, last.headers['telemed-signature'], secret).type).toBe('webhook.ping');
    const expectRefused = (body: string, header: string, code: string) => {
      try {
        verifyWebhook(body, header, secret);
        expect.unreachable('verified');
      } catch (error) {
        expect(error).toBeInstanceOf(WebhookVerificationError);
        expect((error as WebhookVerificationError).code).toBe(code);
      }
    };
    expectRefused(last.body, signWebhook(last.body, 'whsec_someone-else'), 'WEBHOOK_SIGNATURE_INVALID');
    expectRefused(last.body.replace('webhook.ping', 'call.ended'), last.headers['telemed-signature'] as string, 'WEBHOOK_SIGNATURE_INVALID');
    expectRefused(last.body, signWebhook(last.body, secret, Math.floor(Date.now() / 1000) - 3600), 'WEBHOOK_TIMESTAMP_OUT_OF_RANGE');
    expectRefused(last.body, 'v1=abc', 'WEBHOOK_MALFORMED');
  });

  it("refuses bad registrations, non-admins, and other endpoints' deliveries", async () => {
    for (const body of [
      { url: 'ftp://example.com/x', eventTypes: ['call.ended'] },
      { url: receiver.url, eventTypes: [] },
      { url: receiver.url, eventTypes: ['call.exploded'] },
      { url: 'https://u:p@example.com/', eventTypes: ['call.ended'] },
    ]) {
      const res = await as('admin').post('/api/admin/webhooks', body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    expect((await as('drgrey').post('/api/admin/webhooks', { url: receiver.url, eventTypes: ['call.ended'] })).status).toBe(403);
    expect((await as('drgrey').get('/api/admin/webhooks')).status).toBe(403);
    const a = (await as('admin').post<{ webhook: Webhook }>('/api/admin/webhooks', { url: receiver.url, eventTypes: ['call.ended'] })).body.webhook;
    const b = (await as('admin').post<{ webhook: Webhook }>('/api/admin/webhooks', { url: receiver.url, eventTypes: ['call.ended'] })).body.webhook;
    const ping = (await as('admin').post<Delivery>(`/api/admin/webhooks/${a.id}/test`)).body;
    expect((await as('admin').post(`/api/admin/webhooks/${b.id}/deliveries/${ping.id}/redeliver`)).status).toBe(404);
    expect((await as('admin').get(`/api/admin/webhooks/${crypto.randomUUID()}/deliveries`)).status).toBe(404);
  });

  it('deletes an endpoint with its delivery log for admins only, audited; an unknown id is 404', async () => {
    const { webhook } = (await as('admin').post<{ webhook: Webhook }>('/api/admin/webhooks', { url: receiver.url, eventTypes: ['call.ended'] })).body;
    const ping = (await as('admin').post<Delivery>(`/api/admin/webhooks/${webhook.id}/test`)).body;
    expect((await as('drgrey').delete(`/api/admin/webhooks/${webhook.id}`)).status).toBe(403);
    expect((await as('admin').delete(`/api/admin/webhooks/${webhook.id}`)).status).toBe(204);
    expect((await as('admin').get<{ items: Webhook[] }>('/api/admin/webhooks')).body.items.map((w) => w.id)).not.toContain(webhook.id);
    expect(await t.app.db.selectFrom('webhook_deliveries').select('id').where('id', '=', ping.id).executeTakeFirst()).toBeUndefined();
    const again = await as('admin').delete(`/api/admin/webhooks/${webhook.id}`);
    expect(again).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'actor_id'])
      .where('entity_type', '=', 'webhook')
      .where('entity_id', '=', webhook.id)
      .where('action', '=', 'delete')
      .execute();
    expect(audit).toEqual([{ action: 'delete', actor_id: s.admin.user.id }]);
  });

  it('gives each due delivery to one sender at a time (concurrent claims are disjoint)', async () => {
    const { webhook } = (await as('admin').post<{ webhook: Webhook }>('/api/admin/webhooks', { url: receiver.url, eventTypes: ['call.ended'] })).body;
    await t.app.runWebhooksNow();
    const rows = Array.from({ length: 30 }, (_, i) => ({
      endpoint_id: webhook.id,
      event_id: crypto.randomUUID(),
      event_type: 'webhook.ping',
      payload: `{"n":${i}}`,
      locked_until: null,
      last_error: null,
      response_status: null,
      delivered_at: null,
      next_attempt_at: new Date(Date.now() + 3_600_000),
    }));
    await t.app.db.insertInto('webhook_deliveries').values(rows).execute();
    const later = new Date(Date.now() + 7_200_000);
    const claims = await Promise.all([1, 2, 3].map(() => claimDue(t.app.db, { limit: 15, leaseSeconds: 60, now: later })));
    const ids = claims.flat().map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(30);
    // Leased: nobody claims them again until the lease ends.
    expect(await claimDue(t.app.db, { limit: 50, leaseSeconds: 60, now: later })).toEqual([]);
    await t.app.db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', webhook.id).execute();
  });
});

describe('webhook retry delays', () => {
  it('double from WEBHOOK_RETRY_BASE after each failed attempt, up to WEBHOOK_RETRY_MAX', () => {
    // The defaults: base 10 s, at most an hour apart.
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((attempts) => retryDelaySeconds(attempts, 10, 3600))).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]);
    expect(retryDelaySeconds(40, 10, 3600)).toBe(3600);
  });
});
