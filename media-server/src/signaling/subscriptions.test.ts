// Subscriptions on demand against a real media server and bots carrying synthetic VP8: a participant
// that joins with autoSubscribe false receives nothing until it subscribes, then one consumer whose
// media flows however often it asks, until it unsubscribes; bad requests get typed errors; a resumed
// session keeps its subscriptions and its choice.
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumerStatsInfo, RoomStatsInfo } from '@telemed/sdk/protocol';
import { waitFor, type TestSignalingClient } from '@telemed/test-kit';
import type { MediaServer } from '../MediaServer.js';
import { startTestMediaServer } from '../testing/media-server.js';
import { connectBot, joinVp8Receiver, publishVp8, startBotRouter, type BotTarget, type PacketCounter } from '../testing/bots.js';

const SECRET = 'subscriptions-test-secret-0123456789';
const SERVICE = 'subscriptions-test-service-0123456789';
const SCTP = { numStreams: { OS: 1024, MIS: 1024 } };
let server: MediaServer;
let botWorker: types.Worker;
let botRouter: types.Router;
const stops: (() => void)[] = [];

beforeAll(async () => {
  server = await startTestMediaServer({ roomTokenSecret: SECRET, serviceSecret: SERVICE, resumeGraceMs: 10_000 });
  ({ worker: botWorker, router: botRouter } = await startBotRouter());
});

afterAll(async () => {
  for (const stop of stops) stop();
  botWorker?.close();
  await server?.stop();
});

const target = (room: string): BotTarget => ({ port: server.port, secret: SECRET, room });

/** A bot that joined `room` and publishes synthetic VP8 as its camera; resolves with its producer id. */
async function publisher(room: string, identity: string): Promise<{ client: TestSignalingClient; producerId: string }> {
  const client = await connectBot(identity, { loadTest: true }, target(room));
  const publishing = await publishVp8(client, botRouter);
  stops.push(() => publishing.stop());
  return { client, producerId: publishing.producerId };
}

/** The server's consumers of one participant (the room stats of the service API). */
async function consumersOf(room: string, client: TestSignalingClient): Promise<ConsumerStatsInfo[]> {
  const res = await fetch(`http://127.0.0.1:${server.port}/rooms/${room}/stats`, { headers: { authorization: `Bearer ${SERVICE}` } });
  const stats = (await res.json()) as RoomStatsInfo;
  return stats.consumers.filter((c) => c.participantId === client.welcome.participantId);
}

const flowing = (what: string, media: PacketCounter, more = 20): Promise<true> =>
  media.received().then((start) => waitFor(what, async () => (await media.received()) >= start + more || undefined));

describe('subscriptions on demand', () => {
  it('with autoSubscribe false: nothing until subscribe, then one consumer with media however often asked, until unsubscribe', async () => {
    const room = 'on-demand';
    const alice = await publisher(room, 'alice');
    const bob = await connectBot('bob', { loadTest: true }, target(room));
    const receiver = await joinVp8Receiver(bob, botRouter, { autoSubscribe: false });
    // The join is answered once its consumers are made: none.
    expect(await consumersOf(room, bob)).toEqual([]);
    expect(bob.notifications('consumerCreated')).toEqual([]);

    await bob.request('subscribe', { producerId: alice.producerId });
    const created = await bob.nextNotification('consumerCreated');
    expect(created).toMatchObject({ producerId: alice.producerId, participantId: alice.client.welcome.participantId, kind: 'video', source: 'camera' });
    await flowing('media at bob', await receiver.receive(created));
    await bob.request('subscribe', { producerId: alice.producerId });
    expect(bob.notifications('consumerCreated')).toHaveLength(1);
    expect((await consumersOf(room, bob)).map((c) => c.consumerId)).toEqual([created.consumerId]);

    await bob.request('unsubscribe', { producerId: alice.producerId });
    expect(await bob.nextNotification('consumerClosed')).toEqual({ consumerId: created.consumerId });
    expect(await consumersOf(room, bob)).toEqual([]);
    await bob.request('unsubscribe', { producerId: alice.producerId });

    await bob.request('subscribe', { producerId: alice.producerId });
    const again = await bob.nextNotification('consumerCreated', (c) => c.consumerId !== created.consumerId);
    await flowing('media at bob after subscribing again', await receiver.receive(again));

    // Unsubscribed while its consumer is being made: the consumer closes once made.
    await bob.request('unsubscribe', { producerId: alice.producerId });
    await Promise.all([bob.request('subscribe', { producerId: alice.producerId }), bob.request('unsubscribe', { producerId: alice.producerId })]);
    const raced = bob.notifications('consumerCreated').at(-1)!;
    expect(bob.notifications('consumerCreated')).toHaveLength(3);
    await bob.nextNotification('consumerClosed', (c) => c.consumerId === raced.consumerId);
    expect(await consumersOf(room, bob)).toEqual([]);
    await Promise.all([alice.client.close(), bob.close()]);
  });

  it('announces a track published later to everyone but consumes it only for auto-subscribers; both hear it unpublished', async () => {
    const room = 'announce';
    const viewer = await connectBot('viewer', { loadTest: true }, target(room));
    await joinVp8Receiver(viewer, botRouter, { autoSubscribe: false });
    const auto = await connectBot('auto', { loadTest: true }, target(room));
    await joinVp8Receiver(auto, botRouter);
    const alice = await publisher(room, 'alice');
    const announced = {
      participantId: alice.client.welcome.participantId,
      track: { producerId: alice.producerId, kind: 'video', source: 'camera', paused: false },
    };
    expect(await viewer.nextNotification('trackPublished')).toEqual(announced);
    expect(await auto.nextNotification('trackPublished')).toEqual(announced);
    // The produce request is answered once the auto-subscribers' consumers are made.
    expect(await consumersOf(room, viewer)).toEqual([]);
    expect((await consumersOf(room, auto)).map((c) => c.producerId)).toEqual([alice.producerId]);

    await alice.client.request('closeProducer', { producerId: alice.producerId });
    const unpublished = { participantId: alice.client.welcome.participantId, producerId: alice.producerId };
    expect(await viewer.nextNotification('trackUnpublished')).toEqual(unpublished);
    expect(await auto.nextNotification('trackUnpublished')).toEqual(unpublished);
    await auto.nextNotification('consumerClosed');
    await Promise.all([alice.client.close(), viewer.close(), auto.close()]);
  });

  it('with autoSubscribe false still opens the data channels (chat) by itself', async () => {
    const room = 'data';
    const alice = await connectBot('alice', { canPublishData: true }, target(room));
    const send = await alice.request('createTransport', { direction: 'send', sctpCapabilities: SCTP });
    await alice.request('join', { rtpCapabilities: alice.welcome.routerRtpCapabilities });
    await alice.request('produceData', { transportId: send.id, sctpStreamParameters: { streamId: 0, ordered: true }, label: 'chat' });
    const bob = await connectBot('bob', {}, target(room));
    await bob.request('createTransport', { direction: 'recv', sctpCapabilities: SCTP });
    await bob.request('join', { rtpCapabilities: bob.welcome.routerRtpCapabilities, autoSubscribe: false });
    expect(await bob.nextNotification('dataConsumerCreated')).toMatchObject({ participantId: alice.welcome.participantId, label: 'chat' });
    await Promise.all([alice.close(), bob.close()]);
  });

  it('answers bad subscriptions with typed errors and keeps serving', async () => {
    const room = 'bad';
    const alice = await publisher(room, 'alice');
    const { producerId } = alice;
    const early = await connectBot('early', {}, target(room));
    expect((await early.failure('subscribe', { producerId })).code).toBe('INVALID_STATE');
    const viewer = await connectBot('viewer', { canSubscribe: false }, target(room));
    await viewer.request('join', { rtpCapabilities: viewer.welcome.routerRtpCapabilities });
    expect((await viewer.failure('subscribe', { producerId })).code).toBe('FORBIDDEN');
    expect((await viewer.failure('unsubscribe', { producerId })).code).toBe('FORBIDDEN');
    const bob = await connectBot('bob', {}, target(room));
    await bob.request('join', { rtpCapabilities: bob.welcome.routerRtpCapabilities, autoSubscribe: false });
    expect((await bob.failure('subscribe', { producerId: 'no-such-producer' })).code).toBe('NOT_FOUND');
    expect((await bob.failure('unsubscribe', { producerId: 'no-such-producer' })).code).toBe('NOT_FOUND');
    // No receive transport yet.
    expect((await bob.failure('subscribe', { producerId })).code).toBe('INVALID_STATE');
    expect((await bob.failure('subscribe', { producerId: 42 } as never)).code).toBe('BAD_REQUEST');
    expect((await bob.failure('subscribe', {} as never)).code).toBe('BAD_REQUEST');
    expect((await bob.failure('unsubscribe', { producerId, extra: 1 } as never)).code).toBe('BAD_REQUEST');
    expect((await bob.failure('join', { rtpCapabilities: bob.welcome.routerRtpCapabilities, autoSubscribe: 'no' as never })).code).toBe('BAD_REQUEST');
    // One's own track is not among those one can subscribe to.
    expect((await alice.client.failure('subscribe', { producerId })).code).toBe('NOT_FOUND');
    expect(await bob.request('getStats', {})).toMatchObject({ roomId: room });
    await Promise.all([alice.client.close(), early.close(), viewer.close(), bob.close()]);
  });

  it('keeps the subscriptions and the autoSubscribe choice of a resumed session', async () => {
    const room = 'resume';
    const alice = await publisher(room, 'alice');
    const bob = await connectBot('bob', { loadTest: true }, target(room));
    const receiver = await joinVp8Receiver(bob, botRouter, { autoSubscribe: false });
    await bob.request('subscribe', { producerId: alice.producerId });
    const created = await bob.nextNotification('consumerCreated');
    const media = await receiver.receive(created);
    await flowing('media at bob', media);

    await bob.terminate();
    const back = await connectBot('bob', { loadTest: true }, target(room), { participantId: bob.welcome.participantId, key: bob.welcome.resumeKey });
    expect(back.welcome).toMatchObject({ resumed: true, participantId: bob.welcome.participantId });
    expect((await consumersOf(room, back)).map((c) => c.consumerId)).toEqual([created.consumerId]);
    await flowing('media at bob after the resume', media);

    const carol = await publisher(room, 'carol');
    expect(await back.nextNotification('trackPublished')).toMatchObject({ participantId: carol.client.welcome.participantId });
    expect((await consumersOf(room, back)).map((c) => c.producerId)).toEqual([alice.producerId]);
    await back.request('unsubscribe', { producerId: alice.producerId });
    expect(await back.nextNotification('consumerClosed')).toEqual({ consumerId: created.consumerId });
    await Promise.all([alice.client.close(), carol.client.close(), back.close()]);
  });
});
