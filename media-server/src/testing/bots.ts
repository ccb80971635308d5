// Bots for tests against a real media server: signaling connections, and publisher/subscriber
// bots that carry synthetic VP8 over the load-test plain transports (SRTP), played by a second
// mediasoup worker in the test process.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { expect } from 'vitest';
import type { RoomGrants, ServerNotifications } from '@telemed/sdk/protocol';
import { roomToken, TestSignalingClient, waitFor } from '@telemed/test-kit';

export interface BotTarget {
  /** The media server's signaling port. */
  port: number;
  /** Its room token secret. */
  secret: string;
  room: string;
}

/** A bot's signaling connection: a fresh token for `identity`, or a resumed session. */
export function connectBot(
  identity: string,
  grants: Partial<RoomGrants>,
  target: BotTarget,
  resume?: { participantId: string; key: string },
): Promise<TestSignalingClient> {
  const token = roomToken({ secret: target.secret, room: target.room, identity, grants: { canPublishData: false, ...grants } });
  return TestSignalingClient.connect({ url: `ws://127.0.0.1:${target.port}/rtc`, token, ...(resume ? { resume } : {}) });
}

/** The bots' own mediasoup worker and a VP8 router on it (close the worker when done). */
export async function startBotRouter(): Promise<{ worker: types.Worker; router: types.Router }> {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({ mediaCodecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }] });
  return { worker, router };
}

/** Connects a bot-side plain transport (SRTP, same suite) with the SFU's for one direction. */
export async function plainPair(
  client: TestSignalingClient,
  botRouter: types.Router,
  direction: 'send' | 'recv',
): Promise<{ local: types.PlainTransport; remoteId: string }> {
  const remote = await client.request('createPlainTransport', { direction });
  const local = await botRouter.createPlainTransport({
    listenIp: { ip: '127.0.0.1' },
    rtcpMux: true,
    comedia: false,
    enableSrtp: true,
    srtpCryptoSuite: 'AEAD_AES_256_GCM',
  });
  await local.connect({ ip: remote.ip, port: remote.port, srtpParameters: remote.srtpParameters });
  const keyBase64 = local.srtpParameters?.keyBase64 ?? '';
  await client.request('connectPlainTransport', {
    transportId: remote.id,
    ip: local.tuple.localIp,
    port: local.tuple.localPort,
    srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64 },
  });
  return { local, remoteId: remote.id };
}

/** One VP8 keyframe packet (payload descriptor with X bit and a 15-bit picture id). */
export function vp8Packet(seq: number, pictureId: number, ssrc: number): Buffer {
  const packet = Buffer.alloc(12 + 4 + 10 + 600);
  packet[0] = 0x80;
  packet[1] = 0x80 | 96;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE((seq * 3000) >>> 0, 4);
  packet.writeUInt32BE(ssrc, 8);
  packet[12] = 0x90; // X, S (start of partition 0)
  packet[13] = 0x80; // I: picture id present
  packet.writeUInt16BE(0x8000 | (pictureId & 0x7fff), 14);
  packet.set([0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01], 16); // keyframe, 640x480
  return packet;
}

/** VP8 capabilities with NACK and PLI, from a router's or the SFU's. */
function vp8Caps(from: types.RtpCapabilities): types.RtpCapabilities {
  return {
    codecs: (from.codecs ?? [])
      .filter((c) => c.mimeType === 'video/VP8')
      .map((c) => ({ ...c, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] })),
    headerExtensions: [],
  };
}

/** A joined bot sending synthetic VP8 as its camera until stop(). */
export interface PublishingBot {
  producerId: string;
  stop(): void;
}

/** Joins `client` (a token with the loadTest grant) and publishes synthetic VP8 as its camera, sent every 10 ms. */
export async function publishVp8(client: TestSignalingClient, botRouter: types.Router): Promise<PublishingBot> {
  const sfuCaps = client.welcome.routerRtpCapabilities as unknown as types.RtpCapabilities;
  const send = await plainPair(client, botRouter, 'send');
  await client.request('join', { rtpCapabilities: vp8Caps(sfuCaps) as never });
  const direct = await botRouter.createDirectTransport();
  const ssrc = 4000 + Math.floor(Math.random() * 1000);
  const source = await direct.produce({
    kind: 'video',
    rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc }] },
  });
  const toSfu = await send.local.consume({ producerId: source.id, rtpCapabilities: vp8Caps(sfuCaps) });
  const { producerId } = await client.request('produce', {
    transportId: send.remoteId,
    kind: 'video',
    source: 'camera',
    rtpParameters: toSfu.rtpParameters as never,
  });
  let seq = 0;
  const timer = setInterval(() => source.send(vp8Packet(seq, seq++, ssrc)), 10);
  return {
    producerId,
    stop: () => {
      clearInterval(timer);
      direct.close();
      send.local.close();
    },
  };
}

/** What a subscriber bot receives of one consumer: `received` counts its packets. */
export interface PacketCounter {
  counter: types.Producer;
  received(): Promise<number>;
}

/** A joined subscriber bot: `receive` resumes one of its consumers and counts what it carries. */
export interface Vp8Receiver {
  receive(created: ServerNotifications['consumerCreated']): Promise<PacketCounter>;
}

/** Joins `client` as a subscriber over a plain transport, with the join's `autoSubscribe` (default: the server's, true). */
export async function joinVp8Receiver(client: TestSignalingClient, botRouter: types.Router, join: { autoSubscribe?: boolean } = {}): Promise<Vp8Receiver> {
  const recv = await plainPair(client, botRouter, 'recv');
  await client.request('join', { rtpCapabilities: vp8Caps(botRouter.rtpCapabilities) as never, ...join });
  return {
    receive: async (created) => {
      const counter = await recv.local.produce({ kind: 'video', rtpParameters: created.rtpParameters as unknown as types.RtpParameters });
      await client.request('resumeConsumer', { consumerId: created.consumerId });
      return { counter, received: async () => (await counter.getStats()).reduce((sum, s) => sum + s.packetCount, 0) };
    },
  };
}

/** Joins `client` as a subscriber over a plain transport: its first consumer is resumed and counted (the answer's `received`). */
export async function subscribeVp8(client: TestSignalingClient, botRouter: types.Router): Promise<PacketCounter> {
  const receiver = await joinVp8Receiver(client, botRouter);
  return receiver.receive(await client.nextNotification('consumerCreated'));
}

/**
 * One publisher bot and `subscribers` subscriber bots carrying synthetic VP8 through the SFU;
 * `whileFlowing` runs while media flows. Resolves with what each subscriber decrypted.
 */
export async function carryVp8(target: BotTarget, botRouter: types.Router, subscribers: number, whileFlowing?: () => Promise<void>): Promise<number[]> {
  const publisher = await connectBot('bot-pub', { loadTest: true }, target);
  const publishing = await publishVp8(publisher, botRouter);
  const clients: TestSignalingClient[] = [publisher];
  const counters: PacketCounter[] = [];
  for (let i = 0; i < subscribers; i++) {
    const subscriber = await connectBot(`bot-sub-${i}`, { loadTest: true }, target);
    clients.push(subscriber);
    counters.push(await subscribeVp8(subscriber, botRouter));
  }
  const received = (): Promise<number[]> => Promise.all(counters.map((c) => c.received()));
  try {
    await waitFor('50 packets at every counter', async () => Math.min(...(await received())) >= 50);
    for (const { counter } of counters) expect((await counter.getStats())[0]?.mimeType).toBe('video/VP8');
    await whileFlowing?.();
  } finally {
    publishing.stop();
  }
  for (const client of clients) client.close();
  return received();
}
