import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call, Conversation, Page, Session } from '@telemed/sdk';
import { startSmtp } from '../testing/smtp-server.js';
import { client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';
import { waitFor } from '@telemed/test-kit';

describe('e-mail notifications', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);

  beforeAll(async () => {
    smtp = await startSmtp();
    t = await startTestApp('postgres', {
      smtpHost: '127.0.0.1',
      smtpPort: smtp.port,
      callTimeoutSeconds: 0.3,
      scheduledCallGraceSeconds: 1,
      unreadNotifyDelaySeconds: 0.5,
      notifyIntervalSeconds: 0.1,
    });
    for (const who of ['alice', 'drgrey', 'drhouse', 'carol'] as const) s[who] = await login(t.url, who);
    // The seeded conversations hold old unread messages: read them all so only this test's count.
    for (const who of ['alice', 'drgrey', 'drhouse'] as const) {
      for (const c of (await as(who).get<Page<Conversation>>('/api/conversations')).body.items) {
        const latest = await as(who).get<Page<{ id: number }>>(`/api/conversations/${c.id}/messages?limit=1`);
        if (latest.body.items[0]) await as(who).post(`/api/conversations/${c.id}/read`, { upToMessageId: latest.body.items[0].id });
      }
    }
    // A round that saw those seeded messages unread may still be delivering: count from after it
    // and one more round, which finds nothing due.
    await t.app.runNotificationRound();
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((resolve) => smtp?.server.close(() => resolve()));
  });

  it('mails a missed call and a message left unread, retrying a refused delivery, with no content in the mail', async () => {
    const start = smtp.mails.length;
    smtp.refuseNext(1);
    const call = (await as('drhouse').post<Call>('/api/calls', { type: 'video', inviteeIds: [s.carol.user.id] })).body;
    expect(call.status).toBe('ringing');
    const conversation = (await as('alice').get<Page<Conversation>>('/api/conversations')).body.items.find((c) =>
      c.members.some((m) => m.userId === s.drgrey.user.id),
    )!;
    const secret = 'my-secret-symptom-text';
    await as('alice').post(`/api/conversations/${conversation.id}/messages`, { clientId: crypto.randomUUID(), body: secret });

    const missed = await waitFor('the missed-call mail', () => smtp.mails.slice(start).find((m) => m.to.includes('carol@patients.demo')), {
      timeoutMs: 30_000,
    });
    expect(missed.raw).toContain('Subject: Telemed: you missed a call');
    const unread = await waitFor('the unread-message mail', () => smtp.mails.slice(start).find((m) => m.to.includes('grey@doctors.demo')), {
      timeoutMs: 30_000,
    });
    expect(unread.raw).toContain('Subject: Telemed: a message is waiting for you');
    expect(smtp.refused()).toBe(1); // this test's first attempt was refused, and retried
    for (const mail of smtp.mails) {
      expect(mail.raw).not.toContain(secret);
      expect(mail.raw).not.toContain('House');
    }
    // each is sent once, however many rounds run
    const before = smtp.mails.length;
    // Two more rounds, each after the one in progress: a duplicate would be sent by them.
    await t.app.runNotificationRound();
    await t.app.runNotificationRound();
    expect(smtp.mails.length).toBe(before);
    expect(smtp.mails.slice(start).filter((m) => m.to.includes('alice@patients.demo'))).toEqual([]); // the sender is not told about her own message
  });

  it('does not tell a patient they missed a scheduled call the doctor never started', async () => {
    const start = smtp.mails.length;
    const scheduledFor = new Date(Date.now() + 1500).toISOString();
    const call = (await as('drhouse').post<Call>('/api/calls/scheduled', { type: 'video', inviteeIds: [s.carol.user.id], scheduledFor })).body;
    expect(call.status).toBe('scheduled');
    const missed = await waitFor(
      'the scheduled call to expire',
      async () => {
        const now = (await as('drhouse').get<Call>(`/api/calls/${call.id}`)).body;
        return now.status === 'missed' ? now : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(missed.endReason).toBe('not_started');
    // A round after the call turned missed: a missed-call mail would be sent by it.
    await t.app.runNotificationRound();
    expect(smtp.mails.slice(start).filter((m) => m.to.includes('carol@patients.demo'))).toEqual([]);
  });

  it('sends nothing when SMTP is not configured', async () => {
    const quiet = await startTestApp('pglite', { callTimeoutSeconds: 0.3, unreadNotifyDelaySeconds: 0.1, notifyIntervalSeconds: 0.05 });
    try {
      const house = await login(quiet.url, 'drhouse');
      const carol = await login(quiet.url, 'carol');
      const call = (await client(quiet.url, house.accessToken).post<Call>('/api/calls', { type: 'voice', inviteeIds: [carol.user.id] })).body;
      await waitFor(
        'missed',
        async () => ((await client(quiet.url, house.accessToken).get<Call>(`/api/calls/${call.id}`)).body.status === 'missed' ? true : undefined),
        { timeoutMs: 30_000 },
      );
      await quiet.app.runNotificationRound(); // what a round does without SMTP
      expect(await quiet.app.db.selectFrom('notifications_sent').selectAll().execute()).toEqual([]);
    } finally {
      await quiet.close();
    }
  });
});
