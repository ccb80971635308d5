import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOM_TOKEN_AUDIENCE, ROOM_TOKEN_ISSUER } from '@telemed/sdk/protocol';
import { runTelemed } from '../testing/telemed-cli.js';
import { DATABASES, TEST_SECRETS, client, login, startTestApp, type TestApp } from '../testing/test-app.js';

interface ApiKey {
  id: string;
  prefix: string;
  scopes: string[];
  revokedAt: string | null;
  lastUsedAt: string | null;
}

describe.each(DATABASES)('API keys (%s)', (database) => {
  let t: TestApp;
  let admin: ReturnType<typeof client>;
  beforeAll(async () => {
    t = await startTestApp(database);
    admin = client(t.url, (await login(t.url, 'admin')).accessToken);
  });
  afterAll(async () => t?.close());

  it('an admin creates a key, shown once and stored as a hash; with it a backend mints room tokens; revoked, it is refused', async () => {
    const created = await admin.post<{ apiKey: ApiKey; secret: string }>('/api/admin/api-keys', { name: 'Clinic scheduler', scopes: ['room-tokens'] });
    expect(created.status).toBe(201);
    const { apiKey, secret } = created.body;
    expect(secret).toMatch(new RegExp(`^tmk_${apiKey.prefix}_`));
    const row = await t.app.db.selectFrom('api_keys').selectAll().where('id', '=', apiKey.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret.slice(`tmk_${apiKey.prefix}_`.length));
    const listed = await admin.get<{ items: ApiKey[] }>('/api/admin/api-keys');
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.items.map((k) => k.id)).toContain(apiKey.id);

    const backend = client(t.url, secret);
    const minted = await backend.post<{ token: string; url: string; expiresIn: number; iceServers: unknown[] }>('/api/server/room-tokens', {
      room: 'waiting-room-7',
      identity: 'guest-42',
      name: 'Guest',
      roomAdmin: false,
      ttlSeconds: 120,
    });
    expect(minted.status).toBe(201);
    const claims = jwt.verify(minted.body.token, TEST_SECRETS.roomTokenSecret, { audience: ROOM_TOKEN_AUDIENCE, issuer: ROOM_TOKEN_ISSUER }) as jwt.JwtPayload;
    expect(claims).toMatchObject({
      room: 'waiting-room-7',
      sub: 'guest-42',
      name: 'Guest',
      grants: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false },
    });
    expect(claims.exp! - claims.iat!).toBe(120);
    expect(minted.body.expiresIn).toBe(120);
    expect(minted.body.url).toBe(t.app.config.mediaPublicUrl);
    expect(minted.body.iceServers).toEqual([]); // no TURN configured here

    // Never a call's room (a UUID) or a development room.
    for (const room of ['00000000-0000-4000-8000-000000000000', 'dev-r1'])
      expect((await backend.post('/api/server/room-tokens', { room, identity: 'x' })).status, room).toBe(422);

    const revoked = await admin.post<ApiKey>(`/api/admin/api-keys/${apiKey.id}/revoke`);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect(revoked.body.lastUsedAt).not.toBeNull();
    const refused = await backend.post('/api/server/room-tokens', { room: 'waiting-room-7', identity: 'guest-42' });
    expect(refused).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'this API key was revoked' } } });

    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'entity_type'])
      .where('entity_type', 'in', ['api_key', 'room_token'])
      .orderBy('id')
      .execute();
    expect(audit.map((a) => `${a.action} ${a.entity_type}`)).toEqual(['create api_key', 'read api_key', 'create room_token', 'revoke api_key']);
  });

  it("refuses a forged or unknown key, a user's token, and non-admins creating keys", async () => {
    const { body } = await admin.post<{ secret: string }>('/api/admin/api-keys', { name: 'Other', scopes: ['room-tokens'] });
    const forged = `${body.secret.slice(0, -4)}AAAA`;
    expect((await client(t.url, forged).post('/api/server/room-tokens', { room: 'r', identity: 'i' })).status).toBe(401);
    expect((await client(t.url, (await login(t.url, 'drgrey')).accessToken).post('/api/server/room-tokens', { room: 'r', identity: 'i' })).status).toBe(401);
    const doctor = client(t.url, (await login(t.url, 'drgrey')).accessToken);
    expect((await doctor.post('/api/admin/api-keys', { name: 'Mine', scopes: ['room-tokens'] })).status).toBe(403);
    expect((await admin.post('/api/admin/api-keys', { name: 'No scope', scopes: [] })).status).toBe(422);
    expect((await admin.post('/api/admin/api-keys', { name: 'Bad scope', scopes: ['everything'] })).status).toBe(422);
  });

  it('the CLI mints a token with a key (`telemed token create`), and says why when it cannot', async () => {
    const { body } = await admin.post<{ secret: string }>('/api/admin/api-keys', { name: 'CLI', scopes: ['room-tokens'] });
    const run = (args: string[]) => runTelemed(t.url, args);
    const ok = await run(['token', 'create', '--key', body.secret, '--room', 'lobby-1', '--identity', 'kiosk-3', '--ttl', '60']);
    expect(ok.code, ok.stderr).toBe(0);
    const minted = JSON.parse(ok.stdout) as { token: string; expiresIn: number };
    expect(jwt.verify(minted.token, TEST_SECRETS.roomTokenSecret)).toMatchObject({ room: 'lobby-1', sub: 'kiosk-3' });
    expect(minted.expiresIn).toBe(60);
    const refused = await run(['token', 'create', '--key', `${body.secret.slice(0, -4)}AAAA`, '--room', 'lobby-1', '--identity', 'kiosk-3']);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('401 UNAUTHORIZED: unknown API key') });
    const help = await run(['token', 'create', '--help']);
    expect(help.stdout).toContain('Mint a room token with an API key');
    const wide = (await admin.post<{ secret: string }>('/api/admin/api-keys', { name: 'CLI all', scopes: ['calls', 'rooms'] })).body.secret;
    const calls = await run(['calls', 'list', '--key', wide, '--limit', '5']);
    expect(calls.code, calls.stderr).toBe(0);
    expect(JSON.parse(calls.stdout)).toMatchObject({ items: expect.any(Array) });
    const rooms = await run(['rooms', 'list', '--key', wide]);
    expect(rooms.code, rooms.stderr).toBe(0);
    expect(JSON.parse(rooms.stdout)).toMatchObject({ items: expect.any(Array) });
    expect(await run(['rooms', 'list', '--key', body.secret])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('403 FORBIDDEN: this API key lacks the scope rooms'),
    });
  });
});
