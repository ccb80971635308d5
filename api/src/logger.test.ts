import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, Page, Session } from '@telemed/sdk';
import { App } from './app.js';
import { DEMO_PASSWORD } from './db/seed.js';
import { createLogger } from './logger.js';
import { EventsClient } from './testing/events-client.js';
import { TEST_SECRETS, client, login, pgliteTemplate } from './testing/test-app.js';
import { waitFor } from '@telemed/test-kit';

describe('logs', () => {
  const lines: string[] = [];
  let app: App;
  let url: string;

  beforeAll(async () => {
    const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
    app = new App(
      {
        ...TEST_SECRETS,
        port: 0,
        mode: 'test',
        mediaInternalUrl: 'http://127.0.0.1:9',
        databaseDir: 'memory://',
        seedDemo: true,
        pgliteTemplate: await pgliteTemplate(),
      },
      logger,
    );
    await app.start();
    url = `http://127.0.0.1:${app.port}`;
  });
  afterAll(async () => app?.stop());

  it('carry a request id per request and never passwords, tokens or message bodies', async () => {
    const session: Session = await login(url, 'alice');
    const body = `chest pain since ${randomUUID()}`;
    const conversation = (await client(url, session.accessToken).get<Page<Conversation>>('/api/conversations')).body.items[0]!;
    expect((await client(url, session.accessToken).post(`/api/conversations/${conversation.id}/messages`, { clientId: randomUUID(), body })).status).toBe(201);
    const refreshed = await client(url).post<Session>('/api/auth/refresh', { refreshToken: session.refreshToken });
    expect(refreshed.status).toBe(200);
    const events = new EventsClient(url, refreshed.body.accessToken); // the token travels in the query string
    await events.ready();
    await events.close();
    await client(url).post('/api/auth/logout', { refreshToken: refreshed.body.refreshToken });
    await waitFor('the logout request logged', () => lines.some((l) => l.includes('"path":"/api/auth/logout"')) || undefined, { timeoutMs: 5000 });

    const requests = lines.map((l) => JSON.parse(l) as { msg: string; requestId?: string; path?: string }).filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(5);
    for (const r of requests) expect(r.requestId, r.path).toMatch(/^[0-9a-f-]{36}$/);
    const all = lines.join('\n');
    for (const secret of [
      DEMO_PASSWORD,
      session.accessToken,
      session.refreshToken,
      refreshed.body.accessToken,
      refreshed.body.refreshToken,
      body,
      TEST_SECRETS.encryptionKey.slice(3),
    ]) {
      expect(all.includes(secret), `a log line holds ${secret.slice(0, 12)}…`).toBe(false);
    }
  });

  it('carry the request id on every line logged while serving a request, errors included', async () => {
    const session: Session = await login(url, 'alice');
    await sql`alter table presence rename to presence_moved`.execute(app.db); // presence queries now fail in the database
    try {
      const res = await fetch(`${url}/api/presence`, { headers: { authorization: `Bearer ${session.accessToken}`, 'x-request-id': 'support-ticket-4711' } });
      expect(res.status).toBe(500);
      expect(res.headers.get('x-request-id')).toBe('support-ticket-4711');
    } finally {
      await sql`alter table presence_moved rename to presence`.execute(app.db);
    }
    const records = lines.map((l) => JSON.parse(l) as { level: number; msg: string; requestId?: string });
    const failed = records.filter((r) => r.requestId === 'support-ticket-4711');
    expect(failed.map((r) => r.msg)).toEqual(expect.arrayContaining(['query failed', 'unhandled error', 'request']));
    // Every error line of this run came from serving a request, and says which.
    const errors = records.filter((r) => r.level >= 50);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    for (const r of errors) expect(r.requestId, r.msg).toEqual(expect.any(String));
  });
});
