import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call, Page, RoomAccess, Session } from '@telemed/sdk';
import { ROOM_TOKEN_AUDIENCE, ROOM_TOKEN_ISSUER } from '@telemed/sdk/protocol';
import { ApiResponseError, TelemedServerClient } from '@telemed/server-sdk';
import { runTelemed } from '../testing/telemed-cli.js';
import { DATABASES, TEST_SECRETS, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';

const TURN_URLS = ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp'];

describe.each(DATABASES)('calls and rooms with an API key (%s)', (database) => {
  let t: TestApp;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);
  const key = async (scopes: string[]) =>
    client(t.url, (await as('admin').post<{ secret: string }>('/api/admin/api-keys', { name: `Backend ${scopes.join(',')}`, scopes })).body.secret);

  beforeAll(async () => {
    t = await startTestApp(database, { callTimeoutSeconds: 600, turnUrls: TURN_URLS, turnSecret: 'turn-secret-0123456789abcdef' });
    for (const who of ['alice', 'bob', 'carol', 'drgrey', 'admin'] as const) s[who] = await login(t.url, who);
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

  it("gives a participant's room access with a key (API, server SDK, CLI): what their app gets; refuses outsiders, calls not active, disabled accounts; audited", async () => {
    const { body: created } = await as('admin').post<{ apiKey: { id: string }; secret: string }>('/api/admin/api-keys', { name: 'Backend', scopes: ['calls'] });
    const backend = client(t.url, created.secret);
    const sdk = new TelemedServerClient({ apiUrl: t.url, apiKey: created.secret });
    const { body: call } = await backend.post<Call>('/api/server/calls', {
      initiatorId: s.drgrey.user.id,
      inviteeIds: [s.alice.user.id, s.bob.user.id],
      type: 'video',
    });
    const access = (userId: string, callId = call.id) => backend.post<RoomAccess>(`/api/server/calls/${callId}/access`, { userId });
    const refusal = (status: number, code: string, message: string) => ({ status, body: { error: { code, message } } });

    // Ringing: nobody is in the room yet.
    expect(await access(s.drgrey.user.id)).toMatchObject(refusal(409, 'CONFLICT', 'the call is ringing'));
    expect((await as('alice').post(`/api/calls/${call.id}/accept`)).status).toBe(200);

    const given = await access(s.alice.user.id);
    expect(given.status).toBe(200);
    const own = (await as('alice').post<RoomAccess>(`/api/calls/${call.id}/token`)).body;
    const apart = ({ token, iceServers, ...rest }: RoomAccess) => ({ rest, token: jwt.decode(token) as jwt.JwtPayload, iceServers });
    expect(apart(given.body).rest).toEqual(apart(own).rest);
    expect(apart(given.body).rest).toEqual({ callId: call.id, room: call.id, url: t.app.config.mediaPublicUrl, expiresIn: t.app.config.roomTokenTtlSeconds });
    const claims = jwt.verify(given.body.token, TEST_SECRETS.roomTokenSecret, { audience: ROOM_TOKEN_AUDIENCE, issuer: ROOM_TOKEN_ISSUER }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ room: call.id, sub: s.alice.user.id, name: s.alice.user.displayName, grants: apart(own).token.grants });
    expect(claims.grants).toMatchObject({ canPublish: true, roomAdmin: false });
    expect(given.body.iceServers).toEqual([
      { urls: TURN_URLS, username: expect.stringMatching(new RegExp(`^\\d+:${s.alice.user.id}$`)), credential: expect.any(String) },
    ]);

    // The server SDK and the CLI: the doctor's is a room admin's, as in the app.
    const doctor = await sdk.callAccess(call.id, s.drgrey.user.id);
    expect(doctor).toMatchObject({ callId: call.id, room: call.id, url: t.app.config.mediaPublicUrl, iceServers: [{ urls: TURN_URLS }] });
    expect(jwt.decode(doctor.token)).toMatchObject({ sub: s.drgrey.user.id, grants: { roomAdmin: true } });
    const cli = await runTelemed(t.url, ['calls', 'access', call.id, s.alice.user.id, '--key', created.secret]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(jwt.decode((JSON.parse(cli.stdout) as RoomAccess).token)).toMatchObject({ room: call.id, sub: s.alice.user.id });

    // Refused: an unknown call, someone not in it, an invitee who has not accepted, bad input, a key without the scope, a user's token.
    expect(await access(s.alice.user.id, crypto.randomUUID())).toMatchObject(refusal(404, 'NOT_FOUND', 'no such call'));
    expect(await access(s.carol.user.id)).toMatchObject(refusal(403, 'FORBIDDEN', 'the user is not a participant of this call'));
    expect(await access(crypto.randomUUID())).toMatchObject(refusal(403, 'FORBIDDEN', 'the user is not a participant of this call'));
    expect(await access(s.bob.user.id)).toMatchObject(refusal(403, 'FORBIDDEN', 'only accepted participants of an active call get a room token'));
    expect((await access('alice')).status).toBe(422);
    expect((await backend.post(`/api/server/calls/${call.id}/access`, {})).status).toBe(422);
    expect((await (await key(['rooms'])).post(`/api/server/calls/${call.id}/access`, { userId: s.alice.user.id })).status).toBe(403);
    expect((await as('alice').post(`/api/server/calls/${call.id}/access`, { userId: s.alice.user.id })).status).toBe(401);
    const outsider = await sdk.callAccess(call.id, s.carol.user.id).catch((error: unknown) => error);
    expect(outsider).toBeInstanceOf(ApiResponseError);
    expect(outsider).toMatchObject({ status: 403, apiCode: 'FORBIDDEN' });
    const refused = await runTelemed(t.url, ['calls', 'access', call.id, s.carol.user.id, '--key', created.secret]);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('403 FORBIDDEN: the user is not a participant of this call') });
    expect(await runTelemed(t.url, ['calls', 'access', call.id, '--key', created.secret])).toMatchObject({ code: 64 });

    // A disabled account signs in nowhere, so no backend gets it into a call either.
    expect((await as('admin').post(`/api/admin/users/${s.alice.user.id}/disable`)).status).toBe(200);
    expect(await access(s.alice.user.id)).toMatchObject(refusal(403, 'FORBIDDEN', 'the account is disabled'));
    expect((await as('admin').post(`/api/admin/users/${s.alice.user.id}/enable`)).status).toBe(200);
    s.alice = await login(t.url, 'alice');

    expect((await backend.post(`/api/server/calls/${call.id}/end`)).status).toBe(200);
    expect(await access(s.alice.user.id)).toMatchObject(refusal(409, 'CONFLICT', 'the call is ended'));

    // Each access given is audited with the key as the actor: the call, the participant, the key.
    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'entity_ids', 'actor_id'])
      .where('entity_type', '=', 'room_token')
      .orderBy('id')
      .execute();
    expect(audit).toEqual(
      [s.alice, s.drgrey, s.alice].map((who) => ({ action: 'create', actor_id: null, entity_ids: [call.id, who.user.id, created.apiKey.id] })),
    );
  });
});
