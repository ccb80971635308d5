import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AdminUser, Session } from '@telemed/sdk';
import { EventsClient } from '../testing/events-client.js';
import { accountLink, startSmtp, type TestSmtp } from '../testing/smtp-server.js';
import { DATABASES, client, login, startTestApp, type TestApp } from '../testing/test-app.js';
import { waitFor } from '@telemed/test-kit';

interface Created {
  user: AdminUser;
  invitation: { purpose: string; expiresAt: string; mailed: boolean; url?: string };
}
interface AuditRow {
  id: number;
  at: string;
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string;
  entityIds: string[] | null;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const PASSWORD = 'a-long-enough-password';
const sockets: EventsClient[] = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});

describe.each(DATABASES)('accounts, care teams and the audit log on %s', (database) => {
  let t: TestApp;
  let smtp: TestSmtp;
  let admin: Session;
  const asAdmin = () => client(t.url, admin.accessToken);
  const signIn = (email: string, password = PASSWORD) => client(t.url).post<Session>('/api/auth/login', { email, password });

  /** Creates an account as the admin and sets its password through the mailed link. */
  async function invite(role: 'patient' | 'doctor' | 'admin', name: string): Promise<{ user: AdminUser; session: Session }> {
    const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${crypto.randomUUID().slice(0, 8)}@clinic.test`;
    const start = smtp.mails.length;
    const created = await asAdmin().post<Created>('/api/admin/users', { email, displayName: name, role });
    expect(created.status).toBe(201);
    const mail = await waitFor(`the invitation to ${email}`, () => smtp.mails.slice(start).find((m) => m.to.includes(email)), { timeoutMs: 30_000 });
    expect((await client(t.url).post('/api/invitations/accept', { token: accountLink(mail).token, password: PASSWORD })).status).toBe(204);
    const session = await signIn(email);
    expect(session.status).toBe(200);
    return { user: created.body.user, session: session.body };
  }

  beforeAll(async () => {
    smtp = await startSmtp();
    // Many sign-ins from one address: the login limits are tested in auth.test.ts.
    t = await startTestApp(database, {
      smtpHost: '127.0.0.1',
      smtpPort: smtp.port,
      appBaseUrl: 'https://clinic.example',
      loginAddressRateLimit: 1000,
      loginRateLimit: 100,
    });
    admin = await login(t.url, 'admin');
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((resolve) => smtp?.server.close(() => resolve()));
  });

  it('invites a doctor by e-mail: the one-time link sets the password once; the token is stored hashed', async () => {
    const start = smtp.mails.length;
    const created = await asAdmin().post<Created>('/api/admin/users', { email: 'New.Doctor@Clinic.test', displayName: 'Nora New', role: 'doctor' });
    expect(created).toMatchObject({
      status: 201,
      body: { user: { email: 'new.doctor@clinic.test', role: 'doctor', status: 'invited', disabledAt: null }, invitation: { purpose: 'invite', mailed: true } },
    });
    expect(created.body.invitation.url).toBeUndefined();
    const mail = await waitFor('the invitation mail', () => smtp.mails.slice(start).find((m) => m.to.includes('new.doctor@clinic.test')), {
      timeoutMs: 30_000,
    });
    expect(mail.raw).toContain('Subject: Telemed: your account is ready');
    const { url, token } = accountLink(mail);
    expect(url.startsWith('https://clinic.example/#/set-password?token=')).toBe(true);
    const stored = await t.app.db.selectFrom('account_invitations').select(['token_hash', 'purpose']).where('user_id', '=', created.body.user.id).execute();
    expect(stored).toEqual([{ token_hash: expect.any(String), purpose: 'invite' }]);
    expect(stored[0]!.token_hash).not.toBe(token);

    // No password works before the link is used; the same e-mail cannot be invited twice.
    expect((await signIn('new.doctor@clinic.test')).status).toBe(401);
    expect((await asAdmin().post('/api/admin/users', { email: 'new.doctor@clinic.test', displayName: 'Twin', role: 'patient' })).status).toBe(409);

    expect(await client(t.url).post('/api/invitations/lookup', { token })).toMatchObject({
      status: 200,
      body: { email: 'new.doctor@clinic.test', displayName: 'Nora New', purpose: 'invite' },
    });
    const short = await client(t.url).post('/api/invitations/accept', { token, password: 'short' });
    expect(short).toMatchObject({ status: 422, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect((await client(t.url).post('/api/invitations/accept', { token, password: PASSWORD })).status).toBe(204);
    const session = await signIn('new.doctor@clinic.test');
    expect(session).toMatchObject({ status: 200, body: { user: { role: 'doctor', displayName: 'Nora New' } } });
    // Used once: the link is spent.
    expect((await client(t.url).post('/api/invitations/accept', { token, password: 'another-long-password' })).status).toBe(404);
    expect((await client(t.url).post('/api/invitations/lookup', { token })).status).toBe(404);
    expect((await asAdmin().get<AdminUser>(`/api/admin/users/${created.body.user.id}`)).body.status).toBe('active');
  });

  it('an expired link does not work, and a new one replaces the old', async () => {
    const created = await asAdmin().post<Created>('/api/admin/users', {
      email: `late.${crypto.randomUUID().slice(0, 6)}@clinic.test`,
      displayName: 'Late Larry',
      role: 'patient',
    });
    const id = created.body.user.id;
    const start = smtp.mails.length;
    const again = await asAdmin().post<Created['invitation']>(`/api/admin/users/${id}/reset-password`);
    expect(again).toMatchObject({ status: 200, body: { purpose: 'invite', mailed: true } });
    const mails = await waitFor(
      'the second invitation',
      () => {
        const m = smtp.mails.slice(start).filter((x) => x.to.includes(created.body.user.email));
        return m.length > 0 ? m : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const { token } = accountLink(mails[0]!);
    expect(await t.app.db.selectFrom('account_invitations').select('id').where('user_id', '=', id).execute()).toHaveLength(1);
    await t.app.db
      .updateTable('account_invitations')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', id)
      .execute();
    expect(await client(t.url).post('/api/invitations/accept', { token, password: PASSWORD })).toMatchObject({
      status: 404,
      body: { error: { message: expect.stringContaining('not valid any more') } },
    });
  });

  it('disabling ends every session at once (API, refresh, /events socket); enabling lets the person sign in again', async () => {
    const { user, session } = await invite('patient', 'Dana Disabled');
    const second = (await signIn(user.email)).body;
    const socket = new EventsClient(t.url, second.accessToken);
    sockets.push(socket);
    await socket.ready();
    const disabled = await asAdmin().post<AdminUser>(`/api/admin/users/${user.id}/disable`);
    expect(disabled).toMatchObject({ status: 200, body: { status: 'disabled', disabledAt: expect.any(String) } });
    expect(await socket.closed).toEqual({ code: 4003, reason: 'session ended' });
    expect((await client(t.url, session.accessToken).get('/api/users/me')).status).toBe(401);
    expect((await client(t.url).post('/api/auth/refresh', { refreshToken: second.refreshToken })).status).toBe(401);
    expect((await signIn(user.email)).status).toBe(401);
    // No link can be issued or used for a disabled account.
    expect((await asAdmin().post(`/api/admin/users/${user.id}/reset-password`)).status).toBe(409);

    expect(await asAdmin().post<AdminUser>(`/api/admin/users/${user.id}/enable`)).toMatchObject({ status: 200, body: { status: 'active', disabledAt: null } });
    expect((await signIn(user.email)).status).toBe(200);
    // An admin cannot lock themself out.
    expect(await asAdmin().post(`/api/admin/users/${admin.user.id}/disable`)).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
  });

  it('a password reset keeps the old password until the link is used, then ends the old sessions', async () => {
    const { user, session } = await invite('doctor', 'Rita Reset');
    const start = smtp.mails.length;
    expect(await asAdmin().post(`/api/admin/users/${user.id}/reset-password`)).toMatchObject({ status: 200, body: { purpose: 'reset', mailed: true } });
    const mail = await waitFor('the reset mail', () => smtp.mails.slice(start).find((m) => m.to.includes(user.email)), { timeoutMs: 30_000 });
    expect(mail.raw).toContain('Subject: Telemed: set a new password');
    expect((await client(t.url, session.accessToken).get('/api/users/me')).status).toBe(200);
    expect((await signIn(user.email)).status).toBe(200);
    expect((await client(t.url).post('/api/invitations/accept', { token: accountLink(mail).token, password: 'the-new-password-1' })).status).toBe(204);
    expect((await client(t.url, session.accessToken).get('/api/users/me')).status).toBe(401);
    expect((await signIn(user.email)).status).toBe(401);
    expect((await signIn(user.email, 'the-new-password-1')).status).toBe(200);
  });

  it('edits names and roles; a role change ends the sessions, and is refused while care links remain', async () => {
    const { user, session } = await invite('patient', 'Rolf Role');
    expect(await asAdmin().patch<AdminUser>(`/api/admin/users/${user.id}`, { displayName: '  Rolf Renamed ' })).toMatchObject({
      status: 200,
      body: { displayName: 'Rolf Renamed', role: 'patient' },
    });
    expect((await client(t.url, session.accessToken).get('/api/users/me')).status).toBe(200); // a rename leaves sessions alone
    expect(await asAdmin().patch<AdminUser>(`/api/admin/users/${user.id}`, { role: 'doctor' })).toMatchObject({ status: 200, body: { role: 'doctor' } });
    expect((await client(t.url, session.accessToken).get('/api/users/me')).status).toBe(401);
    expect((await signIn(user.email)).body.user.role).toBe('doctor');

    const patient = (await invite('patient', 'Linked Lisa')).user;
    expect((await asAdmin().post('/api/admin/care-relationships', { doctorId: user.id, patientId: patient.id })).status).toBe(204);
    expect(await asAdmin().patch(`/api/admin/users/${user.id}`, { role: 'patient' })).toMatchObject({
      status: 409,
      body: { error: { message: expect.stringContaining('care relationships') } },
    });
    expect(await asAdmin().patch(`/api/admin/users/${admin.user.id}`, { role: 'doctor' })).toMatchObject({ status: 409 });
    expect((await asAdmin().patch(`/api/admin/users/${user.id}`, { role: 'nurse' })).status).toBe(422);
    expect((await asAdmin().patch(`/api/admin/users/00000000-0000-4000-8000-000000000000`, { displayName: 'x' })).status).toBe(404);
  });

  it('care relationships and care teams decide who sees, calls and messages whom', async () => {
    const doctor = await invite('doctor', 'Tess Team');
    const colleague = await invite('doctor', 'Carl Colleague');
    const patient = await invite('patient', 'Pat Team');
    const contactsOf = async (s: Session) =>
      (await client(t.url, s.accessToken).get<{ items: Array<{ id: string }> }>('/api/users/contacts')).body.items.map((u) => u.id);
    const callAs = (s: Session, inviteeId: string) => client(t.url, s.accessToken).post('/api/calls', { type: 'voice', inviteeIds: [inviteeId] });
    expect(await contactsOf(patient.session)).toEqual([]);
    expect(await contactsOf(doctor.session)).not.toContain(patient.user.id);
    expect((await callAs(patient.session, doctor.user.id)).status).toBe(403);

    // A direct relationship.
    expect((await asAdmin().post('/api/admin/care-relationships', { doctorId: doctor.user.id, patientId: patient.user.id })).status).toBe(204);
    expect(await contactsOf(patient.session)).toEqual([doctor.user.id]);
    const listed = await asAdmin().get<{ items: Array<{ doctorName: string; patientName: string }> }>(
      `/api/admin/care-relationships?userId=${patient.user.id}`,
    );
    expect(listed.body.items).toEqual([expect.objectContaining({ doctorName: 'Tess Team', patientName: 'Pat Team' })]);
    expect((await asAdmin().post('/api/admin/care-relationships', { doctorId: patient.user.id, patientId: doctor.user.id })).status).toBe(422);
    expect((await asAdmin().delete(`/api/admin/care-relationships/${doctor.user.id}/${patient.user.id}`)).status).toBe(204);
    expect(await contactsOf(patient.session)).toEqual([]);

    // A team: each doctor of it sees each patient of it.
    const team = await asAdmin().post<{ id: string; name: string }>('/api/admin/care-teams', { name: `Cardiology ${crypto.randomUUID().slice(0, 4)}` });
    expect(team.status).toBe(201);
    expect((await asAdmin().post('/api/admin/care-teams', { name: team.body.name.toUpperCase() })).status).toBe(409);
    for (const member of [doctor, colleague, patient])
      expect((await asAdmin().put(`/api/admin/care-teams/${team.body.id}/members/${member.user.id}`)).status).toBe(200);
    expect((await asAdmin().put(`/api/admin/care-teams/${team.body.id}/members/${admin.user.id}`)).status).toBe(422);
    const teams = await asAdmin().get<{ items: Array<{ id: string; doctors: Array<{ displayName: string }>; patients: Array<{ displayName: string }> }> }>(
      '/api/admin/care-teams',
    );
    const mine = teams.body.items.find((x) => x.id === team.body.id)!;
    expect(mine.doctors.map((d) => d.displayName)).toEqual(['Carl Colleague', 'Tess Team']);
    expect(mine.patients.map((p) => p.displayName)).toEqual(['Pat Team']);
    expect((await contactsOf(patient.session)).sort()).toEqual([doctor.user.id, colleague.user.id].sort());
    expect(await contactsOf(colleague.session)).toContain(patient.user.id);
    expect((await callAs(patient.session, colleague.user.id)).status).toBe(201);
    expect((await client(t.url, colleague.session.accessToken).post('/api/conversations', { kind: 'direct', memberIds: [patient.user.id] })).status).toBe(201);
    // The seeded relationships still hold, and a team patient is not another doctor's.
    const alice = await login(t.url, 'alice');
    expect((await contactsOf(alice)).length).toBe(1);
    expect(await contactsOf(alice)).not.toContain(doctor.user.id);

    expect((await asAdmin().delete(`/api/admin/care-teams/${team.body.id}/members/${colleague.user.id}`)).status).toBe(204);
    expect(await contactsOf(patient.session)).toEqual([doctor.user.id]);
    expect((await callAs(patient.session, colleague.user.id)).status).toBe(403);
    // A disabled doctor is nobody's contact.
    await asAdmin().post(`/api/admin/users/${doctor.user.id}/disable`);
    expect(await contactsOf(patient.session)).toEqual([]);
    await asAdmin().post(`/api/admin/users/${doctor.user.id}/enable`);
    expect((await asAdmin().delete(`/api/admin/care-teams/${team.body.id}`)).status).toBe(204);
    expect(await contactsOf(patient.session)).toEqual([]);
  });

  it('audits failed logins, token reuse, account changes and denials, and searches them by record, actor and date', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const { user, session } = await invite('patient', 'Audrey Audit');
    expect((await signIn(user.email, 'wrong-password-123')).status).toBe(401);
    expect((await signIn('nobody.at.all@clinic.test', 'wrong-password-123')).status).toBe(401);
    expect((await client(t.url).post('/api/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(200);
    await t.app.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: new Date(Date.now() - 60_000) })
      .where('user_id', '=', user.id)
      .where('replaced_by', 'is not', null)
      .execute();
    expect((await client(t.url).post('/api/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(401);
    const fresh = (await signIn(user.email)).body;
    expect((await client(t.url, fresh.accessToken).get('/api/admin/users')).status).toBe(403);
    expect((await client(t.url, fresh.accessToken).post('/api/calls', { type: 'voice', inviteeIds: [admin.user.id] })).status).toBe(403);
    await asAdmin().patch(`/api/admin/users/${user.id}`, { displayName: 'Audrey Audited' });

    // Who touched this account?
    const byRecord = await asAdmin().get<Page<AuditRow>>(`/api/admin/audit?entityId=${user.id}&limit=200`);
    expect(byRecord.status).toBe(200);
    const actions = byRecord.body.items.map((r) => `${r.action}:${r.actorId === admin.user.id ? 'admin' : r.actorId === user.id ? 'self' : r.actorId}`);
    expect(actions).toEqual(expect.arrayContaining(['create:admin', 'invite:admin', 'password_set:self', 'login_failed:self', 'update:admin']));
    // What did this user do?
    const byActor = await asAdmin().get<Page<AuditRow>>(`/api/admin/audit?actorId=${user.id}&limit=200`);
    const mine = byActor.body.items.map((r) => `${r.action} ${r.entityType} ${r.entityId}`);
    expect(mine).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^token_reuse session [0-9a-f-]{36}$/),
        'denied route GET /api/admin/users',
        'denied route POST /api/calls',
        `login session ${user.id}`,
      ]),
    );
    expect(byActor.body.items.every((r) => r.actorId === user.id)).toBe(true);
    const unknown = await asAdmin().get<Page<AuditRow>>(`/api/admin/audit?action=login_failed&entityId=unknown&from=${encodeURIComponent(since)}`);
    expect(unknown.body.items.length).toBeGreaterThanOrEqual(1);
    expect(unknown.body.items[0]).toMatchObject({ actorId: null, entityType: 'user' });

    // By date, page by page: newest first, no row twice, none outside the range.
    const to = new Date(Date.now() + 1000).toISOString();
    const seen: AuditRow[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: Page<AuditRow> } = await asAdmin().get(
        `/api/admin/audit?from=${encodeURIComponent(since)}&to=${encodeURIComponent(to)}&limit=5${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.length).toBeGreaterThan(10);
    expect(new Set(seen.map((r) => r.id)).size).toBe(seen.length);
    expect(seen.map((r) => r.id)).toEqual([...seen.map((r) => r.id)].sort((a, b) => b - a));
    expect(seen.every((r) => r.at >= since && r.at < to)).toBe(true);
    const before = await asAdmin().get<Page<AuditRow>>(`/api/admin/audit?actorId=${user.id}&to=${encodeURIComponent(since)}`);
    expect(before.body.items).toEqual([]);
    expect((await asAdmin().get('/api/admin/audit?from=yesterday')).status).toBe(422);
    expect((await client(t.url, fresh.accessToken).get('/api/admin/audit')).status).toBe(403);
  });
});

describe('account links without SMTP', () => {
  it('hands the link to the admin when it cannot be mailed', async () => {
    const quiet = await startTestApp('pglite');
    try {
      const a = await login(quiet.url, 'admin');
      const created = await client(quiet.url, a.accessToken).post<Created>('/api/admin/users', {
        email: 'nomail@clinic.test',
        displayName: 'No Mail',
        role: 'patient',
      });
      expect(created.body.invitation).toMatchObject({ mailed: false, url: expect.stringMatching(/#\/set-password\?token=[\w-]{40,}$/) });
      const token = new URL(created.body.invitation.url!.replace('#/set-password', 'set-password')).searchParams.get('token')!;
      expect((await client(quiet.url).post('/api/invitations/accept', { token, password: PASSWORD })).status).toBe(204);
      expect((await client(quiet.url).post('/api/auth/login', { email: 'nomail@clinic.test', password: PASSWORD })).status).toBe(200);
    } finally {
      await quiet.close();
    }
  });
});

describe('password hashes follow the configured scrypt cost', () => {
  it('upgrades a hash made with other parameters at the next login, and leaves a current one alone', async () => {
    // The demo seed hashes with the default cost (N=2^15); this instance wants N=2^14.
    const t = await startTestApp('pglite', { passwordScryptN: 2 ** 14 });
    try {
      const hashOf = async () =>
        (await t.app.db.selectFrom('users').select('password_hash').where('email', '=', 'alice@patients.demo').executeTakeFirstOrThrow()).password_hash;
      expect(await hashOf()).toMatch(/^scrypt\$32768\$8\$1\$/);
      await login(t.url, 'alice');
      const upgraded = await hashOf();
      expect(upgraded).toMatch(/^scrypt\$16384\$8\$1\$/);
      await login(t.url, 'alice');
      expect(await hashOf()).toBe(upgraded);
      expect((await client(t.url).post('/api/auth/login', { email: 'alice@patients.demo', password: 'not-her-password' })).status).toBe(401);
      expect(await hashOf()).toBe(upgraded);
    } finally {
      await t.close();
    }
  });
});
