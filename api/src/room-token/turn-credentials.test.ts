import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call, RoomAccess, Session } from '@telemed/sdk';
import { TEST_SECRETS, client, login, startTestApp, type TestApp } from '../testing/test-app.js';
import { turnCredentials } from './turn-credentials.service.js';

const TURN = {
  turnUrls: ['turn:turn.clinic.test:3478?transport=udp', 'turns:turn.clinic.test:443?transport=tcp'],
  turnSecret: 'turn-shared-secret-for-tests-0123456789',
};

describe('turnCredentials', () => {
  it("signs `<expiry>:<user>` with the shared secret, as coturn's use-auth-secret checks", () => {
    const now = Date.UTC(2026, 0, 1);
    const [server] = turnCredentials(TURN, 'user-1', 3600, now);
    expect(server!.urls).toEqual(TURN.turnUrls);
    expect(server!.username).toBe(`${now / 1000 + 3600}:user-1`);
    expect(server!.credential).toBe(createHmac('sha1', TURN.turnSecret).update(server!.username).digest('base64'));
  });

  it('never outlives the room token, and may be shorter', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(turnCredentials({ ...TURN, turnTtlSeconds: 86_400 }, 'u', 600, now)[0]!.username).toBe(`${now / 1000 + 600}:u`);
    expect(turnCredentials({ ...TURN, turnTtlSeconds: 120 }, 'u', 600, now)[0]!.username).toBe(`${now / 1000 + 120}:u`);
  });

  it('hands out nothing without TURN', () => {
    expect(turnCredentials({ turnUrls: [] }, 'u', 600)).toEqual([]);
  });
});

describe('room access with TURN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite', { ...TURN, roomTokenTtlSeconds: 900 });
  });
  afterAll(async () => t?.close());

  it('carries TURN credentials that expire no later than the room token', async () => {
    const alice: Session = await login(t.url, 'alice');
    const grey: Session = await login(t.url, 'drgrey');
    const started = await client(t.url, alice.accessToken).post<Call>('/api/calls', { type: 'video', inviteeIds: [grey.user.id] });
    const accepted = await client(t.url, grey.accessToken).post<{ access: RoomAccess }>(`/api/calls/${started.body.id}/accept`);
    expect(accepted.status).toBe(200);
    const { access } = accepted.body;
    const claims = jwt.verify(access.token, TEST_SECRETS.roomTokenSecret) as jwt.JwtPayload;
    expect(access.iceServers).toHaveLength(1);
    const [server] = access.iceServers;
    const [expiry, user] = server!.username.split(':');
    expect(user).toBe(grey.user.id);
    expect(Number(expiry)).toBeLessThanOrEqual(claims.exp!);
    expect(Number(expiry)).toBeGreaterThan(Date.now() / 1000 + 800);
    expect(server!.credential).toBe(createHmac('sha1', TURN.turnSecret).update(server!.username).digest('base64'));
    // The caller's fresh token comes with fresh credentials too.
    const token = await client(t.url, alice.accessToken).post<RoomAccess>(`/api/calls/${started.body.id}/token`);
    expect(token.body.iceServers[0]!.username).toMatch(new RegExp(`^\\d+:${alice.user.id}$`));
  });

  it("gives an app room's token minted with an API key TURN credentials for its identity", async () => {
    const admin = client(t.url, (await login(t.url, 'admin')).accessToken);
    const key = await admin.post<{ secret: string }>('/api/admin/api-keys', { name: 'TURN app', scopes: ['room-tokens'] });
    const minted = await client(t.url, key.body.secret).post<{ token: string; iceServers: RoomAccess['iceServers'] }>('/api/server/room-tokens', {
      room: 'waiting-room-turn',
      identity: 'guest-7',
      ttlSeconds: 300,
    });
    expect(minted.status).toBe(201);
    const claims = jwt.verify(minted.body.token, TEST_SECRETS.roomTokenSecret) as jwt.JwtPayload;
    const [server] = minted.body.iceServers;
    expect(server!.urls).toEqual(TURN.turnUrls);
    expect(server!.username).toBe(`${claims.exp!}:guest-7`);
    expect(server!.credential).toBe(createHmac('sha1', TURN.turnSecret).update(server!.username).digest('base64'));
  });

  it('refuses TURN_URLS without TURN_SECRET', async () => {
    await expect(startTestApp('pglite', { turnUrls: TURN.turnUrls })).rejects.toThrow(/TURN_SECRET is required when TURN_URLS is set/);
  });
});
