import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, Message, Page, Session } from '@telemed/sdk';
import { findAuditTrail } from '../audit/audit.service.js';
import { insertSent, listMessages, lockConversationMessages, planSend, type NewMessage } from './message.repository.js';
import { DATABASES, client, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';

describe.each(DATABASES)('messaging on %s', (database) => {
  let t: TestApp;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);
  const id = (who: DemoUser) => s[who].user.id;
  let conversation: Conversation;

  beforeAll(async () => {
    t = await startTestApp(database, { messageRateLimit: 60 });
    for (const who of ['alice', 'bob', 'drgrey', 'drhouse'] as const) s[who] = await login(t.url, who);
    const res = await as('drhouse').post<Conversation>('/api/conversations', { kind: 'group', memberIds: [id('bob'), id('drgrey')], title: 'Bob: follow-up' });
    expect(res.status).toBe(201);
    conversation = res.body;
  });
  afterAll(async () => t?.close());

  const send = (who: DemoUser, body: string, clientId: string = crypto.randomUUID()) =>
    as(who).post<Message>(`/api/conversations/${conversation.id}/messages`, { clientId, body });

  it('stores one message per client id: a retried send returns the same message', async () => {
    const clientId = crypto.randomUUID();
    const eventsBefore = Number(
      (
        await t.app.db
          .selectFrom('user_events')
          .select((eb) => eb.fn.max('id').as('id'))
          .executeTakeFirst()
      )?.id ?? 0,
    );
    const first = await send('bob', 'Blood pressure 120/80 this morning', clientId);
    const retry = await send('bob', 'Blood pressure 120/80 this morning', clientId);
    expect(first.status).toBe(201);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    const parallel = await Promise.all([1, 2, 3].map(() => send('bob', 'same again', clientId)));
    expect(new Set(parallel.map((r) => r.body.id))).toEqual(new Set([first.body.id]));
    const stored = await t.app.db.selectFrom('messages').select('id').where('client_id', '=', clientId).execute();
    expect(stored).toHaveLength(1);
    // One set of events (one per member, stored in the send's transaction) and one 'create' audit row.
    const events = await t.app.db.selectFrom('user_events').select(['user_id', 'type']).where('id', '>', eventsBefore).execute();
    expect(events.map((e) => e.type)).toEqual(['message.created', 'message.created', 'message.created']);
    expect(new Set(events.map((e) => e.user_id))).toEqual(new Set([id('drhouse'), id('bob'), id('drgrey')]));
    const audited = await t.app.db
      .selectFrom('audit_log')
      .select(['action', 'actor_id'])
      .where('entity_type', '=', 'message')
      .where('entity_id', '=', String(first.body.id))
      .execute();
    expect(audited.filter((a) => a.action === 'create')).toEqual([{ action: 'create', actor_id: id('bob') }]);
    expect(audited.filter((a) => a.action === 'read')).toHaveLength(4);
  });

  it('answers bad input with clear 4xx errors', async () => {
    expect((await send('bob', 'x'.repeat(4001))).status).toBe(422);
    expect((await send('bob', '   ')).status).toBe(422);
    expect((await as('bob').post(`/api/conversations/${conversation.id}/messages`, { body: 'no client id' })).status).toBe(422);
    expect((await as('bob').post(`/api/conversations/${conversation.id}/messages`, { clientId: 'nope', body: 'x' })).status).toBe(422);
    expect((await as('bob').post(`/api/conversations/not-a-uuid/messages`, { clientId: crypto.randomUUID(), body: 'x' })).status).toBe(422);
    const big = await fetch(`${t.url}/api/conversations/${conversation.id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.bob.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: crypto.randomUUID(), body: 'x'.repeat(40_000) }),
    });
    expect(big.status).toBe(413);
  });

  it('pages both ways by cursor', async () => {
    for (let i = 0; i < 7; i++) await send('drgrey', `note ${i}`);
    const all: Message[] = [];
    let before: string | null = null;
    do {
      const res: { body: Page<Message> } = await as('bob').get<Page<Message>>(
        `/api/conversations/${conversation.id}/messages?limit=3${before ? `&before=${before}` : ''}`,
      );
      all.push(...res.body.items);
      before = res.body.nextCursor;
    } while (before);
    const ids = all.map((m) => m.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(all.length).toBe(8);
    // Each page read is one audit row listing its messages.
    const trail = await findAuditTrail(t.app.db, 'message', String(ids[4]));
    expect(trail.filter((r) => r.action === 'read' && r.actor_id === id('bob'))).toEqual([
      expect.objectContaining({ entity_id: '*', entity_ids: ids.slice(3, 6).map(String), ip: expect.any(String), request_id: expect.any(String) }),
    ]);
    const forward = await as('bob').get<Page<Message>>(`/api/conversations/${conversation.id}/messages?after=${ids[5]}&limit=2`);
    expect(forward.body.items.map((m) => m.id)).toEqual([ids[4], ids[3]]);
    expect(forward.body.nextCursor).toBe(String(ids[3]));
    expect((await as('bob').get(`/api/conversations/${conversation.id}/messages?after=1&before=5`)).status).toBe(422);
  });

  it('lists pages for members only: 404 for others, an empty page for a member of an empty conversation', async () => {
    expect((await as('alice').get(`/api/conversations/${conversation.id}/messages`)).status).toBe(404);
    expect((await as('alice').get(`/api/conversations/${conversation.id}/messages?after=0`)).status).toBe(404);
    const empty = await as('drhouse').post<Conversation>('/api/conversations', { kind: 'group', memberIds: [id('bob')], title: 'Nothing yet' });
    const page = await as('bob').get<Page<Message>>(`/api/conversations/${empty.body.id}/messages`);
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ items: [], nextCursor: null });
    expect((await as('drgrey').get(`/api/conversations/${empty.body.id}/messages`)).status).toBe(404);
  });

  it('keeps delivered and read receipts per member, and unread counts', async () => {
    const unread = async (who: DemoUser) => (await as(who).get<Conversation>(`/api/conversations/${conversation.id}`)).body.unreadCount;
    expect(await unread('drhouse')).toBe(8);
    expect(await unread('drgrey')).toBe(0); // sending marks what came before as read
    const list = await as('drhouse').get<Page<Message>>(`/api/conversations/${conversation.id}/messages?limit=50`);
    const newest = list.body.items[0]!;
    const third = list.body.items[5]!;
    expect((await as('drhouse').post(`/api/conversations/${conversation.id}/delivered`, { upToMessageId: newest.id })).status).toBe(204);
    expect((await as('drhouse').post(`/api/conversations/${conversation.id}/read`, { upToMessageId: third.id })).status).toBe(204);
    expect(await unread('drhouse')).toBe(5);
    // never moves back
    await as('drhouse').post(`/api/conversations/${conversation.id}/read`, { upToMessageId: list.body.items[7]!.id });
    expect(await unread('drhouse')).toBe(5);
    const receipts = await as('drgrey').get<{ items: Array<{ userId: string; deliveredAt: string | null; readAt: string | null }> }>(
      `/api/conversations/${conversation.id}/messages/${third.id}/receipts`,
    );
    expect(receipts.body.items).toEqual([{ userId: id('drhouse'), deliveredAt: expect.any(String), readAt: expect.any(String) }]);
    const newestReceipts = await as('drgrey').get<{ items: Array<{ userId: string; readAt: string | null }> }>(
      `/api/conversations/${conversation.id}/messages/${newest.id}/receipts`,
    );
    expect(newestReceipts.body.items).toEqual([{ userId: id('drhouse'), deliveredAt: expect.any(String), readAt: null }]);
    const inList = await as('drhouse').get<Page<Conversation>>('/api/conversations');
    expect(inList.body.items.find((c) => c.id === conversation.id)).toMatchObject({ unreadCount: 5 });
    expect((await as('drhouse').post(`/api/conversations/${conversation.id}/read`, { upToMessageId: 999_999 })).status).toBe(404);

    // Receipt writes and reads are audited: who, which message, from where.
    const audit = await t.app.db
      .selectFrom('audit_log')
      .select(['actor_id', 'action', 'entity_id', 'ip', 'request_id'])
      .where('entity_type', '=', 'message')
      .where('entity_id', 'in', [String(newest.id), String(third.id)])
      .execute();
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actor_id: id('drhouse'), action: 'update', entity_id: String(newest.id) }),
        expect.objectContaining({ actor_id: id('drhouse'), action: 'update', entity_id: String(third.id) }),
        expect.objectContaining({ actor_id: id('drgrey'), action: 'read', entity_id: String(third.id) }),
      ]),
    );
    expect(audit.every((a) => a.ip && a.request_id)).toBe(true);
    const opened = await t.app.db
      .selectFrom('audit_log')
      .select('actor_id')
      .where('entity_type', '=', 'conversation')
      .where('entity_id', '=', conversation.id)
      .where('action', '=', 'read')
      .execute();
    expect(opened.map((a) => a.actor_id)).toContain(id('drhouse'));
  });

  it('encrypts bodies at rest: the database holds no plaintext', async () => {
    const secret = `Diagnosis: rare-condition-${crypto.randomUUID()}`;
    await send('bob', secret);
    const dump = await sql<{ row: string }>`select m::text as row from messages m`.execute(t.app.db);
    expect(dump.rows.length).toBeGreaterThan(0);
    expect(dump.rows.some((r) => r.row.includes('rare-condition'))).toBe(false);
    const events = await sql<{ row: string }>`select e::text as row from user_events e`.execute(t.app.db);
    expect(events.rows.length).toBeGreaterThan(0);
    expect(events.rows.some((r) => r.row.includes('rare-condition'))).toBe(false);
    const row = await t.app.db.selectFrom('messages').select(['key_id', 'body_ciphertext']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(row.key_id).toBe('k1');
    // …and the API still reads it back
    const latest = await as('drgrey').get<Page<Message>>(`/api/conversations/${conversation.id}/messages?limit=1`);
    expect(latest.body.items[0]!.body).toBe(secret);
  });

  it('reads rows written under an older key after the key rotates', async () => {
    const url = t.app.config.databaseUrl;
    if (!url) return; // PGlite in memory lives and dies with its App
    const rotated = await startTestApp(database, {
      databaseUrl: url,
      encryptionKey: `k2:${Buffer.alloc(32, 9).toString('base64')},${t.app.config.encryptionKey}`,
    });
    try {
      const session = await login(rotated.url, 'bob');
      const bob = client(rotated.url, session.accessToken);
      const sent = await bob.post<Message>(`/api/conversations/${conversation.id}/messages`, { clientId: crypto.randomUUID(), body: 'after rotation' });
      const page = await bob.get<Page<Message>>(`/api/conversations/${conversation.id}/messages?limit=100`);
      expect(page.body.items[0]!.body).toBe('after rotation');
      expect(page.body.items.some((m) => m.body === 'note 0')).toBe(true);
      const keys = await rotated.app.db.selectFrom('messages').select('key_id').where('id', '=', sent.body.id).executeTakeFirstOrThrow();
      expect(keys.key_id).toBe('k2');
    } finally {
      await rotated.close();
    }
  });

  it('rate-limits sending per user', async () => {
    const limited = await startTestApp('pglite', { messageRateLimit: 3 });
    try {
      const session = await login(limited.url, 'alice');
      const alice = client(limited.url, session.accessToken);
      const conv = (await alice.get<Page<Conversation>>('/api/conversations')).body.items[0]!;
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await alice.post(`/api/conversations/${conv.id}/messages`, { clientId: crypto.randomUUID(), body: `m${i}` })).status);
      expect(statuses).toEqual([201, 201, 201, 429, 429]);
      const limited429 = await fetch(`${limited.url}/api/conversations/${conv.id}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ clientId: crypto.randomUUID(), body: 'again' }),
      });
      expect(Number(limited429.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await limited429.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    } finally {
      await limited.close();
    }
  });

  it("commits each conversation's ids in increasing order: a send overtaken by a later id draws a new one, so `after` paging skips nothing", async () => {
    const created = await as('drhouse').post<Conversation>('/api/conversations', { kind: 'group', memberIds: [id('bob')], title: 'Overtaken sends' });
    const conv = created.body.id;
    // Two sends planned in one order (ids a < b) and written in the other, as parallel requests can.
    const planA = await planSend(t.app.db, conv, id('bob'), null);
    const planB = await planSend(t.app.db, conv, id('drhouse'), null);
    expect(planA.id).toBeLessThan(planB.id!);
    const row = (plan: typeof planA, senderId: string, clientId: string): NewMessage => ({
      id: plan.id!,
      at: plan.at,
      conversationId: conv,
      senderId,
      clientId,
      ciphertext: 'not read here',
      keyId: 'k1',
      attachmentId: null,
    });
    const entry = (actorId: string) => ({ actorId, action: 'create' as const, entityType: 'message' as const, ip: null, requestId: null, at: new Date() });
    const clientA = crypto.randomUUID();
    expect((await insertSent(t.app.db, row(planB, id('drhouse'), crypto.randomUUID()), entry(id('drhouse')), [])).kind).toBe('stored');
    // A reader pages up to b...
    const seen = await listMessages(t.app.db, conv, { after: 0, limit: 10 });
    expect(seen.map((m) => m.id)).toEqual([planB.id]);
    // ...so a must not commit below it: it would never be listed after b.
    expect((await insertSent(t.app.db, row(planA, id('bob'), clientA), entry(id('bob')), [])).kind).toBe('stale');
    expect(await listMessages(t.app.db, conv, { after: planB.id!, limit: 10 })).toEqual([]);
    // Through the service the send draws a new id above b and is stored once.
    const sent = await as('bob').post<Message>(`/api/conversations/${conv}/messages`, { clientId: clientA, body: 'sent after being overtaken' });
    expect(sent.status).toBe(201);
    expect(sent.body.id).toBeGreaterThan(planB.id!);
    const after = await as('drhouse').get<Page<Message>>(`/api/conversations/${conv}/messages?after=${planB.id}`);
    expect(after.body.items.map((m) => [m.id, m.body])).toEqual([[sent.body.id, 'sent after being overtaken']]);
  });

  // Two connections needed: the lock is held by one transaction while the send waits on another.
  it.skipIf(database === 'pglite')('a send overtaken while it waited for the conversation lock is stored by its retry under the lock', async () => {
    const created = await as('drhouse').post<Conversation>('/api/conversations', { kind: 'group', memberIds: [id('bob')], title: 'Overtaken under load' });
    const conv = created.body.id;
    let sending: Promise<{ status: number; body: Message }> | undefined;
    const overtaking = await t.app.db.transaction().execute(async (trx) => {
      await lockConversationMessages(trx, conv);
      // Bob's send draws its id, then waits for the lock this transaction holds.
      sending = as('bob').post<Message>(`/api/conversations/${conv}/messages`, { clientId: crypto.randomUUID(), body: 'waited' });
      await expect
        .poll(
          async () =>
            (await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`.execute(t.app.db)).rows[0]!.n,
          {
            timeout: 30_000,
          },
        )
        .toBeGreaterThan(0);
      // A later id commits first.
      const plan = await planSend(trx, conv, id('drhouse'), null);
      const entry = { actorId: id('drhouse'), action: 'create' as const, entityType: 'message' as const, ip: null, requestId: null, at: new Date() };
      const row: NewMessage = {
        id: plan.id!,
        at: plan.at,
        conversationId: conv,
        senderId: id('drhouse'),
        clientId: crypto.randomUUID(),
        ciphertext: 'not read here',
        keyId: 'k1',
        attachmentId: null,
      };
      expect((await insertSent(trx, row, entry, [])).kind).toBe('stored');
      return plan.id!;
    });
    const sent = await sending!;
    expect(sent.status).toBe(201);
    expect(sent.body.id).toBeGreaterThan(overtaking);
    const page = await as('bob').get<Page<Message>>(`/api/conversations/${conv}/messages?after=${overtaking}`);
    expect(page.body.items.map((m) => m.id)).toEqual([sent.body.id]);
  });

  it('lists every message to a reader paging with `after` while two members send at once', async () => {
    const created = await as('drgrey').post<Conversation>('/api/conversations', { kind: 'group', memberIds: [id('bob')], title: 'Busy thread' });
    const conv = created.body.id;
    const seen = new Map<number, string>();
    let cursor = 0;
    const readNewer = async (): Promise<void> => {
      const page = await as('bob').get<Page<Message>>(`/api/conversations/${conv}/messages?after=${cursor}&limit=100`);
      for (const m of page.body.items) seen.set(m.id, m.body);
      cursor = page.body.items.at(-1)?.id ?? cursor;
    };
    let sending = true;
    const reader = (async () => {
      while (sending) await readNewer();
    })();
    const sends = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        as(i % 2 ? 'bob' : 'drgrey').post<Message>(`/api/conversations/${conv}/messages`, { clientId: crypto.randomUUID(), body: `busy ${i}` }),
      ),
    );
    sending = false;
    await reader;
    await readNewer();
    expect(sends.map((r) => r.status)).toEqual(sends.map(() => 201));
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(sends.map((r) => r.body.id).sort((a, b) => a - b));
  });
});
