import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Call, Conversation, Page, Presence, Session } from '@telemed/sdk';
import { EventsClient } from '../testing/events-client.js';
import { DATABASES, TEST_SECRETS, client, createPostgresDatabase, login, startTestApp, type DemoUser, type TestApp } from '../testing/test-app.js';
import { inject } from 'vitest';
import { sql } from 'kysely';
import { waitFor } from '@telemed/test-kit';
import { Encryptor } from '../crypto/encryption.js';
import { createLogger } from '../logger.js';
import { InProcessBus, RedisBus } from './event-bus.js';
import { findUserEventsAfter, insertUserEvents, latestUserEventId } from './event.repository.js';
import { EventService } from './event.service.js';

const sockets: EventsClient[] = [];
const connect = (url: string, token: string, after?: number): EventsClient => {
  const c = new EventsClient(url, token, after);
  sockets.push(c);
  return c;
};
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});

describe.each(DATABASES)('realtime events on %s', (database) => {
  let t: TestApp;
  const s = {} as Record<DemoUser, Session>;
  const as = (who: DemoUser) => client(t.url, s[who].accessToken);

  beforeAll(async () => {
    t = await startTestApp(database);
    for (const who of ['alice', 'drgrey'] as const) s[who] = await login(t.url, who);
  });
  afterAll(async () => t?.close());

  it('refuses a connection without a valid access token', async () => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${t.url.replace('http', 'ws')}/events?access_token=nope`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(status).toBe(401);
  });

  it('pushes ringing, new messages and presence to every connection of a user', async () => {
    const doctorA = connect(t.url, s.drgrey.accessToken);
    const doctorB = connect(t.url, s.drgrey.accessToken);
    await Promise.all([doctorA.ready(), doctorB.ready()]);
    const patient = connect(t.url, s.alice.accessToken);
    await patient.ready();
    const online = await doctorA.waitForEvent('presence.updated', (e) => e.payload.userId === s.alice.user.id && e.payload.status === 'online');
    expect(online.payload.lastSeenAt).toEqual(expect.any(String));

    const call = (await as('alice').post<Call>('/api/calls', { type: 'video', inviteeIds: [s.drgrey.user.id] })).body;
    for (const c of [doctorA, doctorB]) expect((await c.waitForEvent('call.ringing')).payload.call.id).toBe(call.id);
    await as('drgrey').post(`/api/calls/${call.id}/accept`);
    await patient.waitForEvent('call.accepted', (e) => e.payload.call.id === call.id);
    await doctorA.waitForEvent('presence.updated', (e) => e.payload.userId === s.alice.user.id && e.payload.status === 'in_call');
    await as('alice').post(`/api/calls/${call.id}/end`);
    await doctorB.waitForEvent('call.ended', (e) => e.payload.call.id === call.id);

    const conversation = (await as('alice').get<Page<Conversation>>('/api/conversations')).body.items.find((c) =>
      c.members.some((m) => m.userId === s.drgrey.user.id),
    )!;
    await as('alice').post(`/api/conversations/${conversation.id}/messages`, { clientId: crypto.randomUUID(), body: 'are you there?' });
    const created = await doctorB.waitForEvent('message.created', (e) => e.payload.message.body === 'are you there?');
    await as('drgrey').post(`/api/conversations/${conversation.id}/read`, { upToMessageId: created.payload.message.id });
    await patient.waitForEvent('message.read', (e) => e.payload.upToMessageId === created.payload.message.id);

    const admin = await login(t.url, 'admin');
    const seenByAdmin = await client(t.url, admin.accessToken).get<{ items: Presence[] }>(`/api/admin/presence?userIds=${s.alice.user.id},${s.drgrey.user.id}`);
    expect(seenByAdmin.body.items.map((p) => p.status)).toEqual(['online', 'online']);
    const everyoneOnline = await client(t.url, admin.accessToken).get<{ items: Presence[] }>('/api/admin/presence');
    expect(everyoneOnline.body.items.map((p) => p.userId).sort()).toEqual([s.alice.user.id, s.drgrey.user.id].sort());
    await as('alice').put('/api/presence', { status: 'busy' });
    await doctorA.waitForEvent('presence.updated', (e) => e.payload.userId === s.alice.user.id && e.payload.status === 'busy');
    await patient.close();
    await doctorA.waitForEvent('presence.updated', (e) => e.payload.userId === s.alice.user.id && e.payload.status === 'offline');
    const seen = await as('drgrey').get<{ items: Presence[] }>(`/api/presence?userIds=${s.alice.user.id}`);
    expect(seen.body.items[0]).toMatchObject({ status: 'offline', lastSeenAt: expect.any(String) });
  });

  it('catches a reconnecting client up on what it missed, by cursor', async () => {
    const first = connect(t.url, s.drgrey.accessToken);
    await first.ready();
    const conversation = (await as('alice').get<Page<Conversation>>('/api/conversations')).body.items.find((c) =>
      c.members.some((m) => m.userId === s.drgrey.user.id),
    )!;
    await as('alice').post(`/api/conversations/${conversation.id}/messages`, { clientId: crypto.randomUUID(), body: 'before the drop' });
    const last = await first.waitForEvent('message.created', (e) => e.payload.message.body === 'before the drop');
    await first.close();
    const bodies = ['missed 1', 'missed 2', 'missed 3'];
    for (const body of bodies) await as('alice').post(`/api/conversations/${conversation.id}/messages`, { clientId: crypto.randomUUID(), body });
    const again = connect(t.url, s.drgrey.accessToken, last.id);
    const ready = await again.ready();
    const replayed = again.events.filter((e) => e.type === 'message.created').map((e) => (e.type === 'message.created' ? e.payload.message.body : ''));
    expect(replayed).toEqual(bodies);
    expect(ready.truncated).toBe(false);
    expect(ready.cursor).toBeGreaterThan(last.id);
    const ids = again.events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids.every((id) => id > last.id)).toBe(true);
  });
});

describe('an /events socket outliving its access token', () => {
  it('is closed with 4001 when the token expires, so the client reconnects with a fresh one', async () => {
    const t = await startTestApp('pglite', { accessTokenTtlSeconds: 3 });
    try {
      const session = await login(t.url, 'alice');
      const socket = connect(t.url, session.accessToken);
      await socket.ready();
      const code = await new Promise<number>((resolve) => socket.socket.once('close', (c: number) => resolve(c)));
      expect(code).toBe(4001);
    } finally {
      await t.close();
    }
  });
});

describe('realtime fan-out across two API instances sharing Redis and PostgreSQL', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const databaseUrl = await createPostgresDatabase();
    a = await startTestApp('postgres', { databaseUrl, redisUrl: inject('redisUrl') });
    b = await startTestApp('postgres', { databaseUrl, redisUrl: inject('redisUrl') });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('delivers an event produced on one instance to a socket on the other', async () => {
    const doctor = await login(a.url, 'drgrey');
    const patient = await login(b.url, 'alice');
    const onA = connect(a.url, doctor.accessToken);
    const onB = connect(b.url, doctor.accessToken);
    await Promise.all([onA.ready(), onB.ready()]);
    const call = (await client(b.url, patient.accessToken).post<Call>('/api/calls', { type: 'voice', inviteeIds: [doctor.user.id] })).body;
    const [ringA, ringB] = await Promise.all([onA.waitForEvent('call.ringing'), onB.waitForEvent('call.ringing')]);
    expect(ringA.payload.call.id).toBe(call.id);
    expect(ringB.id).toBe(ringA.id);
    expect(onA.events.filter((e) => e.type === 'call.ringing')).toHaveLength(1);
    const accepted = await client(a.url, doctor.accessToken).post<{ call: Call }>(`/api/calls/${call.id}/accept`);
    expect(accepted.status).toBe(200);
    const patientOnB = connect(b.url, patient.accessToken, ringB.id - 1);
    await patientOnB.waitForEvent('call.accepted', (e) => e.payload.call.id === call.id);
  });

  // Two instances store an event for one user in concurrent transactions: A draws the lower id and
  // commits last. A client that resumes in between must still get both, in order.
  it("commits one user's events in id order across instances, so a client resuming by cursor misses none", async () => {
    const user = await login(a.url, 'alice');
    const events = new EventService(a.app.db, new Encryptor(TEST_SECRETS.encryptionKey), new InProcessBus(), createLogger('silent'));
    const row = (n: number) =>
      events.seal([
        { userIds: [user.user.id], type: 'presence.updated', payload: { userId: user.user.id, status: 'online', lastSeenAt: `2026-01-01T00:00:0${n}.000Z` } },
      ]);
    const start = await latestUserEventId(a.app.db, user.user.id);
    let commitA!: () => void;
    const held = new Promise<void>((resolve) => (commitA = resolve));
    let idA: number | undefined;
    const txA = a.app.db.transaction().execute(async (trx) => {
      idA = (await insertUserEvents(trx, row(1)))[0]!.id;
      await held;
    });
    await waitFor('A stored its event', () => idA, { timeoutMs: 10_000 });
    let idB: number | undefined;
    let prevB: number | undefined;
    const storeB = insertUserEvents(b.app.db, row(2)).then(([stored]) => ([idB, prevB] = [stored!.id, stored!.prev]));
    const waiting = sql<{
      n: number;
    }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`;
    await waitFor('B stored, or waiting for A', async () => (idB !== undefined || (await waiting.execute(a.app.db)).rows[0]!.n > 0 ? true : undefined), {
      timeoutMs: 10_000,
    });
    // The client resumes now (as after seeing the newest id live), then again once both committed.
    const first = await findUserEventsAfter(a.app.db, user.user.id, start, 100);
    commitA();
    await Promise.all([txA, storeB]);
    const cursor = first.at(-1)?.id ?? start;
    const second = await findUserEventsAfter(a.app.db, user.user.id, cursor, 100);
    expect(idA).toBeLessThan(idB!);
    expect([...first, ...second].map((e) => e.id)).toEqual([idA, idB]);
    // B read its user's head after A committed: live delivery can tell that A's event comes first.
    expect(prevB).toBe(idA);
  });

  // Instance B publishes its event after instance A published a later one of the same user: the
  // socket gets the earlier one first, from the database, and its cursor never passes a missing id.
  it('sends a live event published late by another instance before the later one it preceded', async () => {
    const user = await login(a.url, 'drgrey');
    const socket = connect(a.url, user.accessToken);
    await socket.ready();
    const bus = await RedisBus.connect(inject('redisUrl'), createLogger('silent'));
    try {
      const events = new EventService(b.app.db, new Encryptor(TEST_SECRETS.encryptionKey), bus, createLogger('silent'));
      const presence = (n: number) => ({
        userIds: [user.user.id],
        type: 'presence.updated' as const,
        payload: { userId: user.user.id, status: 'online' as const, lastSeenAt: `2026-01-01T00:00:0${n}.000Z` },
      });
      const [early] = await events.store(b.app.db, [presence(1)]);
      const [late] = await events.store(b.app.db, [presence(2)]);
      expect(late!.prev).toBe(early!.event.id);
      const gaps = await counter(a, 'telemed_api_events_gaps_filled_total');
      await events.publish([late!]);
      await socket.waitForEvent('presence.updated', (e) => e.id === late!.event.id);
      // The late one itself is not sent again (the next event, published after it, comes right after).
      await events.publish([early!]);
      const next = await events.store(b.app.db, [presence(3)]);
      await events.publish(next);
      await socket.waitForEvent('presence.updated', (e) => e.id === next[0]!.event.id);
      const ids = socket.events.filter((e) => e.type === 'presence.updated' && e.payload.userId === user.user.id).map((e) => e.id);
      expect(ids.slice(-3)).toEqual([early!.event.id, late!.event.id, next[0]!.event.id]);
      expect(await counter(a, 'telemed_api_events_gaps_filled_total')).toBe(gaps + 1);
    } finally {
      await bus.close();
    }
  });
  // A new socket starts after the user's last event already live, not after the last one stored: an
  // event committed just before the socket was registered but published after it is sent (the
  // callee's ring was lost so on a busy machine, and the incoming call never showed).
  it('sends a new socket an event committed before it connected and published after', async () => {
    const bus = await RedisBus.connect(inject('redisUrl'), createLogger('silent'));
    try {
      const events = new EventService(b.app.db, new Encryptor(TEST_SECRETS.encryptionKey), bus, createLogger('silent'));
      const presence = (userId: string, n: number) => ({
        userIds: [userId],
        type: 'presence.updated' as const,
        payload: { userId, status: 'online' as const, lastSeenAt: `2026-01-02T00:00:0${n}.000Z` },
      });
      // A user whose events instance A has seen live: one goes live, then one is stored but not yet published.
      const doctor = await login(a.url, 'drgrey');
      const earlier = connect(a.url, doctor.accessToken);
      await earlier.ready();
      const live = await events.store(b.app.db, [presence(doctor.user.id, 1)]);
      await events.publish(live);
      await earlier.waitForEvent('presence.updated', (e) => e.id === live[0]!.event.id);
      const [inFlight] = await events.store(b.app.db, [presence(doctor.user.id, 2)]);
      const fresh = connect(a.url, doctor.accessToken);
      await fresh.ready();
      await events.publish([inFlight!]);
      await fresh.waitForEvent('presence.updated', (e) => e.id === inFlight!.event.id);
      // What went live before the socket was registered is not its own.
      expect(fresh.events.map((e) => e.id)).toEqual([inFlight!.event.id]);

      // A user none of whose events instance A has seen live (a new instance, say).
      const patient = await login(a.url, 'bob');
      const [first] = await events.store(b.app.db, [presence(patient.user.id, 3)]);
      const socket = connect(a.url, patient.accessToken);
      await socket.ready();
      await events.publish([first!]);
      await socket.waitForEvent('presence.updated', (e) => e.id === first!.event.id);
    } finally {
      await bus.close();
    }
  });
});

async function counter(t: TestApp, name: string): Promise<number> {
  const text = await t.app.metrics.registry.metrics();
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}
