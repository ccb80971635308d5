import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '@telemed/sdk';
import { isApiKeyAccess } from '../http/route.js';
import { DATABASES, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';
import { DEMO_PASSWORD } from '../db/seed.js';

describe.each(DATABASES)('auth and access control on %s', (database) => {
  let t: TestApp;
  const sessions = {} as Record<DemoUser, Session>;
  beforeAll(async () => {
    t = await startTestApp(database, { loginRateLimit: 5 });
    for (const who of ['alice', 'bob', 'carol', 'drgrey', 'drhouse', 'admin'] as const) sessions[who] = await login(t.url, who);
  });
  afterAll(async () => t?.close());

  it('logs in with e-mail and password, and refuses a wrong password without saying which part was wrong', async () => {
    expect(Object.keys(sessions.alice).sort()).toEqual(['accessToken', 'accessTokenExpiresIn', 'refreshToken', 'user']);
    const me = await client(t.url, sessions.alice.accessToken).get<{ email: string; role: string }>('/api/users/me');
    expect(me).toMatchObject({ status: 200, body: { email: 'alice@patients.demo', role: 'patient' } });
    const wrong = await client(t.url).post('/api/auth/login', { email: 'alice@patients.demo', password: 'nope' });
    const unknown = await client(t.url).post('/api/auth/login', { email: 'nobody@x.demo', password: DEMO_PASSWORD });
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'wrong e-mail or password' } } });
    expect(unknown.body).toEqual(wrong.body);
    // the stored hash is scrypt, never the password
    const row = await t.app.db.selectFrom('users').select('password_hash').where('email', '=', 'alice@patients.demo').executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(row.password_hash).not.toContain(DEMO_PASSWORD);
  });

  it('rate-limits login attempts per address and e-mail', async () => {
    const attempt = () => client(t.url).post('/api/auth/login', { email: 'guess@patients.demo', password: 'wrong' });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await attempt()).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });

  it('rotates refresh tokens; a reused old token revokes the whole session', async () => {
    const session = await login(t.url, 'bob');
    const first = await client(t.url).post<Session>('/api/auth/refresh', { refreshToken: session.refreshToken });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(session.refreshToken);
    expect((await client(t.url, first.body.accessToken).get('/api/users/me')).status).toBe(200);
    // A retry right after a lost answer is allowed (leeway); a reuse later is theft.
    const retry = await client(t.url).post<Session>('/api/auth/refresh', { refreshToken: session.refreshToken });
    expect(retry.status).toBe(200);
    await t.app.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: new Date(Date.now() - 60_000) })
      .where('replaced_by', 'is not', null)
      .execute();
    const replay = await client(t.url).post('/api/auth/refresh', { refreshToken: session.refreshToken });
    expect(replay.status).toBe(401);
    expect((await client(t.url).post('/api/auth/refresh', { refreshToken: retry.body.refreshToken })).status).toBe(401);
    const afterTheft = await client(t.url).post('/api/auth/refresh', { refreshToken: first.body.refreshToken });
    expect(afterTheft.status).toBe(401);
    // stored hashed: the token itself is nowhere in the table
    const rows = await t.app.db.selectFrom('refresh_tokens').select('token_hash').execute();
    expect(rows.some((r) => r.token_hash === first.body.refreshToken)).toBe(false);
  });

  it('logout ends the session; an idle session expires', async () => {
    const session = await login(t.url, 'bob');
    expect((await client(t.url).post('/api/auth/logout', { refreshToken: session.refreshToken })).status).toBe(204);
    expect((await client(t.url).post('/api/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(401);
    const logouts = await t.app.db
      .selectFrom('audit_log')
      .select(['actor_id', 'ip'])
      .where('action', '=', 'logout')
      .where('entity_id', '=', session.user.id)
      .execute();
    expect(logouts).toEqual([{ actor_id: session.user.id, ip: expect.any(String) }]);

    const idle = await login(t.url, 'bob');
    // Idle past the window (30 min by default): move last use back instead of waiting.
    await t.app.db
      .updateTable('refresh_tokens')
      .set({ last_used_at: new Date(Date.now() - 31 * 60 * 1000) })
      .where('revoked_at', 'is', null)
      .execute();
    const res = await client(t.url).post('/api/auth/refresh', { refreshToken: idle.refreshToken });
    expect(res).toMatchObject({ status: 401, body: { error: { message: 'the session was idle too long; log in again' } } });
  });

  it('every protected route answers 401 without a token and 403 to each role it is not for', async () => {
    const roleOf: Record<string, DemoUser> = { patient: 'alice', doctor: 'drgrey', admin: 'admin' };
    let checked = 0;
    for (const spec of t.app.routes.specs) {
      const path = spec.path.replace(/:messageId/g, '1').replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000');
      const method = spec.method.toUpperCase();
      if (spec.access === 'public' || spec.access === 'metrics-scraper') continue; // /metrics: app.test.ts
      const anonymous = await fetch(`${t.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(method === 'GET' ? {} : { body: '{}' }),
      });
      expect(anonymous.status, `${method} ${spec.path} without a token`).toBe(401);
      if (isApiKeyAccess(spec.access)) {
        // a user's access token is not an API key
        const asUser = await fetch(`${t.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${sessions.admin.accessToken}`, 'content-type': 'application/json' },
          ...(method === 'GET' ? {} : { body: '{}' }),
        });
        expect(asUser.status, `${method} ${spec.path} with an admin token`).toBe(401);
        continue;
      }
      if (spec.access === 'media-server') {
        // a user's access token is not a media server signature
        const asUser = await fetch(`${t.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${sessions.admin.accessToken}`, 'content-type': 'application/json' },
          body: '{"node":"x","events":[]}',
        });
        expect(asUser.status, `${method} ${spec.path} with an admin token`).toBe(401);
        continue;
      }
      for (const role of ['patient', 'doctor', 'admin'] as const) {
        if (spec.access.includes(role)) continue;
        const res = await fetch(`${t.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${sessions[roleOf[role]!].accessToken}`, 'content-type': 'application/json' },
          ...(method === 'GET' ? {} : { body: '{}' }),
        });
        expect(res.status, `${method} ${spec.path} as ${role}`).toBe(403);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    const forged = await client(t.url, `${sessions.alice.accessToken.slice(0, -4)}AAAA`).get('/api/users/me');
    expect(forged.status).toBe(401);
  });

  it("reaches only the caller's own records: other patients' conversations and calls do not exist for them", async () => {
    const alice = client(t.url, sessions.alice.accessToken);
    const bob = client(t.url, sessions.bob.accessToken);
    const house = client(t.url, sessions.drhouse.accessToken);
    const conversations = await alice.get<{ items: Array<{ id: string }> }>('/api/conversations');
    const mine = conversations.body.items[0]!.id;
    expect((await bob.get(`/api/conversations/${mine}`)).status).toBe(404);
    expect((await bob.get(`/api/conversations/${mine}/messages`)).status).toBe(404);
    expect((await bob.post(`/api/conversations/${mine}/messages`, { clientId: crypto.randomUUID(), body: 'hi' })).status).toBe(404);
    expect((await house.get(`/api/conversations/${mine}/messages`)).status).toBe(404);

    const grey = (await alice.get<{ items: Array<{ id: string; role: string }> }>('/api/users/contacts')).body.items;
    expect(grey.map((u) => u.role)).toEqual(['doctor']);
    const call = await alice.post<{ id: string }>('/api/calls', { type: 'video', inviteeIds: [grey[0]!.id] });
    expect(call.status).toBe(201);
    expect((await bob.get(`/api/calls/${call.body.id}`)).status).toBe(404);
    expect((await house.post(`/api/calls/${call.body.id}/accept`)).status).toBe(404);
    expect((await client(t.url, sessions.admin.accessToken).get(`/api/calls/${call.body.id}`)).status).toBe(200);

    // a patient reaches only their care team; a doctor only their patients and colleagues
    const carol = (await house.get<{ items: Array<{ id: string; email: string }> }>('/api/users/contacts')).body.items.find(
      (u) => u.email === 'carol@patients.demo',
    )!;
    expect((await alice.post('/api/calls', { type: 'voice', inviteeIds: [carol.id] })).status).toBe(403);
    expect((await client(t.url, sessions.drgrey.accessToken).post('/api/conversations', { kind: 'direct', memberIds: [carol.id] })).status).toBe(403);
    expect((await house.post('/api/conversations', { kind: 'direct', memberIds: [carol.id] })).status).toBe(201);

    // and the reads are audited with who, what and from where
    const audit = await t.app.db.selectFrom('audit_log').selectAll().where('entity_type', '=', 'call').where('entity_id', '=', call.body.id).execute();
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['create', 'read']));
    expect(audit.every((a) => a.ip && a.request_id)).toBe(true);
  });

  it('sends security headers, no cookies, and CORS only to allowed origins', async () => {
    const res = await fetch(`${t.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ email: 'alice@patients.demo', password: DEMO_PASSWORD }),
    });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    // The apps' policy: see tests/src/apps, where every page runs under it with no violation.
    const page = await fetch(`${t.url}/health`);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self';");
    expect(policy).not.toContain('unsafe-');
    expect(policy).toContain("connect-src 'self' ws://127.0.0.1:4443;");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(page.headers.get('permissions-policy')).toContain('camera=(self), microphone=(self), display-capture=(self)');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await startTestApp('pglite', { corsOrigins: ['https://clinic.example'] });
    try {
      const preflight = await fetch(`${allowed.url}/api/calls`, {
        method: 'OPTIONS',
        headers: { origin: 'https://clinic.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://clinic.example');
      expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    } finally {
      await allowed.close();
    }
  });
});
