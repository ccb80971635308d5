import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import type { Session } from '@telemed/sdk';
import { EventsClient } from '../testing/events-client.js';
import { DATABASES, client, createPostgresDatabase, login, startTestApp, type TestApp } from '../testing/test-app.js';
import { waitFor } from '@telemed/test-kit';

const sockets: EventsClient[] = [];
const connect = (url: string, token: string): EventsClient => {
  const c = new EventsClient(url, token);
  sockets.push(c);
  return c;
};
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});

const me = (url: string, session: Session): Promise<number> =>
  client(url, session.accessToken)
    .get('/api/users/me')
    .then((r) => r.status);

/** The status a /events upgrade with this token is answered with (101 when it opens). */
function upgradeStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/events?access_token=${token}`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
  });
}

describe.each(DATABASES)('session revocation on %s', (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(database);
  });
  afterAll(async () => t?.close());

  it("logout stops the session's access tokens and closes its sockets at once; other sessions go on", async () => {
    const [ended, other] = [await login(t.url, 'bob'), await login(t.url, 'bob')];
    const [socket, otherSocket] = [connect(t.url, ended.accessToken), connect(t.url, other.accessToken)];
    await Promise.all([socket.ready(), otherSocket.ready()]);
    expect(await me(t.url, ended)).toBe(200);

    expect((await client(t.url).post('/api/auth/logout', { refreshToken: ended.refreshToken })).status).toBe(204);
    const res = await client(t.url, ended.accessToken).get('/api/users/me');
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'the session has ended; log in again' } } });
    expect(await socket.closed).toEqual({ code: 4003, reason: 'session ended' });
    expect(await upgradeStatus(t.url, ended.accessToken)).toBe(401);

    expect(await me(t.url, other)).toBe(200);
    expect(otherSocket.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('a reused refresh token ends the access tokens of its session', async () => {
    const session = await login(t.url, 'carol');
    const rotated = (await client(t.url).post<Session>('/api/auth/refresh', { refreshToken: session.refreshToken })).body;
    expect(await me(t.url, rotated)).toBe(200);
    // Past the lost-answer leeway, the old token is presented again: theft.
    await t.app.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: new Date(Date.now() - 60_000) })
      .where('replaced_by', 'is not', null)
      .where('user_id', '=', session.user.id)
      .execute();
    expect((await client(t.url).post('/api/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(401);
    expect(await me(t.url, rotated)).toBe(401);
    expect(await me(t.url, session)).toBe(401);
  });

  it('revokeUserSessions (password reset, disabled account) ends every session of that user only', async () => {
    const sessions = [await login(t.url, 'drhouse'), await login(t.url, 'drhouse')];
    const bystander = await login(t.url, 'drgrey');
    const sockets = sessions.map((s) => connect(t.url, s.accessToken));
    await Promise.all(sockets.map((s) => s.ready()));
    for (const s of sessions) expect(await me(t.url, s)).toBe(200);

    expect(await t.app.sessions.revokeUserSessions(sessions[0]!.user.id, 'password-reset')).toBe(2);
    for (const s of sessions) {
      expect(await me(t.url, s)).toBe(401);
      expect((await client(t.url).post('/api/auth/refresh', { refreshToken: s.refreshToken })).status).toBe(401);
    }
    for (const s of sockets) expect((await s.closed).code).toBe(4003);
    expect(await me(t.url, bystander)).toBe(200);

    // A new login works again (a password reset is followed by one); a disabled account's does not.
    const again = await login(t.url, 'drhouse');
    expect(await me(t.url, again)).toBe(200);
    await t.app.db.updateTable('users').set({ disabled_at: new Date() }).where('id', '=', again.user.id).execute();
    expect(await t.app.sessions.revokeUserSessions(again.user.id, 'account-disabled')).toBe(1);
    expect(await me(t.url, again)).toBe(401);
    await t.app.db.updateTable('users').set({ disabled_at: null }).where('id', '=', again.user.id).execute();
  });
});

describe('session revocation across two API instances sharing Redis', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const databaseUrl = await createPostgresDatabase();
    // A long TTL: anything faster than it travelled over Redis, not through a re-read.
    const shared = { databaseUrl, redisUrl: inject('redisUrl'), redisKeyPrefix: `test-${randomUUID()}`, sessionCheckTtlSeconds: 300 };
    a = await startTestApp('postgres', shared);
    b = await startTestApp('postgres', shared);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('logout on one instance answers 401 on the other within moments and closes its sockets there', async () => {
    const total: number[] = [];
    const afterAnswer: number[] = [];
    for (let i = 0; i < 5; i++) {
      const session = await login(a.url, 'alice');
      const socket = connect(b.url, session.accessToken);
      await socket.ready();
      expect(await me(b.url, session)).toBe(200); // cached as open on b
      const started = performance.now();
      expect((await client(a.url).post('/api/auth/logout', { refreshToken: session.refreshToken })).status).toBe(204);
      const answered = performance.now();
      await waitFor('a 401 on the other instance', async () => (await me(b.url, session)) === 401 || undefined, { timeoutMs: 10_000 });
      total.push(performance.now() - started);
      afterAnswer.push(performance.now() - answered);
      expect((await socket.closed).code).toBe(4003);
    }
    const show = (values: number[]): string =>
      [...values]
        .sort((x, y) => x - y)
        .map((ms) => ms.toFixed(1))
        .join(', ');
    console.log(`[sessions] logout sent to A -> first 401 from B: ${show(total)} ms; of which after A's 204: ${show(afterAnswer)} ms`);
  });

  it('a revocation whose message was lost is noticed once the cached answer is older than the TTL', async () => {
    const c = await startTestApp('postgres', { databaseUrl: a.app.config.databaseUrl!, sessionCheckTtlSeconds: 0.5 }); // no Redis: hears nothing
    try {
      const session = await login(a.url, 'bob');
      expect(await me(c.url, session)).toBe(200);
      expect((await client(a.url).post('/api/auth/logout', { refreshToken: session.refreshToken })).status).toBe(204);
      const started = performance.now();
      await waitFor('a 401 after the TTL', async () => (await me(c.url, session)) === 401 || undefined, { timeoutMs: 20_000 });
      console.log(`[sessions] without the message: 401 after ${(performance.now() - started).toFixed(0)} ms (TTL 500 ms)`);
    } finally {
      await c.close();
    }
  });
});
