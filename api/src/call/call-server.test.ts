import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call, Page, Session } from '@telemed/sdk';
import { DATABASES, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';

describe.each(DATABASES)('calls and rooms with an API key (%s)', (database) => {
  let t: TestApp;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);
  const key = async (scopes: string[]) =>
    client(t.url, (await as('admin').post<{ secret: string }>('/api/admin/api-keys', { name: `Backend ${scopes.join(',')}`, scopes })).body.secret);

  beforeAll(async () => {
    t = await startTestApp(database, { callTimeoutSeconds: 600 });
    for (const who of ['alice', 'drgrey', 'admin'] as const) s[who] = await login(t.url, who);
  });
  afterAll(async () => t?.close());

  it('starts a call from a doctor, lists it and its room, and ends it; each use audited with the key', async () => {
    const backend = await key(['calls', 'rooms']);
    const created = await backend.post<Call>('/api/server/calls', { initiatorId: s.drgrey.user.id, inviteeIds: [s.alice.user.id], type: 'video' });
    expect(created).toMatchObject({ status: 201, body: { status: 'ringing', initiatorId: s.drgrey.user.id } });
    const call = created.body;
    expect((await as('alice').post(`/api/calls/${call.id}/accept`)).status).toBe(200);
    const rooms = await backend.get<{ items: Array<{ room: string; participants: Array<{ userId: string; status: string }> }> }>('/api/server/rooms');
    expect(rooms.body.items.find((r) => r.room === call.id)?.participants.map((p) => p.status)).toEqual(['accepted', 'accepted']);
    const listed = await backend.get<Page<Call>>('/api/server/calls?status=active');
    expect(listed.body.items.map((c) => c.id)).toContain(call.id);
    const ended = await backend.post<Call>(`/api/server/calls/${call.id}/end`);
    expect(ended).toMatchObject({ status: 200, body: { status: 'ended', endReason: 'ended_by_service' } });
    expect((await backend.post(`/api/server/calls/${call.id}/end`)).status).toBe(409);
    expect((await backend.get<{ items: Array<{ room: string }> }>('/api/server/rooms')).body.items.map((r) => r.room)).not.toContain(call.id);

    const ringing = (await backend.post<Call>('/api/server/calls', { initiatorId: s.drgrey.user.id, inviteeIds: [s.alice.user.id], type: 'voice' })).body;
    expect((await backend.post<Call>(`/api/server/calls/${ringing.id}/end`)).body.status).toBe('cancelled');

    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'entity_ids', 'actor_id'])
      .where('entity_type', '=', 'call')
      .where('actor_id', 'is', null)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['create', 'read', 'read', 'update', 'read', 'create', 'update']);
  });

  it("refuses a key without the scope, a patient or unknown initiator, and a patient not in the doctor's care", async () => {
    const tokensOnly = await key(['room-tokens']);
    expect(await tokensOnly.get('/api/server/calls')).toMatchObject({ status: 403, body: { error: { message: 'this API key lacks the scope calls' } } });
    expect((await tokensOnly.get('/api/server/rooms')).status).toBe(403);
    const backend = await key(['calls']);
    expect((await backend.post('/api/server/calls', { initiatorId: s.alice.user.id, inviteeIds: [s.drgrey.user.id], type: 'video' })).status).toBe(403);
    expect((await backend.post('/api/server/calls', { initiatorId: crypto.randomUUID(), inviteeIds: [s.alice.user.id], type: 'video' })).status).toBe(404);
    expect((await backend.post(`/api/server/calls/${crypto.randomUUID()}/end`)).status).toBe(404);
    expect((await client(t.url, s.admin.accessToken).get('/api/server/calls')).status).toBe(401);
  });
});
