import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call, Page, RoomAccess, Session } from '@telemed/sdk';
import { DATABASES, TEST_SECRETS, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';
import { waitFor } from '@telemed/test-kit';

const CALL_TIMEOUT_SECONDS = 600;
/** A moment just past the ring timeout of a call made now. */
const afterTimeout = (): Date => new Date(Date.now() + (CALL_TIMEOUT_SECONDS + 1) * 1000);

describe.each(DATABASES)('call lifecycle on %s', (database) => {
  let t: TestApp;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);
  const id = (who: DemoUser) => s[who].user.id;

  beforeAll(async () => {
    // A ring timeout nobody reaches by accident: with 1 s, an accept sent right after the call was
    // made arrived after it on a loaded machine (409, the call already missed). Tests about the
    // timeout run the sweep as if it had passed.
    t = await startTestApp(database, { callTimeoutSeconds: CALL_TIMEOUT_SECONDS });
    for (const who of ['alice', 'bob', 'drgrey', 'drhouse', 'admin'] as const) s[who] = await login(t.url, who);
  });
  afterAll(async () => t?.close());

  it("keeps a call's chat among its participants: its own conversation, or a given one with exactly them", async () => {
    const members = async (conversationId: string) =>
      (await t.app.db.selectFrom('conversation_members').select('user_id').where('conversation_id', '=', conversationId).execute())
        .map((m) => m.user_id)
        .sort();
    const own = await as('drgrey').post<Call>('/api/calls', { type: 'voice', inviteeIds: [id('alice'), id('bob')] });
    expect(own.status).toBe(201);
    const kind = await t.app.db.selectFrom('conversations').select('kind').where('id', '=', own.body.conversationId!).executeTakeFirstOrThrow();
    expect(kind.kind).toBe('call');
    expect(await members(own.body.conversationId!)).toEqual([id('alice'), id('bob'), id('drgrey')].sort());
    // The in-call chat (demo app, SDK) writes there.
    expect(
      (await as('bob').post(`/api/conversations/${own.body.conversationId}/messages`, { clientId: crypto.randomUUID(), body: 'can you hear me?' })).status,
    ).toBe(201);
    expect((await as('drgrey').post(`/api/calls/${own.body.id}/cancel`)).status).toBe(200);

    // The direct conversation of the two: the call's chat continues it, nobody joins it.
    const direct = (await as('alice').post<{ id: string }>('/api/conversations', { kind: 'direct', memberIds: [id('drgrey')] })).body.id;
    const inDirect = await as('drgrey').post<Call>('/api/calls', { type: 'video', inviteeIds: [id('alice')], conversationId: direct });
    expect(inDirect.status).toBe(201);
    expect(inDirect.body.conversationId).toBe(direct);
    expect(await members(direct)).toEqual([id('alice'), id('drgrey')].sort());
    expect((await as('drgrey').post(`/api/calls/${inDirect.body.id}/cancel`)).status).toBe(200);
    // Anyone else in the call would read the two's history: refused (api/src/cross-record-access.test.ts tries every such id).
    const widened = await as('drgrey').post('/api/calls', { type: 'video', inviteeIds: [id('alice'), id('bob')], conversationId: direct });
    expect(widened).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN', details: [{ path: 'conversationId' }] } } });
    expect(await members(direct)).toEqual([id('alice'), id('drgrey')].sort());
  });

  it('rings, is accepted with a room token (doctor is roomAdmin), and ends with its duration', async () => {
    const started = await as('alice').post<Call>('/api/calls', { type: 'video', inviteeIds: [id('drgrey')] });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ status: 'ringing', type: 'video', initiatorId: id('alice'), durationSeconds: null });
    expect(started.body.participants.map((p) => [p.userId, p.status])).toEqual([
      [id('alice'), 'accepted'],
      [id('drgrey'), 'invited'],
    ]);
    expect(started.body.conversationId).toEqual(expect.any(String));

    const accepted = await as('drgrey').post<{ call: Call; access: RoomAccess }>(`/api/calls/${started.body.id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body.call.status).toBe('active');
    const claims = jwt.verify(accepted.body.access.token, TEST_SECRETS.roomTokenSecret, { audience: 'telemed-media', issuer: 'telemed-api' }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ room: started.body.id, sub: id('drgrey'), grants: { canPublish: true, canSubscribe: true, roomAdmin: true } });
    // The media server counts MAX_CALL_DURATION from the call's start, on whichever node the room is.
    expect(claims.roomStartedAt).toBe(Math.floor(Date.parse(accepted.body.call.startedAt!) / 1000));

    const patientToken = await as('alice').post<RoomAccess>(`/api/calls/${started.body.id}/token`);
    expect(patientToken.status).toBe(200);
    expect((jwt.decode(patientToken.body.token) as jwt.JwtPayload).grants).toMatchObject({ roomAdmin: false });
    expect((await as('drgrey').post(`/api/calls/${started.body.id}/accept`)).status).toBe(409);

    const ended = await as('alice').post<Call>(`/api/calls/${started.body.id}/end`);
    expect(ended.body).toMatchObject({ status: 'ended', endReason: 'hangup', durationSeconds: expect.any(Number) });
    expect(ended.body.endedAt).not.toBeNull();
    expect(ended.body.participants.every((p) => p.status === 'left')).toBe(true);
    expect(ended.body.qualitySummary).toMatchObject({ samples: 0 });
    expect((await as('alice').post(`/api/calls/${started.body.id}/token`)).status).toBe(403);
    expect((await as('alice').post(`/api/calls/${started.body.id}/end`)).status).toBe(409);
  });

  it('is declined, or cancelled by the caller', async () => {
    const c1 = (await as('drgrey').post<Call>('/api/calls', { type: 'voice', inviteeIds: [id('bob')] })).body;
    const declined = await as('bob').post<Call>(`/api/calls/${c1.id}/decline`);
    expect(declined.body).toMatchObject({ status: 'declined' });
    const c2 = (await as('drgrey').post<Call>('/api/calls', { type: 'voice', inviteeIds: [id('bob')] })).body;
    expect((await as('bob').post(`/api/calls/${c2.id}/cancel`)).status).toBe(403);
    const cancelled = await as('drgrey').post<Call>(`/api/calls/${c2.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expect(cancelled.body.participants.find((p) => p.userId === id('bob'))?.status).toBe('missed');
    expect((await as('bob').post(`/api/calls/${c2.id}/accept`)).status).toBe(409);
  });

  it('becomes missed when nobody answers within CALL_TIMEOUT', async () => {
    const call = (await as('bob').post<Call>('/api/calls', { type: 'video', inviteeIds: [id('drhouse')] })).body;
    await t.app.sweepNow();
    expect((await as('bob').get<Call>(`/api/calls/${call.id}`)).body.status).toBe('ringing'); // not before its time
    await t.app.sweepNow(afterTimeout());
    const missed = await waitFor(
      'the call to be missed',
      async () => {
        const res = await as('bob').get<Call>(`/api/calls/${call.id}`);
        return res.body.status === 'missed' ? res.body : undefined;
      },
      { timeoutMs: 5000 },
    );
    expect(missed).toMatchObject({ endReason: 'timeout' });
    expect(missed.participants.find((p) => p.userId === id('drhouse'))?.status).toBe('missed');
    expect((await as('drhouse').post(`/api/calls/${call.id}/accept`)).status).toBe(409);
  });

  it('lets a participant join a running group call and leave it; the call ends with its last participant', async () => {
    const call = (await as('drgrey').post<Call>('/api/calls', { type: 'video', inviteeIds: [id('bob'), id('drhouse')] })).body;
    expect((await as('bob').post(`/api/calls/${call.id}/join`)).status).toBe(409); // still ringing: accept it
    await as('bob').post(`/api/calls/${call.id}/accept`);
    // drhouse never answers: after the ring timeout he is missed, but may still join the running call
    await t.app.sweepNow(afterTimeout());
    await waitFor(
      'the unanswered invitee to be missed',
      async () => {
        const res = await as('drhouse').get<Call>(`/api/calls/${call.id}`);
        return res.body.participants.find((p) => p.userId === id('drhouse'))?.status === 'missed' || undefined;
      },
      { timeoutMs: 5000 },
    );
    const joined = await as('drhouse').post<{ call: Call; access: RoomAccess }>(`/api/calls/${call.id}/join`);
    expect(joined.status).toBe(200);
    expect(joined.body.call.participants.filter((p) => p.status === 'accepted')).toHaveLength(3);
    expect(joined.body.access.room).toBe(call.id);
    expect((await as('bob').post<Call>(`/api/calls/${call.id}/leave`)).body.status).toBe('active');
    expect((await as('drhouse').post<Call>(`/api/calls/${call.id}/leave`)).body).toMatchObject({ status: 'ended', durationSeconds: expect.any(Number) });
  });

  it('lists history newest first with cursor pagination and filters; admins see every call', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: Page<Call> } = await as('drgrey').get<Page<Call>>(`/api/calls?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((c) => c.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    const all = await t.app.db.selectFrom('call_participants').select('call_id').where('user_id', '=', id('drgrey')).execute();
    expect(new Set(seen).size).toBe(all.length);
    expect(seen).toHaveLength(all.length);

    const declined = await as('drgrey').get<Page<Call>>('/api/calls?status=declined');
    expect(declined.body.items.length).toBeGreaterThan(0);
    expect(declined.body.items.every((c) => c.status === 'declined')).toBe(true);
    const voice = await as('drgrey').get<Page<Call>>('/api/calls?type=voice');
    expect(voice.body.items.every((c) => c.type === 'voice')).toBe(true);
    const withHouse = await as('drgrey').get<Page<Call>>(`/api/calls?participantId=${id('drhouse')}`);
    expect(withHouse.body.items.length).toBe(1);
    const future = await as('drgrey').get<Page<Call>>(`/api/calls?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.body.items).toEqual([]);
    const range = await as('drgrey').get<Page<Call>>(
      `/api/calls?from=${encodeURIComponent(new Date(Date.now() - 600_000).toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 1000).toISOString())}`,
    );
    expect(range.body.items.length).toBe(Math.min(20, all.length));
    expect((await as('drgrey').get('/api/calls?cursor=bogus')).status).toBe(422);
    expect((await as('drgrey').get('/api/calls?status=paused')).status).toBe(422);

    const admin = await as('admin').get<Page<Call>>('/api/admin/calls?limit=100');
    const total = await t.app.db.selectFrom('calls').select('id').execute();
    expect(admin.body.items).toHaveLength(total.length);
    expect((await as('alice').get(`/api/calls?participantId=${id('drhouse')}`)).body).toMatchObject({ items: [] });
  });
});
