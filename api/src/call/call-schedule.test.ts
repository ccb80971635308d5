import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
// The browser client, from source: it runs in Node with `ws` as its WebSocket.
import { TelemedClient } from '../../../sdk/src/client/TelemedClient.js';
import type { AppEventMap, AppEventType, Call, CallTimelineEntry, Page, RoomAccess, Session } from '@telemed/sdk';
import { DATABASES, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';
import { waitFor } from '@telemed/test-kit';

type WithAccess = { call: Call; access: RoomAccess | null };
const EVENTS = [
  'call.scheduled',
  'call.started',
  'call.cancelled',
  'call.declined',
  'call.missed',
  'call.admission_requested',
  'call.accepted',
] as const satisfies readonly AppEventType[];
type Seen = { [K in (typeof EVENTS)[number]]: AppEventMap[K][] };

const MINUTE = 60_000;
const START_WINDOW_SECONDS = 120;
const GRACE_SECONDS = 1;

describe.each(DATABASES)('scheduled calls on %s', (database) => {
  let t: TestApp;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);
  const id = (who: DemoUser) => s[who].user.id;
  const listeners: TelemedClient[] = [];
  const listen = async (who: DemoUser): Promise<Seen> => {
    const c = new TelemedClient({ baseUrl: t.url, session: s[who], WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
    listeners.push(c);
    const seen = Object.fromEntries(EVENTS.map((e) => [e, []])) as unknown as Seen;
    for (const type of EVENTS) c.on(type, (...args: unknown[]) => void (seen[type] as unknown[]).push(args[0]));
    const connected = new Promise((resolve) => c.once('eventsConnected', resolve));
    c.connectEvents();
    await connected;
    return seen;
  };
  const statusOf = (call: Call, who: DemoUser) => call.participants.find((p) => p.userId === id(who))?.status;
  const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
  const schedule = (input: { inviteeIds: string[]; scheduledFor: string; title?: string; type?: 'video' | 'voice' }) =>
    as('drgrey').post<Call>('/api/calls/scheduled', { type: 'video', ...input });
  const upcoming = async (who: DemoUser, query = ''): Promise<Page<Call>> => {
    const res = await as(who).get<Page<Call>>(`/api/calls/scheduled${query}`);
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    t = await startTestApp(database, { scheduledCallStartWindowSeconds: START_WINDOW_SECONDS, scheduledCallGraceSeconds: GRACE_SECONDS });
    for (const who of ['alice', 'bob', 'carol', 'drgrey', 'drhouse', 'admin'] as const) s[who] = await login(t.url, who);
  });
  afterAll(async () => {
    for (const c of listeners) c.disconnectEvents();
    await t?.close();
  });

  it('a doctor books a call with a patient: scheduled, no ringing, both told; bad times and non-contacts refused', async () => {
    const alice = await listen('alice');
    const at = inMs(60 * MINUTE);
    const res = await schedule({ inviteeIds: [id('alice')], scheduledFor: at, title: '  Follow-up on dosage ' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'scheduled',
      type: 'video',
      title: 'Follow-up on dosage',
      scheduledFor: at,
      startedAt: null,
      initiatorId: id('drgrey'),
    });
    // Its missed deadline: the booked time plus SCHEDULED_CALL_GRACE.
    expect(Date.parse(res.body.ringExpiresAt) - Date.parse(at)).toBe(GRACE_SECONDS * 1000);
    // It opens SCHEDULED_CALL_START_WINDOW before its time.
    expect(Date.parse(at) - Date.parse(res.body.opensAt!)).toBe(START_WINDOW_SECONDS * 1000);
    expect(statusOf(res.body, 'alice')).toBe('invited');
    const told = await waitFor('the patient to hear of the booking', () => alice['call.scheduled'].find((e) => e.call.id === res.body.id), { timeoutMs: 5000 });
    expect(told.call.title).toBe('Follow-up on dosage');
    // No ringing: the call.ringing event never comes, and the call stays scheduled past CALL_TIMEOUT's sweeps.
    expect(alice['call.accepted']).toEqual([]);

    const past = await schedule({ inviteeIds: [id('alice')], scheduledFor: inMs(-MINUTE) });
    expect(past).toMatchObject({ status: 422, body: { error: { code: 'VALIDATION_FAILED', message: 'scheduledFor must be in the future' } } });
    expect((await schedule({ inviteeIds: [id('alice')], scheduledFor: inMs(91 * 24 * 60 * MINUTE) })).status).toBe(422);
    expect((await schedule({ inviteeIds: [id('alice')], scheduledFor: 'tomorrow' })).status).toBe(422);
    expect((await schedule({ inviteeIds: [id('alice')], scheduledFor: at, title: 'x'.repeat(121) })).status).toBe(422);
    // Carol is Dr. House's patient, not Dr. Grey's; patients cannot book at all.
    expect((await schedule({ inviteeIds: [id('carol')], scheduledFor: at })).status).toBe(403);
    expect((await as('alice').post('/api/calls/scheduled', { type: 'video', inviteeIds: [id('drgrey')], scheduledFor: at })).status).toBe(403);

    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['actor_id', 'action'])
      .where('entity_type', '=', 'call')
      .where('entity_id', '=', res.body.id)
      .execute();
    expect(audit).toContainEqual({ actor_id: id('drgrey'), action: 'create' });
    await as('drgrey').post(`/api/calls/${res.body.id}/cancel`);
  });

  it('both sides list upcoming calls soonest first with a cursor; others cannot see or touch them', async () => {
    const later = (await schedule({ inviteeIds: [id('alice')], scheduledFor: inMs(3 * 60 * MINUTE), title: 'later' })).body;
    const sooner = (await schedule({ inviteeIds: [id('alice'), id('bob')], scheduledFor: inMs(2 * 60 * MINUTE), title: 'sooner', type: 'voice' })).body;
    for (const who of ['drgrey', 'alice'] as const) {
      const all = await upcoming(who);
      expect(
        all.items.map((c) => c.title),
        who,
      ).toEqual(['sooner', 'later']);
      const first = await upcoming(who, '?limit=1');
      expect(first.items.map((c) => c.id)).toEqual([sooner.id]);
      expect(first.nextCursor).not.toBeNull();
      const second = await upcoming(who, `?limit=1&cursor=${first.nextCursor}`);
      expect(second.items.map((c) => c.id)).toEqual([later.id]);
      expect(second.nextCursor).toBeNull();
    }
    expect((await upcoming('bob')).items.map((c) => c.id)).toEqual([sooner.id]);
    // The history's status filter finds them too.
    const history = await as('alice').get<Page<Call>>('/api/calls?status=scheduled');
    expect(history.body.items.map((c) => c.id).sort()).toEqual([later.id, sooner.id].sort());

    // Carol is not invited: the call does not exist for her; Dr. House neither; admins may read.
    expect((await upcoming('carol')).items).toEqual([]);
    expect((await as('carol').get(`/api/calls/${later.id}`)).status).toBe(404);
    expect((await as('carol').post(`/api/calls/${later.id}/join`)).status).toBe(404);
    expect((await as('carol').post(`/api/calls/${later.id}/cancel`)).status).toBe(404);
    expect((await as('drhouse').post(`/api/calls/${later.id}/start`)).status).toBe(404);
    expect((await as('carol').post(`/api/calls/${later.id}/start`)).status).toBe(403);
    expect((await as('admin').get(`/api/calls/${later.id}`)).status).toBe(200);
    expect((await as('admin').get('/api/calls/scheduled')).status).toBe(403);

    // Too early: the call opens SCHEDULED_CALL_START_WINDOW before its time.
    const early = await as('drgrey').post(`/api/calls/${later.id}/start`);
    expect(early).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect((early.body as { error: { message: string } }).error.message).toMatch(/opens at/);
    expect((await as('alice').post(`/api/calls/${later.id}/join`)).status).toBe(409);
    // A scheduled call neither rings nor takes the ringing-call steps.
    expect((await as('alice').post(`/api/calls/${later.id}/accept`)).status).toBe(409);
    expect((await as('alice').post(`/api/calls/${later.id}/token`)).status).toBe(403);
    for (const c of [later, sooner]) await as('drgrey').post(`/api/calls/${c.id}/cancel`);
  });

  it('either side cancels: the doctor for everyone; a patient withdraws from a group, or cancels when alone', async () => {
    const grey = await listen('drgrey');
    const alice = await listen('alice');
    const one = (await schedule({ inviteeIds: [id('alice')], scheduledFor: inMs(60 * MINUTE) })).body;
    const cancelled = await as('alice').post<Call>(`/api/calls/${one.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', endReason: 'cancelled' });
    await waitFor('the doctor to hear the patient cancelled', () => grey['call.cancelled'].find((e) => e.call.id === one.id), { timeoutMs: 5000 });
    expect((await as('drgrey').post(`/api/calls/${one.id}/start`)).status).toBe(409);

    const group = (await schedule({ inviteeIds: [id('alice'), id('bob')], scheduledFor: inMs(60 * MINUTE) })).body;
    const withdrawn = await as('bob').post<Call>(`/api/calls/${group.id}/cancel`);
    expect(withdrawn.body.status).toBe('scheduled');
    expect(statusOf(withdrawn.body, 'bob')).toBe('declined');
    await waitFor('the doctor to hear Bob withdrew', () => grey['call.declined'].find((e) => e.call.id === group.id && e.userId === id('bob')), {
      timeoutMs: 5000,
    });
    expect((await upcoming('bob')).items.map((c) => c.id)).not.toContain(group.id);
    expect((await upcoming('alice')).items.map((c) => c.id)).toContain(group.id);

    const byDoctor = await as('drgrey').post<Call>(`/api/calls/${group.id}/cancel`);
    expect(byDoctor.body.status).toBe('cancelled');
    await waitFor('the patient to hear the doctor cancelled', () => alice['call.cancelled'].find((e) => e.call.id === group.id), { timeoutMs: 5000 });
    expect((await upcoming('alice')).items.map((c) => c.id)).not.toContain(group.id);

    const timeline = await as('admin').get<{ items: CallTimelineEntry[] }>(`/api/calls/${group.id}/timeline`);
    const who = new Map([
      [id('drgrey'), 'grey'],
      [id('alice'), 'alice'],
      [id('bob'), 'bob'],
    ]);
    expect(timeline.body.items.map((e) => `${e.kind}${e.userId ? `:${who.get(e.userId)}` : ''}`)).toEqual([
      'scheduled:grey',
      'invited:alice',
      'invited:bob',
      'declined:bob',
      'cancelled:grey',
    ]);
  });

  it('a call nobody starts becomes missed SCHEDULED_CALL_GRACE after its time (the sweeper)', async () => {
    const alice = await listen('alice');
    const call = (await schedule({ inviteeIds: [id('alice')], scheduledFor: inMs(1500) })).body;
    const missed = await waitFor('the scheduled call to be missed', () => alice['call.missed'].find((e) => e.call.id === call.id), { timeoutMs: 10_000 });
    expect(missed.call).toMatchObject({ status: 'missed', endReason: 'not_started', startedAt: null });
    expect(statusOf(missed.call, 'alice')).toBe('missed');
    expect(Date.parse(missed.call.endedAt!)).toBeGreaterThanOrEqual(Date.parse(call.scheduledFor!) + GRACE_SECONDS * 1000);
    expect((await upcoming('alice')).items.map((c) => c.id)).not.toContain(call.id);
    expect((await as('drgrey').post(`/api/calls/${call.id}/start`)).status).toBe(409);
    const timeline = await as('drgrey').get<{ items: CallTimelineEntry[] }>(`/api/calls/${call.id}/timeline`);
    expect(timeline.body.items.map((e) => `${e.kind}:${e.detail ?? ''}`).at(-1)).toBe('missed:not_started');
  });

  it('a patient who joins before the doctor starts waits; the doctor starts it, sees them and admits them', async () => {
    const grey = await listen('drgrey');
    const alice = await listen('alice');
    // Within the start window, a minute ahead.
    const call = (await schedule({ inviteeIds: [id('alice')], scheduledFor: inMs(MINUTE), title: 'Check-up' })).body;
    const asked = await as('alice').post<WithAccess>(`/api/calls/${call.id}/join`);
    expect(asked.status).toBe(200);
    expect(asked.body.access).toBeNull();
    expect(asked.body.call.status).toBe('scheduled');
    expect(statusOf(asked.body.call, 'alice')).toBe('waiting');
    expect((await as('alice').post(`/api/calls/${call.id}/token`)).status).toBe(403);
    // The doctor may not admit before starting, nor "join" instead of starting.
    expect((await as('drgrey').post(`/api/calls/${call.id}/participants/${id('alice')}/admit`)).status).toBe(409);
    expect((await as('drgrey').post(`/api/calls/${call.id}/join`)).status).toBe(409);

    const started = await as('drgrey').post<WithAccess>(`/api/calls/${call.id}/start`);
    expect(started.status).toBe(200);
    expect(started.body.call.status).toBe('active');
    expect(started.body.call.startedAt).not.toBeNull();
    expect(started.body.access).toMatchObject({ room: call.id, callId: call.id });
    expect((await as('drgrey').post(`/api/calls/${call.id}/start`)).status).toBe(409);
    await waitFor('the patient to hear the call started', () => alice['call.started'].find((e) => e.call.id === call.id), { timeoutMs: 5000 });
    // The waiting patient is pointed out to the doctor when the call starts.
    await waitFor(
      'the doctor to see the waiting patient',
      () => grey['call.admission_requested'].filter((e) => e.call.id === call.id && e.call.status === 'active' && e.userId === id('alice'))[0],
      { timeoutMs: 5000 },
    );
    // Still in the upcoming list while it runs, so the patient finds it.
    expect((await upcoming('alice')).items.find((c) => c.id === call.id)?.status).toBe('active');

    const admitted = await as('drgrey').post<Call>(`/api/calls/${call.id}/participants/${id('alice')}/admit`);
    expect(statusOf(admitted.body, 'alice')).toBe('accepted');
    await waitFor('the patient to hear she is admitted', () => alice['call.accepted'].find((e) => e.call.id === call.id && e.userId === id('alice')), {
      timeoutMs: 5000,
    });
    expect((await as('alice').post<RoomAccess>(`/api/calls/${call.id}/token`)).status).toBe(200);
    // The ring-timeout sweep leaves a started scheduled call's invitees alone.
    await as('drgrey').post(`/api/calls/${call.id}/end`);

    const timeline = await as('admin').get<{ items: CallTimelineEntry[] }>(`/api/calls/${call.id}/timeline`);
    const who = new Map([
      [id('drgrey'), 'grey'],
      [id('alice'), 'alice'],
    ]);
    expect(timeline.body.items.map((e) => `${e.kind}${e.userId ? `:${who.get(e.userId)}` : ''}`)).toEqual([
      'scheduled:grey',
      'invited:alice',
      'asked:alice',
      'started:grey',
      'admitted:alice',
      'ended',
    ]);
  });

  it('a patient who leaves the waiting room before the start is invited again, not stuck waiting', async () => {
    const call = (await schedule({ inviteeIds: [id('bob')], scheduledFor: inMs(MINUTE) })).body;
    await as('bob').post(`/api/calls/${call.id}/join`);
    const left = await as('bob').post<Call>(`/api/calls/${call.id}/leave`);
    expect(left.status).toBe(200);
    expect(left.body.status).toBe('scheduled');
    expect(statusOf(left.body, 'bob')).toBe('invited');
    await as('drgrey').post(`/api/calls/${call.id}/cancel`);
  });
});
