import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call, CallRecording, Session } from '@telemed/sdk';
import type { MediaEvent } from '@telemed/sdk/protocol';
import { findAuditTrail } from '../audit/audit.service.js';
import { postMediaEvents } from '../testing/media-events-post.js';
import { DATABASES, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';

// The consent rule and its records, on both databases. Starting a recording needs the media
// server (covered end to end in tests/src/apps/recording.test.ts); everything up to it does not.
describe.each(DATABASES)('call recording consent on %s', (database) => {
  let t: TestApp;
  let off: TestApp;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);
  let seq = 0;

  /** What the media server reports when someone joins the call's room (signed like the real one). */
  async function joined(callId: string, who: DemoUser): Promise<void> {
    const event: MediaEvent = {
      type: 'participant_joined',
      roomId: callId,
      epoch: 1,
      seq: ++seq,
      at: new Date().toISOString(),
      identity: s[who].user.id,
      participantId: `p-${who}`,
    };
    const res = await postMediaEvents(t.url, { node: 'test', events: [event] });
    expect(res.status).toBe(200);
  }

  async function runningCall(): Promise<Call> {
    const call = (await as('drgrey').post<Call>('/api/calls', { type: 'video', inviteeIds: [s.alice.user.id] })).body;
    await as('alice').post(`/api/calls/${call.id}/accept`);
    return call;
  }

  beforeAll(async () => {
    // No media server listens at MEDIA_INTERNAL_URL: these tests never get as far as recording.
    t = await startTestApp(database, { enableCallRecording: true, recordingRetentionDays: 30 });
    off = await startTestApp(database);
    for (const who of ['alice', 'bob', 'drgrey', 'admin'] as const) s[who] = await login(t.url, who);
  });
  afterAll(async () => {
    await t?.close();
    await off?.close();
  });

  it('is off unless the installation enables it', async () => {
    const grey = client(off.url, (await login(off.url, 'drgrey')).accessToken);
    expect((await grey.get<{ enabled: boolean }>('/api/recording-settings')).body).toEqual({ enabled: false, retentionDays: null });
    const call = (await grey.post<Call>('/api/calls', { type: 'video', inviteeIds: [(await login(off.url, 'alice')).user.id] })).body;
    const res = await grey.post<{ error: { code: string; message: string } }>(`/api/calls/${call.id}/recording`);
    expect(res.status).toBe(404);
    expect(res.body.error.message).toMatch(/ENABLE_CALL_RECORDING/);
    expect((await as('alice').get<{ enabled: boolean; retentionDays: number }>('/api/recording-settings')).body).toEqual({ enabled: true, retentionDays: 30 });
  });

  it('only a doctor taking part asks and stops; patients and outsiders cannot', async () => {
    const call = await runningCall();
    // Never asked for: nothing to show, and no error for the apps' browsers to log.
    const none = await as('alice').get(`/api/calls/${call.id}/recording`);
    expect(none.status).toBe(204);
    expect(none.body).toBeUndefined();
    expect((await as('alice').post(`/api/calls/${call.id}/recording`)).status).toBe(403);
    expect((await client(t.url, (await login(t.url, 'drhouse')).accessToken).post(`/api/calls/${call.id}/recording`)).status).toBe(404);
    expect((await as('bob').post(`/api/calls/${call.id}/recording/consent`, { granted: true })).status).toBe(404);
    expect((await as('drgrey').post(`/api/calls/${call.id}/recording/stop`)).status).toBe(409);
    expect((await as('alice').post(`/api/calls/${call.id}/recording/consent`, { granted: 'yes' })).status).toBe(422);
  });

  it('waits for everyone present, stores each answer, audits it, and a refusal before the start ends the request', async () => {
    const call = await runningCall();
    await joined(call.id, 'drgrey');
    await joined(call.id, 'alice');
    const asked = await as('drgrey').post<CallRecording>(`/api/calls/${call.id}/recording`);
    expect(asked.status).toBe(201);
    expect(asked.body).toMatchObject({ state: 'awaiting_consent', requestedBy: s.drgrey.user.id, waitingFor: [s.alice.user.id], startedAt: null });
    expect(asked.body.consents).toEqual([{ userId: s.drgrey.user.id, decision: 'granted', decidedAt: expect.any(String) }]);
    // One open request per call.
    expect((await as('drgrey').post(`/api/calls/${call.id}/recording`)).status).toBe(409);
    // The patient sees the request (the indicator and dialog read it) but no recordings list or file.
    expect((await as('alice').get<CallRecording>(`/api/calls/${call.id}/recording`)).body.state).toBe('awaiting_consent');
    expect((await as('alice').get(`/api/calls/${call.id}/recordings`)).status).toBe(403);

    const refused = await as('alice').post<CallRecording>(`/api/calls/${call.id}/recording/consent`, { granted: false });
    expect(refused.status).toBe(200);
    expect(refused.body.state).toBe('refused');
    expect(refused.body.startedAt).toBeNull();
    expect(refused.body.consents.map((c) => [c.userId, c.decision])).toEqual([
      [s.drgrey.user.id, 'granted'],
      [s.alice.user.id, 'refused'],
    ]);
    const trail = await findAuditTrail(t.app.db, 'recording', asked.body.id);
    expect(trail.map((r) => [r.actor_id, r.action])).toEqual(
      expect.arrayContaining([
        [s.drgrey.user.id, 'create'],
        [s.drgrey.user.id, 'consent'],
        [s.alice.user.id, 'refuse'],
      ]),
    );

    // The doctor and an admin list it; a refused request has no file.
    const listed = await as('drgrey').get<{ items: CallRecording[] }>(`/api/calls/${call.id}/recordings`);
    expect(listed.body.items.map((r) => r.state)).toEqual(['refused']);
    expect((await as('admin').get<{ items: CallRecording[] }>(`/api/calls/${call.id}/recordings`)).body.items).toHaveLength(1);
    expect((await as('drgrey').get(`/api/recordings/${asked.body.id}/file`)).status).toBe(409);
    expect((await as('alice').get(`/api/recordings/${asked.body.id}/file`)).status).toBe(403);
  });

  it('a request withdrawn before it started is cancelled; the end of the call cancels an open request', async () => {
    const call = await runningCall();
    await joined(call.id, 'drgrey');
    await joined(call.id, 'alice');
    await as('drgrey').post(`/api/calls/${call.id}/recording`);
    const stopped = await as('drgrey').post<CallRecording>(`/api/calls/${call.id}/recording/stop`);
    expect(stopped.body.state).toBe('cancelled');
    await as('drgrey').post(`/api/calls/${call.id}/recording`);
    await as('drgrey').post(`/api/calls/${call.id}/end`);
    expect((await as('drgrey').get<CallRecording>(`/api/calls/${call.id}/recording`)).body.state).toBe('cancelled');
  });

  it('refuses uploads that are not signed by the media server', async () => {
    const id = crypto.randomUUID();
    const res = await fetch(`${t.url}/internal/recordings/${id}/file`, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: 'x' });
    expect(res.status).toBe(401);
  });
});
