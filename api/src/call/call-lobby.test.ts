import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import jwt from 'jsonwebtoken';
// The browser client, from source: it runs in Node with `ws` as its WebSocket.
import { TelemedClient } from '../../../sdk/src/client/TelemedClient.js';
import type { AppEventMap, Call, CallTimelineEntry, RoomAccess, Session } from '@telemed/sdk';
import { DATABASES, TEST_SECRETS, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';
import { waitFor } from '@telemed/test-kit';

type JoinResult = { call: Call; access: RoomAccess | null };

describe.each(DATABASES)('the call lobby on %s', (database) => {
  let t: TestApp;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);
  const id = (who: DemoUser) => s[who].user.id;
  const listeners: TelemedClient[] = [];
  const listen = async (
    who: DemoUser,
  ): Promise<{
    requested: AppEventMap['call.admission_requested'][];
    denied: AppEventMap['call.admission_denied'][];
    accepted: AppEventMap['call.accepted'][];
  }> => {
    const c = new TelemedClient({ baseUrl: t.url, session: s[who], WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
    listeners.push(c);
    const seen = {
      requested: [] as AppEventMap['call.admission_requested'][],
      denied: [] as AppEventMap['call.admission_denied'][],
      accepted: [] as AppEventMap['call.accepted'][],
    };
    c.on('call.admission_requested', (e) => seen.requested.push(e));
    c.on('call.admission_denied', (e) => seen.denied.push(e));
    c.on('call.accepted', (e) => seen.accepted.push(e));
    const connected = new Promise((resolve) => c.once('eventsConnected', resolve));
    c.connectEvents();
    await connected;
    return seen;
  };
  const statusOf = (call: Call, who: DemoUser) => call.participants.find((p) => p.userId === id(who))?.status;

  beforeAll(async () => {
    t = await startTestApp(database);
    for (const who of ['alice', 'bob', 'carol', 'drgrey', 'drhouse', 'admin'] as const) s[who] = await login(t.url, who);
  });
  afterAll(async () => {
    for (const c of listeners) c.disconnectEvents();
    await t?.close();
  });

  /** Dr. Grey's group call with Alice and Bob (and others): Alice is in it, the others declined. */
  async function runningCall(others: DemoUser[] = ['bob']): Promise<Call> {
    const call = (await as('drgrey').post<Call>('/api/calls', { type: 'video', inviteeIds: [id('alice'), ...others.map(id)] })).body;
    expect((await as('alice').post(`/api/calls/${call.id}/accept`)).status).toBe(200);
    for (const who of others) expect((await as(who).post(`/api/calls/${call.id}/decline`)).status).toBe(200);
    return call;
  }

  it('a patient asking to join waits without a room token; the doctor in the call is told and admits them', async () => {
    const grey = await listen('drgrey');
    const bob = await listen('bob');
    const call = await runningCall();

    const asked = await as('bob').post<JoinResult>(`/api/calls/${call.id}/join`);
    expect(asked.status).toBe(200);
    expect(asked.body.access).toBeNull();
    expect(statusOf(asked.body.call, 'bob')).toBe('waiting');
    // No room token while waiting.
    expect((await as('bob').post(`/api/calls/${call.id}/token`)).status).toBe(403);
    const request = await waitFor('the doctor to hear of the waiting patient', () => grey.requested.find((e) => e.call.id === call.id), { timeoutMs: 5000 });
    expect(request.userId).toBe(id('bob'));

    const admitted = await as('drgrey').post<Call>(`/api/calls/${call.id}/participants/${id('bob')}/admit`);
    expect(admitted.status).toBe(200);
    expect(statusOf(admitted.body, 'bob')).toBe('accepted');
    await waitFor('the patient to hear they are admitted', () => bob.accepted.find((e) => e.call.id === call.id && e.userId === id('bob')), {
      timeoutMs: 5000,
    });
    const token = await as('bob').post<RoomAccess>(`/api/calls/${call.id}/token`);
    expect(token.status).toBe(200);
    const claims = jwt.verify(token.body.token, TEST_SECRETS.roomTokenSecret, { audience: 'telemed-media', issuer: 'telemed-api' }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ room: call.id, sub: id('bob'), grants: { roomAdmin: false } });
    // Admitting twice is a conflict, not a second admission.
    expect((await as('drgrey').post(`/api/calls/${call.id}/participants/${id('bob')}/admit`)).status).toBe(409);
    await as('drgrey').post(`/api/calls/${call.id}/end`);

    // The call's timeline tells the story, in order; its participants and admins may read it.
    const timeline = await as('admin').get<{ items: CallTimelineEntry[] }>(`/api/calls/${call.id}/timeline`);
    expect(timeline.status).toBe(200);
    const who = new Map([
      [id('drgrey'), 'grey'],
      [id('alice'), 'alice'],
      [id('bob'), 'bob'],
    ]);
    expect(timeline.body.items.map((e) => `${e.kind}${e.userId ? `:${who.get(e.userId)}` : ''}`)).toEqual([
      'created:grey',
      'invited:alice',
      'invited:bob',
      'accepted:alice',
      'declined:bob',
      'asked:bob',
      'admitted:bob',
      'ended',
    ]);
    expect(timeline.body.items.find((e) => e.kind === 'admitted')).toMatchObject({ displayName: 'Bob Patient', detail: id('drgrey') });
    expect((await as('bob').get(`/api/calls/${call.id}/timeline`)).status).toBe(200);
    expect((await as('drhouse').get(`/api/calls/${call.id}/timeline`)).status).toBe(404);
  });

  it('only a doctor in the call decides: patients get 403, outsiders 404, admins 403', async () => {
    const call = await runningCall();
    await as('bob').post(`/api/calls/${call.id}/join`);
    const admit = (who: DemoUser) => as(who).post(`/api/calls/${call.id}/participants/${id('bob')}/admit`);
    expect((await admit('alice')).status).toBe(403); // a patient in the call
    expect((await admit('bob')).status).toBe(403); // the waiting patient themself
    expect((await admit('drhouse')).status).toBe(404); // a doctor outside the call: the call does not exist for him
    expect((await admit('carol')).status).toBe(403); // a patient outside the call: patients never admit
    expect((await admit('admin')).status).toBe(403);
    expect((await as('drgrey').post(`/api/calls/${call.id}/participants/${id('alice')}/admit`)).status).toBe(409); // alice is not waiting
    expect((await as('drgrey').post(`/api/calls/${call.id}/participants/${id('carol')}/admit`)).status).toBe(404);
    const still = (await as('drgrey').get<Call>(`/api/calls/${call.id}`)).body;
    expect(statusOf(still, 'bob')).toBe('waiting');
    await as('drgrey').post(`/api/calls/${call.id}/end`);
  });

  it('a denied patient is told, gets no token, and may ask again; doctors walk in; the call ending sends waiting patients away', async () => {
    const bob = await listen('bob');
    const call = await runningCall(['bob', 'drhouse']);
    await as('bob').post(`/api/calls/${call.id}/join`);
    const denied = await as('drgrey').post<Call>(`/api/calls/${call.id}/participants/${id('bob')}/deny`);
    expect(denied.status).toBe(200);
    expect(statusOf(denied.body, 'bob')).toBe('denied');
    await waitFor('the patient to hear they are denied', () => bob.denied.find((e) => e.call.id === call.id && e.userId === id('bob')), { timeoutMs: 5000 });
    expect((await as('bob').post(`/api/calls/${call.id}/token`)).status).toBe(403);
    expect((await as('drgrey').post(`/api/calls/${call.id}/participants/${id('bob')}/deny`)).status).toBe(409);

    const again = await as('bob').post<JoinResult>(`/api/calls/${call.id}/join`);
    expect(statusOf(again.body.call, 'bob')).toBe('waiting');

    // A doctor joining is not held in the lobby.
    const house = await as('drhouse').post<JoinResult>(`/api/calls/${call.id}/join`);
    expect(house.status).toBe(200);
    expect(house.body.access?.room).toBe(call.id);
    expect(statusOf(house.body.call, 'drhouse')).toBe('accepted');

    const ended = await as('drgrey').post<Call>(`/api/calls/${call.id}/end`);
    expect(statusOf(ended.body, 'bob')).toBe('missed');
    expect((await as('bob').post(`/api/calls/${call.id}/join`)).status).toBe(409);
  });

  it('documents the lobby in the OpenAPI description', async () => {
    const doc = (await as('admin').get<{ paths: Record<string, Record<string, unknown>> }>('/api/openapi.json')).body;
    expect(doc.paths['/api/calls/{id}/participants/{userId}/admit']?.post).toBeDefined();
    expect(doc.paths['/api/calls/{id}/participants/{userId}/deny']?.post).toBeDefined();
    expect(JSON.stringify(doc.paths['/api/calls/{id}/join'])).toContain('lobby');
  });
});
