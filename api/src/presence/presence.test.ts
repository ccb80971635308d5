import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Presence, Session } from '@telemed/sdk';
import { EventsClient } from '../testing/events-client.js';
import { client, createPostgresDatabase, login, startTestApp, type TestApp } from '../testing/test-app.js';
import { waitFor } from '@telemed/test-kit';

describe('presence when an API instance crashes (two instances, real redis-server and PostgreSQL)', () => {
  const TTL_SECONDS = 1;
  let a: TestApp;
  let b: TestApp;
  let alice: Session;
  let doctor: Session;
  const sockets: EventsClient[] = [];
  let aCrashed = false;

  beforeAll(async () => {
    const databaseUrl = await createPostgresDatabase();
    const shared = { databaseUrl, redisUrl: inject('redisUrl'), redisKeyPrefix: `test-${randomUUID()}`, presenceTtlSeconds: TTL_SECONDS };
    a = await startTestApp('postgres', shared);
    b = await startTestApp('postgres', shared);
    alice = await login(a.url, 'alice');
    doctor = await login(b.url, 'drgrey');
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    if (!aCrashed) await a?.close();
    await b?.close();
  });

  const aliceSeenByDoctor = async (): Promise<Presence> =>
    (await client(b.url, doctor.accessToken).get<{ items: Presence[] }>(`/api/presence?userIds=${alice.user.id}`)).body.items[0]!;
  const connections = async (): Promise<number> =>
    (await b.app.db.selectFrom('presence').select('connections').where('user_id', '=', alice.user.id).executeTakeFirstOrThrow()).connections;

  it('a crashed instance stops keeping its users online after the heartbeat TTL; connections elsewhere still count', async () => {
    const watcher = new EventsClient(b.url, doctor.accessToken);
    const onA = new EventsClient(a.url, alice.accessToken);
    const onB = new EventsClient(b.url, alice.accessToken);
    sockets.push(watcher, onA, onB);
    await Promise.all([watcher.ready(), onA.ready(), onB.ready()]);
    await waitFor('two connections counted', async () => (await connections()) === 2 || undefined, { timeoutMs: 5000 });
    expect((await aliceSeenByDoctor()).status).toBe('online');

    // A dies without any clean-up: its sockets drop, its heartbeat and Redis connection just stop.
    const crashedAt = Date.now();
    await a.app.abort();
    aCrashed = true;
    // B's own heartbeat timer reaps A once A's heartbeat is older than the TTL: only B's socket remains.
    await waitFor('the crashed instance reaped', async () => (await connections()) === 1 || undefined, { timeoutMs: 10_000 });
    console.log(`[presence] crashed instance reaped ${Date.now() - crashedAt} ms after the crash (PRESENCE_TTL ${TTL_SECONDS} s)`);
    expect((await aliceSeenByDoctor()).status).toBe('online');

    // Her last real connection goes: offline, and her contacts hear it.
    await onB.close();
    await watcher.waitForEvent('presence.updated', (e) => e.payload.userId === alice.user.id && e.payload.status === 'offline');
    expect(await aliceSeenByDoctor()).toMatchObject({ status: 'offline', lastSeenAt: expect.any(String) });
    expect(await connections()).toBe(0);
  });

  it('a user whose only connection was on the crashed instance goes offline after the TTL', async () => {
    const carol = await login(b.url, 'carol');
    const c = await startTestApp('postgres', {
      databaseUrl: b.app.config.databaseUrl,
      redisUrl: inject('redisUrl'),
      redisKeyPrefix: b.app.config.redisKeyPrefix,
      presenceTtlSeconds: TTL_SECONDS,
    });
    const onC = new EventsClient(c.url, carol.accessToken);
    sockets.push(onC);
    await onC.ready();
    const status = async () =>
      (await client(b.url, carol.accessToken).get<{ items: Presence[] }>(`/api/presence?userIds=${carol.user.id}`)).body.items[0]!.status;
    await waitFor('carol online', async () => (await status()) === 'online' || undefined, { timeoutMs: 5000 });
    await c.app.abort();
    await waitFor('carol offline after the TTL', async () => (await status()) === 'offline' || undefined, { timeoutMs: 10_000 });
  });
});

describe('presence under concurrent changes (real PostgreSQL)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('postgres');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a socket closing while another opens leaves the user online, and her contacts hear the changes in order', async () => {
    const alice = await login(t.url, 'alice');
    const doctor = await login(t.url, 'drgrey');
    const watcher = new EventsClient(t.url, doctor.accessToken);
    await watcher.ready();
    const presence = t.app.presence;
    const userId = alice.user.id;
    const stored = async () => t.app.db.selectFrom('presence').select(['connections', 'status']).where('user_id', '=', userId).executeTakeFirstOrThrow();
    await presence.connected(userId);
    // A reconnect as the server sees it: the old socket's close and the new one's open, at once.
    for (let round = 0; round < 40; round++) {
      await Promise.all([presence.disconnected(userId), presence.connected(userId)]);
      expect(await stored(), `round ${round}`).toEqual({ connections: 1, status: 'online' });
    }
    await presence.disconnected(userId);
    expect(await stored()).toEqual({ connections: 0, status: 'offline' });
    const heard = async () => watcher.events.flatMap((e) => (e.type === 'presence.updated' && e.payload.userId === userId ? [e.payload.status] : []));
    await waitFor('the last change heard', async () => ((await heard()).at(-1) === 'offline' && (await heard()).length % 2 === 0) || undefined, {
      timeoutMs: 5000,
    });
    // online, then pairs of offline/online from the rounds, then offline: never the same twice in a row.
    const statuses = await heard();
    expect(statuses.filter((s, i) => s === statuses[i - 1])).toEqual([]);
    await watcher.close();
  });
});
