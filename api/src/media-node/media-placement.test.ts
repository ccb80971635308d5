// Placement of calls on media nodes: the selector on its own, then the API against a real
// redis-server into which node records are written in the registry's format (as media nodes
// heartbeat them; the e2e tests in tests/src/scale/ run real nodes): least loaded, sticky, the move
// to another node when the host's record expires, with the call's timeline, the fallback, and the spill of a
// full room onto a second node.
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Call, CallTimelineEntry, RoomAccess, Session } from '@telemed/sdk';
import { mediaNodeKeys, type MediaEventBatch, type MediaNodeInfo } from '@telemed/sdk/protocol';
import { waitFor } from '@telemed/test-kit';
import { postMediaEvents } from '../testing/media-events-post.js';
import { startRedisServer, type RedisServer } from '../testing/redis-server.js';
import { client, login, startTestApp, type TestApp } from '../testing/test-app.js';
import { createLogger } from '../logger.js';
import { MediaPlacement } from './media-placement.js';
import { PENDING_ROOM_CONSUMERS, selectNode } from './node-selector.js';

function node(id: string, load: Partial<MediaNodeInfo['load']> = {}, extra: Partial<MediaNodeInfo> = {}): MediaNodeInfo {
  return {
    id,
    url: `wss://${id}.clinic.example/rtc`,
    internalUrl: `http://${id}.internal:4443`,
    announcedAddress: '192.0.2.1',
    region: 'test',
    capacity: { consumers: 100 },
    draining: false,
    startedAt: 0,
    heartbeatAt: Date.now(),
    seq: 1,
    load: { rooms: 0, peers: 0, consumers: 0, workerCpu: [0, 0], ...load },
    ...extra,
  };
}

describe('selectNode', () => {
  it('picks the least loaded by the larger of consumer share and mean worker CPU', () => {
    expect(selectNode([node('a', { consumers: 50 }), node('b', { consumers: 10 })])?.id).toBe('b');
    // b has fewer consumers but its workers are busy.
    expect(selectNode([node('a', { consumers: 30 }), node('b', { consumers: 10, workerCpu: [0.9, 0.5] })])?.id).toBe('a');
  });

  it('skips draining and full nodes; none left: undefined', () => {
    expect(selectNode([node('a', {}, { draining: true }), node('b', { consumers: 90 })])?.id).toBe('b');
    expect(selectNode([node('a', { consumers: 100 }), node('b', {}, { draining: true })])).toBeUndefined();
  });

  it('counts rooms placed since the last heartbeat, so a burst spreads; ties go to fewer rooms, then the id', () => {
    const nodes = [node('a'), node('b'), node('c', { rooms: 1 })];
    expect(selectNode(nodes)?.id).toBe('a');
    expect(selectNode(nodes, (n) => (n.id === 'a' ? 1 : 0))?.id).toBe('b');
    expect(selectNode([node('a', { consumers: 100 - PENDING_ROOM_CONSUMERS })], () => 1)).toBeUndefined();
  });
});

describe('placement through the API and the Redis registry', () => {
  const prefix = `test-placement-${randomUUID()}`;
  const redis = createClient({ url: inject('redisUrl') });
  let t: TestApp;
  let alice: Session;
  let grey: Session;

  const heartbeat = async (info: MediaNodeInfo, keyPrefix = prefix): Promise<void> => {
    await redis
      .multi()
      .set(mediaNodeKeys.node(keyPrefix, info.id), JSON.stringify(info), { expiration: { type: 'PX', value: 60_000 } })
      .sAdd(mediaNodeKeys.nodes(keyPrefix), info.id)
      .exec();
  };
  const startCall = async (): Promise<{ call: Call; greyAccess: RoomAccess }> => {
    const call = (await client(t.url, alice.accessToken).post<Call>('/api/calls', { type: 'video', inviteeIds: [grey.user.id] })).body;
    const accepted = await client(t.url, grey.accessToken).post<{ access: RoomAccess }>(`/api/calls/${call.id}/accept`);
    expect(accepted.status).toBe(200);
    return { call, greyAccess: accepted.body.access };
  };

  beforeAll(async () => {
    await redis.connect();
    t = await startTestApp('pglite', {
      redisUrl: inject('redisUrl'),
      redisKeyPrefix: prefix,
      mediaPublicUrl: 'ws://127.0.0.1:4443/rtc',
      mediaServiceSecret: 'placement-test-service-secret-0123',
    });
    alice = await login(t.url, 'alice');
    grey = await login(t.url, 'drgrey');
  });
  afterAll(async () => {
    await t?.close();
    await redis.quit();
  });

  it('without registered nodes a call goes to MEDIA_PUBLIC_URL', async () => {
    const { greyAccess } = await startCall();
    expect(greyAccess.url).toBe('ws://127.0.0.1:4443/rtc');
  });

  it('places a call on the least-loaded node, keeps it there for everyone, and moves it when the node is gone', async () => {
    await heartbeat(node('busy', { consumers: 60, rooms: 3 }));
    await heartbeat(node('idle', { consumers: 4, rooms: 1 }));
    await heartbeat(node('leaving', {}, { draining: true }));
    const { call, greyAccess } = await startCall();
    expect(greyAccess.url).toBe('wss://idle.clinic.example/rtc');
    expect(await redis.get(mediaNodeKeys.room(prefix, call.id))).toBe('idle');

    // Sticky: the room stays where it is even when another node became emptier.
    await heartbeat(node('busy', { consumers: 0, rooms: 0 }, { seq: 2 }));
    const aliceAccess = (await client(t.url, alice.accessToken).post<RoomAccess>(`/api/calls/${call.id}/token`)).body;
    expect(aliceAccess.url).toBe('wss://idle.clinic.example/rtc');

    // The host's record expires (no heartbeat within the TTL): the next access moves the room.
    await redis.del(mediaNodeKeys.node(prefix, 'idle'));
    const moved = (await client(t.url, alice.accessToken).post<RoomAccess>(`/api/calls/${call.id}/token`)).body;
    expect(moved.url).toBe('wss://busy.clinic.example/rtc');
    expect(await redis.get(mediaNodeKeys.room(prefix, call.id))).toBe('busy');
    expect((await client(t.url, grey.accessToken).post<RoomAccess>(`/api/calls/${call.id}/token`)).body.url).toBe('wss://busy.clinic.example/rtc');
    expect(await redis.sIsMember(mediaNodeKeys.nodes(prefix), 'idle')).toBe(0);

    const timeline = (await client(t.url, alice.accessToken).get<{ items: CallTimelineEntry[] }>(`/api/calls/${call.id}/timeline`)).body.items;
    const moves = timeline.filter((e) => e.kind === 'moved');
    expect(moves).toHaveLength(1);
    expect(JSON.parse(moves[0]!.detail!)).toEqual({ from: 'idle', to: 'busy', reason: 'node_lost' });
  });

  it('answers 503 when every node is draining or full; admins see the nodes; the pages may connect to every node', async () => {
    await heartbeat(node('busy', { consumers: 100 }, { seq: 3 }));
    const call = (await client(t.url, alice.accessToken).post<Call>('/api/calls', { type: 'video', inviteeIds: [grey.user.id] })).body;
    const refused = await client(t.url, grey.accessToken).post<{ error: { code: string } }>(`/api/calls/${call.id}/accept`);
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('SERVICE_UNAVAILABLE');

    const admin = await login(t.url, 'admin');
    const listed = await client(t.url, admin.accessToken).get<{ items: { id: string; draining: boolean; score: number }[] }>('/api/admin/media-nodes');
    expect(listed.body.items.map((n) => [n.id, n.draining, n.score])).toEqual([
      ['busy', false, 1],
      ['leaving', true, 0],
    ]);
    expect((await client(t.url, alice.accessToken).get('/api/admin/media-nodes')).status).toBe(403);

    const page = await fetch(`${t.url}/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain('wss://busy.clinic.example');
    expect(csp).toContain('ws://127.0.0.1:4443');
  });

  it("a room closed by its node's shutdown does not end the call while another node takes rooms (it moves); with none left it does", async () => {
    await heartbeat(node('busy', { consumers: 0 }, { seq: 4 }));
    const { call } = await startCall();
    const host = (await redis.get(mediaNodeKeys.room(prefix, call.id)))!;
    const post = async (epoch: number, seq: number): Promise<void> => {
      const batch: MediaEventBatch = {
        node: host,
        events: [{ roomId: call.id, epoch, seq, at: new Date().toISOString(), type: 'room_finished', reason: 'shutdown' }],
      };
      const res = await postMediaEvents(t.url, batch);
      expect(res.status).toBe(200);
    };
    await heartbeat(node(host === 'busy' ? 'spare' : 'busy', { consumers: 0 }, { seq: 5 }));
    await post(1, 1);
    expect((await client(t.url, alice.accessToken).get<Call>(`/api/calls/${call.id}`)).body.status).toBe('active');
    for (const id of ['busy', 'spare', 'idle']) if (id !== host) await redis.del(mediaNodeKeys.node(prefix, id));
    await heartbeat(node('leaving', {}, { draining: true, seq: 6 }));
    await post(2, 1);
    expect((await client(t.url, alice.accessToken).get<Call>(`/api/calls/${call.id}`)).body).toMatchObject({ status: 'ended', endReason: 'room_shutdown' });
  });

  it("sends later participants to a second node when the host is full, keeps them on the room's nodes, and a dead host hands the room to its other node", async () => {
    // Only these three nodes from here on.
    const registered = await redis.sMembers(mediaNodeKeys.nodes(prefix));
    if (registered.length > 0) await redis.del([mediaNodeKeys.nodes(prefix), ...registered.map((id) => mediaNodeKeys.node(prefix, id))]);
    const small = (id: string, consumers: number, seq: number): MediaNodeInfo => node(id, { consumers }, { capacity: { consumers: 8 }, seq });
    const access = async (session: Session, callId: string): Promise<string> =>
      (await client(t.url, session.accessToken).post<RoomAccess>(`/api/calls/${callId}/token`)).body.url;
    await Promise.all([heartbeat(small('a', 0, 1)), heartbeat(small('b', 0, 1)), heartbeat(small('c', 5, 1))]);
    const call = (await client(t.url, alice.accessToken).post<Call>('/api/calls', { type: 'video', inviteeIds: [grey.user.id] })).body;
    const accepted = await client(t.url, grey.accessToken).post<{ access: RoomAccess }>(`/api/calls/${call.id}/accept`);
    expect(accepted.body.access.url).toBe('wss://a.clinic.example/rtc');

    // The host is full: the next participant goes to the least loaded other node, which joins the room's node set.
    await heartbeat(small('a', 8, 2));
    expect(await access(alice, call.id)).toBe('wss://b.clinic.example/rtc');
    expect((await redis.sMembers(mediaNodeKeys.roomNodes(prefix, call.id))).sort()).toEqual(['a', 'b']);
    // The room's second node has room left: the next one goes there too, not to a third node.
    expect(await access(grey, call.id)).toBe('wss://b.clinic.example/rtc');
    // Every node full: a running room still takes the participant, on the least loaded of its nodes.
    await Promise.all([heartbeat(small('b', 12, 2)), heartbeat(small('c', 8, 2))]);
    expect(await access(alice, call.id)).toBe('wss://a.clinic.example/rtc');

    // The host dies: the node the room already spans takes it over (not the emptier stranger).
    await Promise.all([heartbeat(small('b', 6, 3)), heartbeat(small('c', 0, 3))]);
    await redis.del(mediaNodeKeys.node(prefix, 'a'));
    expect(await access(alice, call.id)).toBe('wss://b.clinic.example/rtc');
    expect(await redis.get(mediaNodeKeys.room(prefix, call.id))).toBe('b');
    const timeline = (await client(t.url, alice.accessToken).get<{ items: CallTimelineEntry[] }>(`/api/calls/${call.id}/timeline`)).body.items;
    expect(JSON.parse(timeline.find((e) => e.kind === 'moved')!.detail!)).toMatchObject({ from: 'a', to: 'b' });
  });

  it("a room just placed keeps its next participants before the node's next heartbeat; another room placed meanwhile counts against the node", async () => {
    const registered = await redis.sMembers(mediaNodeKeys.nodes(prefix));
    if (registered.length > 0) await redis.del([mediaNodeKeys.nodes(prefix), ...registered.map((id) => mediaNodeKeys.node(prefix, id))]);
    // Room for one 1:1 call each (4 consumers), no heartbeat during the test.
    const tiny = (id: string): MediaNodeInfo => node(id, { consumers: 0 }, { capacity: { consumers: 4 }, seq: 7 });
    await Promise.all([heartbeat(tiny('p')), heartbeat(tiny('q'))]);
    const access = async (session: Session, callId: string): Promise<string> =>
      (await client(t.url, session.accessToken).post<RoomAccess>(`/api/calls/${callId}/token`)).body.url;
    const first = await startCall();
    const host = first.greyAccess.url;
    // The same room's next participant: the room's own reservation is not counted against it (was sent to the other node).
    expect(await access(alice, first.call.id)).toBe(host);
    expect(await redis.sMembers(mediaNodeKeys.roomNodes(prefix, first.call.id))).toEqual([]);
    // Another room placed meanwhile goes to the other node.
    const second = await startCall();
    expect(second.greyAccess.url).not.toBe(host);
  });

  it("a room's reservation outlives the node's next heartbeat (which may come right after the placement) and ends after its window", async () => {
    const keyPrefix = `test-reservation-${randomUUID()}`;
    const write = (info: MediaNodeInfo): Promise<void> => heartbeat(info, keyPrefix);
    const placement = new MediaPlacement({ redis, keyPrefix, fallbackUrl: 'ws://127.0.0.1:4443/rtc', logger: createLogger('silent'), reservationMs: 400 });
    await Promise.all([write(node('m1')), write(node('m2'))]);
    const first = await placement.place('room-1');
    expect(first.nodeId).toBe('m1');
    // m1 heartbeats before room-1 has opened there: same load, new seq. room-1 still counts against it.
    await write(node('m1', {}, { seq: 2 }));
    expect((await placement.place('room-2')).nodeId).toBe('m2');
    // Both reservations over, nothing opened: the two nodes look alike again and the tie goes to m1.
    await new Promise((resolve) => setTimeout(resolve, 450));
    await Promise.all([write(node('m1', {}, { seq: 3 })), write(node('m2', {}, { seq: 2 }))]);
    expect((await placement.place('room-3')).nodeId).toBe('m1');
    const keys = await redis.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await redis.del(keys);
  });

  it("asks for a room's participants only the live nodes the room is open on: on none, 404; its host unreachable, 503", async () => {
    const admin = await login(t.url, 'admin');
    const backend = client(
      t.url,
      (await client(t.url, admin.accessToken).post<{ secret: string }>('/api/admin/api-keys', { name: 'Moderation', scopes: ['rooms'] })).body.secret,
    );
    // Port 9 on loopback refuses: the API must have tried the host's internal URL to say 503.
    await heartbeat(node('mod-host', {}, { internalUrl: 'http://127.0.0.1:9', seq: 10 }));
    await redis
      .multi()
      .set(mediaNodeKeys.room(prefix, 'moderated-1'), 'mod-host')
      .sAdd(mediaNodeKeys.roomNodes(prefix, 'moderated-1'), ['mod-host', 'mod-dead'])
      .exec();
    const nowhere = await backend.get('/api/server/rooms/nowhere-1/participants');
    expect(nowhere).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', message: expect.stringContaining('not open on any media node') } } });
    expect((await backend.delete('/api/server/rooms/nowhere-1/participants/bob')).status).toBe(404);
    const unreachable = await backend.get('/api/server/rooms/moderated-1/participants');
    expect(unreachable).toMatchObject({
      status: 503,
      body: { error: { code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('could not be reached') } },
    });
    expect((await backend.post('/api/server/rooms/moderated-1/participants/bob/mute', { source: 'camera' })).status).toBe(503);
    expect((await backend.post('/api/server/rooms/moderated-1/participants/bob/mute', { source: 'nose' })).status).toBe(422);
  });
});

describe('the media node registry while Redis is down', () => {
  let redis: RedisServer;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startRedisServer(); // its own server: this test stops it
    t = await startTestApp('pglite', { redisUrl: redis.url });
  });
  afterAll(async () => {
    await t?.close();
    redis?.stop();
  });

  it('answers admins 503 SERVICE_UNAVAILABLE, not a 500, and lists the nodes again once Redis is back', async () => {
    const admin = await login(t.url, 'admin');
    const list = () => client(t.url, admin.accessToken).get<{ items?: unknown[]; error?: { code: string; message: string } }>('/api/admin/media-nodes');
    expect((await list()).status).toBe(200);
    redis.stop();
    // Until the server has gone, a read may still succeed; never a 500.
    const statuses = new Set<number>();
    const down = await waitFor(
      'a 503 while Redis is down',
      async () => {
        const answer = await list();
        statuses.add(answer.status);
        return answer.status === 200 ? undefined : answer;
      },
      { timeoutMs: 30_000 },
    );
    expect([...statuses].filter((s) => s !== 200)).toEqual([503]);
    expect(down.body.error).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('registry (Redis) is not reachable') });
    await redis.restart();
    await waitFor('the registry readable again', async () => ((await list()).status === 200 ? true : undefined), { timeoutMs: 30_000 });
  });
});
