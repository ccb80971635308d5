// The media node registry against a real redis-server (the unit project's) and a real media
// server: the record and its TTL, load that moves with a room, the drain command, a room's
// placement dropped when it closes, and the record gone on a clean stop; after Redis restarts empty
// (its own redis-server), the node's open rooms come back with its first record.
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MEDIA_NODE_TTL_MS, mediaNodeKeys, type MediaNodeInfo } from '@telemed/sdk/protocol';
import { MediaServer } from '../MediaServer.js';
import { startTestMediaServer, testMediaServerOptions } from '../testing/media-server.js';
import { WebSocket } from 'ws';
import { CloseCode } from '@telemed/sdk/protocol';
import { connectBot } from '../testing/bots.js';
import { roomToken, waitFor } from '@telemed/test-kit';
import { startRedisServer } from '../../../api/src/testing/redis-server.js';

const SECRET = 'registry-test-room-secret-0123456789';
const SERVICE_SECRET = 'registry-test-service-secret-0123456789';
const PREFIX = `test-registry-${randomBytes(4).toString('hex')}`;

let server: MediaServer;
const redis = createClient({ url: inject('redisUrl') });

const record = async (): Promise<MediaNodeInfo | undefined> => {
  const raw = await redis.get(mediaNodeKeys.node(PREFIX, 'node-a'));
  return raw === null ? undefined : (JSON.parse(raw) as MediaNodeInfo);
};

beforeAll(async () => {
  await redis.connect();
  server = await startTestMediaServer({
    roomTokenSecret: SECRET,
    serviceSecret: SERVICE_SECRET,
    emptyRoomGraceMs: 0,
    logLevel: 'silent',
    redisUrl: inject('redisUrl'),
    redisKeyPrefix: PREFIX,
    nodeId: 'node-a',
    region: 'eu-test',
    publicUrl: 'wss://media-a.clinic.example/rtc',
    nodeCapacity: 40,
  });
});

afterAll(async () => {
  await server?.stop();
  await redis.quit();
});

describe('media node registry', () => {
  it('registers the node with its URL, region and capacity under a TTL of at most 2 s', async () => {
    const node = await record();
    expect(node).toMatchObject({
      id: 'node-a',
      url: 'wss://media-a.clinic.example/rtc',
      internalUrl: `http://127.0.0.1:${server.port}`,
      announcedAddress: '127.0.0.1',
      region: 'eu-test',
      capacity: { consumers: 40 },
      draining: false,
      load: { rooms: 0, peers: 0, consumers: 0 },
    });
    expect(node!.load.workerCpu).toHaveLength(1);
    expect(await redis.sIsMember(mediaNodeKeys.nodes(PREFIX), 'node-a')).toBe(1);
    const ttl = await redis.pTTL(mediaNodeKeys.node(PREFIX, 'node-a'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(MEDIA_NODE_TTL_MS);
  });

  it('heartbeats its load: a room with a participant shows within a few heartbeats, and its placement goes when it closes', async () => {
    const first = (await record())!.seq;
    await redis.set(mediaNodeKeys.room(PREFIX, 'room-1'), 'node-a');
    await redis.set(mediaNodeKeys.room(PREFIX, 'room-2'), 'node-b'); // another node's room of the same name is left alone
    const bot = await connectBot('ann', {}, { port: server.port, secret: SECRET, room: 'room-1' });
    await waitFor('the room and its peer in the record', async () => {
      const load = (await record())?.load;
      return load?.rooms === 1 && load.peers === 1;
    });
    expect((await record())!.seq).toBeGreaterThan(first);
    bot.socket.close();
    await waitFor('room-1 released', async () => (await redis.get(mediaNodeKeys.room(PREFIX, 'room-1'))) === null);
    const other = await connectBot('bob', {}, { port: server.port, secret: SECRET, room: 'room-2' });
    other.socket.close();
    await waitFor('no rooms in the record', async () => (await record())?.load.rooms === 0);
    expect(await redis.get(mediaNodeKeys.room(PREFIX, 'room-2'))).toBe('node-b');
  });

  it('the drain command takes the node out of placement at once; a clean stop removes the record', async () => {
    const unauthorized = await fetch(`http://127.0.0.1:${server.port}/drain`, { method: 'POST' });
    expect(unauthorized.status).toBe(401);
    const res = await fetch(`http://127.0.0.1:${server.port}/drain`, { method: 'POST', headers: { authorization: `Bearer ${SERVICE_SECRET}` } });
    expect(res.status).toBe(200);
    await waitFor('the record draining', async () => (await record())?.draining === true, { intervalMs: 20 });
    // A new room is refused (an existing one would still take joins).
    const socket = new WebSocket(
      `ws://127.0.0.1:${server.port}/rtc?token=${roomToken({ secret: SECRET, room: 'room-3', identity: 'carl', grants: { canPublishData: false } })}`,
    );
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(closed).toEqual({ code: CloseCode.Refused, reason: 'DRAINING' });
    await server.stop();
    expect(await record()).toBeUndefined();
    expect(await redis.sIsMember(mediaNodeKeys.nodes(PREFIX), 'node-a')).toBe(0);
  });
});

describe('media node registry after Redis restarts empty', () => {
  it("puts the node's open rooms back in the same transaction as its first record: never registered with its running rooms unknown", async () => {
    const own = await startRedisServer();
    const prefix = `${PREFIX}-restart`;
    const node = new MediaServer(
      await testMediaServerOptions({
        roomTokenSecret: SECRET,
        emptyRoomGraceMs: 0,
        redisUrl: own.url,
        redisKeyPrefix: prefix,
        nodeId: 'node-r',
        region: 'eu-test',
      }),
    );
    const probe = createClient({ url: own.url });
    probe.on('error', () => undefined); // while the server is down; the client reconnects by itself
    try {
      await node.start();
      await probe.connect();
      const bot = await connectBot('ann', {}, { port: node.port, secret: SECRET, room: 'room-r' });
      await waitFor('the room in its node set', async () => (await probe.sIsMember(mediaNodeKeys.roomNodes(prefix, 'room-r'), 'node-r')) === 1);

      own.kill();
      await own.restart();
      // Read in one transaction, as often as Redis answers: the first time the node is registered
      // again, its room must already be placed on it and in its node set.
      const seen = await waitFor(
        'the node registered again',
        async () => {
          const replies = await probe
            .multi()
            .get(mediaNodeKeys.node(prefix, 'node-r'))
            .get(mediaNodeKeys.room(prefix, 'room-r'))
            .sMembers(mediaNodeKeys.roomNodes(prefix, 'room-r'))
            .exec()
            .catch(() => undefined);
          const [registered, placedOn, roomNodes] = (replies ?? []) as unknown as [string | null, string | null, string[]];
          return registered ? { placedOn, roomNodes } : undefined;
        },
        { intervalMs: 1, timeoutMs: 20_000 },
      );
      expect(seen).toEqual({ placedOn: 'node-r', roomNodes: ['node-r'] });
      bot.socket.close();
    } finally {
      await node.stop();
      if (probe.isOpen) probe.destroy();
      own.stop();
    }
  });
});
