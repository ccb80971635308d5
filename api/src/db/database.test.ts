import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, login, startTestApp, type TestApp } from '../testing/test-app.js';
import { DEMO_USERS } from './seed.js';

describe.each(DATABASES)('database on %s', (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(database);
  });
  afterAll(async () => t?.close());

  it('runs the migrations and seeds the demo users once', async () => {
    expect(t.app.databaseKind).toBe(database);
    const tables = await sql<{
      table_name: string;
    }>`select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(t.app.db);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'users',
        'calls',
        'call_participants',
        'conversations',
        'conversation_members',
        'messages',
        'message_receipts',
        'attachments',
        'presence',
        'call_quality_samples',
        'audit_log',
        'kysely_migration',
      ]),
    );
    const users = await t.app.db.selectFrom('users').select(['email', 'role']).orderBy('email').execute();
    expect(users).toHaveLength(DEMO_USERS.length);
    const conversations = await t.app.db.selectFrom('conversations').select('id').execute();
    expect(conversations.length).toBeGreaterThanOrEqual(3);
    // bigint columns come back as numbers on both drivers
    const message = await t.app.db.selectFrom('messages').select('id').limit(1).executeTakeFirstOrThrow();
    expect(typeof message.id).toBe('number');
  });

  it('lists the demo logins outside production, and they work', async () => {
    const res = await fetch(`${t.url}/api/demo/accounts`);
    const { items } = (await res.json()) as { items: Array<{ email: string; password: string; role: string }> };
    expect(items.map((a) => a.role).sort()).toEqual(['admin', 'doctor', 'doctor', 'patient', 'patient', 'patient']);
    const ok = await fetch(`${t.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: items[0]!.email, password: items[0]!.password }),
    });
    expect(ok.status).toBe(200);
  });

  it('restarting on the same database applies nothing and seeds nothing again', async () => {
    if (database === 'pglite') return; // the in-memory PGlite database ends with its App
    const url = t.app.config.databaseUrl!;
    const again = await startTestApp(database, { databaseUrl: url });
    try {
      const count = await again.app.db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(DEMO_USERS.length);
      const session = await login(again.url, 'alice');
      expect(session.user.role).toBe('patient');
    } finally {
      await again.close();
    }
  });
});

describe('production mode', () => {
  it('never seeds demo users, even when asked to', async () => {
    const t = await startTestApp('postgres', { mode: 'production', seedDemo: true });
    try {
      const users = await t.app.db.selectFrom('users').select('id').execute();
      expect(users).toEqual([]);
      expect((await fetch(`${t.url}/api/dev/room-token`, { method: 'POST' })).status).toBe(404);
      expect((await fetch(`${t.url}/api/demo/accounts`)).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});
