// The load-test media path against a real media server and a second mediasoup worker playing the
// bots: refused without the grant, and with it synthetic VP8 crosses the SFU over SRTP both ways.
import jwt from 'jsonwebtoken';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { RoomGrants, ServerMessage, ServerNotifications, SignalingMethod, SignalingRequests } from '@telemed/sdk/protocol';
import { MediaServer } from '../MediaServer.js';

const SECRET = 'load-test-test-secret-0123456789';
const SERVICE_SECRET = 'load-test-service-secret-0123456789';
const ROOM = 'load-test-room';
let server: MediaServer;
let botWorker: types.Worker;
let botRouter: types.Router;

const token = (identity: string, grants: Partial<RoomGrants>, room = ROOM): string =>
  jwt.sign(
    { room, grants: { canPublish: true, canSubscribe: true, canPublishData: false, roomAdmin: false, ...grants } },
    SECRET,
    { subject: identity, issuer: 'telemed-api', audience: 'telemed-media', expiresIn: 60 },
  );

type Failure = { code: string; message: string };

/** A minimal signaling client: typed requests and a queue of notifications. */
class Client {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Failure) => void }>();
  readonly notifications: { method: string; data: unknown }[] = [];
  #nextId = 1;
  welcome!: ServerNotifications['welcome'];

  private constructor(socket: WebSocket) {
    this.#socket = socket;
  }

  static async connect(identity: string, grants: Partial<RoomGrants>, port = server.port, room = ROOM): Promise<Client> {
    const client = new Client(new WebSocket(`ws://127.0.0.1:${port}/rtc?token=${token(identity, grants, room)}`));
    await new Promise<void>((resolve, reject) => {
      client.#socket.on('error', reject);
      client.#socket.on('message', (raw) => {
        const message = JSON.parse(raw.toString()) as ServerMessage;
        if (message.type === 'response') {
          const waiter = message.id === null ? undefined : client.#pending.get(message.id);
          if (!waiter || message.id === null) return;
          client.#pending.delete(message.id);
          if (message.ok) waiter.resolve(message.data);
          else waiter.reject(message.error);
        } else if (message.method === 'welcome') {
          client.welcome = message.data as ServerNotifications['welcome'];
          resolve();
        } else {
          client.notifications.push({ method: message.method, data: message.data });
        }
      });
    });
    return client;
  }

  request<M extends SignalingMethod>(method: M, data: SignalingRequests[M]['request']): Promise<SignalingRequests[M]['response']> {
    const id = this.#nextId++;
    this.#socket.send(JSON.stringify({ type: 'request', id, method, data }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  async failure<M extends SignalingMethod>(method: M, data: SignalingRequests[M]['request']): Promise<Failure> {
    try {
      await this.request(method, data);
    } catch (error) {
      return error as Failure;
    }
    throw new Error(`${method} succeeded`);
  }

  close(): void {
    this.#socket.close();
  }
}

/** Connects a bot-side plain transport (SRTP, same suite) with the SFU's for one direction. */
async function plainPair(client: Client, direction: 'send' | 'recv'): Promise<{ local: types.PlainTransport; remoteId: string }> {
  const remote = await client.request('createPlainTransport', { direction });
  const local = await botRouter.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: true, comedia: false, enableSrtp: true, srtpCryptoSuite: 'AEAD_AES_256_GCM' });
  await local.connect({ ip: remote.ip, port: remote.port, srtpParameters: remote.srtpParameters });
  const keyBase64 = local.srtpParameters?.keyBase64 ?? '';
  await client.request('connectPlainTransport', { transportId: remote.id, ip: local.tuple.localIp, port: local.tuple.localPort, srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64 } });
  return { local, remoteId: remote.id };
}

/** One VP8 keyframe packet (payload descriptor with X bit and a 15-bit picture id). */
function vp8Packet(seq: number, pictureId: number, ssrc: number): Buffer {
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

beforeAll(async () => {
  server = new MediaServer({ port: 0, numWorkers: 1, rtcBasePort: 45000 + Math.floor(Math.random() * 5000), roomTokenSecret: SECRET, logLevel: 'silent' });
  await server.start();
  botWorker = await mediasoup.createWorker({ logLevel: 'warn' });
  botRouter = await botWorker.createRouter({ mediaCodecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }] });
});

afterAll(async () => {
  botWorker?.close();
  await server?.stop();
});

describe('load-test signaling path', () => {
  it('refuses plain transports to a token without the loadTest grant', async () => {
    const client = await Client.connect('no-grant', {});
    expect(await client.failure('createPlainTransport', { direction: 'recv' })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await client.failure('connectPlainTransport', { transportId: 'x', ip: '127.0.0.1', port: 9, srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'a2V5' } }))
      .toMatchObject({ code: 'FORBIDDEN' });
    const explicit = await Client.connect('grant-false', { loadTest: false });
    expect(await explicit.failure('createPlainTransport', { direction: 'send' })).toMatchObject({ code: 'FORBIDDEN' });
    client.close();
    explicit.close();
  });

  it('rejects another SRTP suite and a non-plain transport', async () => {
    const client = await Client.connect('checker', { loadTest: true });
    const webrtc = await client.request('createTransport', { direction: 'send' });
    const recv = await client.request('createPlainTransport', { direction: 'recv' });
    const suite = { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: 'a2V5' } as unknown as SignalingRequests['connectPlainTransport']['request']['srtpParameters'];
    expect(await client.failure('connectPlainTransport', { transportId: recv.id, ip: '127.0.0.1', port: 9, srtpParameters: suite })).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await client.failure('connectPlainTransport', { transportId: webrtc.id, ip: '127.0.0.1', port: 9, srtpParameters: recv.srtpParameters }))
      .toMatchObject({ code: 'BAD_REQUEST' });
    expect(await client.failure('createPlainTransport', { direction: 'recv' })).toMatchObject({ code: 'INVALID_STATE' });
    client.close();
  });

  it('carries synthetic VP8 from a publisher bot to a subscriber bot over SRTP', async () => {
    const received = await carryVp8(server.port, 'one-worker', 1);
    console.log(`load-test path: VP8 packets decrypted at the subscriber bot: ${received.join(', ')}`);
  });
});

describe('load-test signaling path in a room spanning workers', () => {
  let spanning: MediaServer;
  beforeAll(async () => {
    // A budget of 2 consumers per worker: the second subscriber lands on the other worker.
    spanning = new MediaServer({ port: 0, numWorkers: 2, consumersPerWorker: 2, rtcBasePort: 40000 + Math.floor(Math.random() * 5000), roomTokenSecret: SECRET, serviceSecret: SERVICE_SECRET, logLevel: 'silent' });
    await spanning.start();
  });
  afterAll(async () => {
    await spanning?.stop();
  });

  it('carries media to subscriber bots of a room spanning two workers (pipeToRouter)', async () => {
    const received = await carryVp8(spanning.port, 'spanning', 3, async () => {
      const res = await fetch(`http://127.0.0.1:${spanning.port}/rooms`, { headers: { authorization: `Bearer ${SERVICE_SECRET}` } });
      const { rooms } = (await res.json()) as { rooms: { roomId: string; workers: { index: number; consumers: number }[] }[] };
      const workers = rooms.find((r) => r.roomId === 'spanning')?.workers ?? [];
      expect(workers.filter((w) => w.consumers > 0)).toHaveLength(2);
    });
    console.log(`load-test path across workers: VP8 packets decrypted per subscriber bot: ${received.join(', ')}`);
  });
});

/** One publisher bot and `subscribers` subscriber bots; resolves with what each subscriber decrypted. */
async function carryVp8(port: number, room: string, subscribers: number, whileFlowing?: () => Promise<void>): Promise<number[]> {
  const publisher = await Client.connect('bot-pub', { loadTest: true }, port, room);
  const sfuCaps = publisher.welcome.routerRtpCapabilities as unknown as types.RtpCapabilities;
  const caps = (from: types.RtpCapabilities): types.RtpCapabilities => ({
    codecs: (from.codecs ?? []).filter((c) => c.mimeType === 'video/VP8').map((c) => ({ ...c, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] })),
    headerExtensions: [],
  });
  const send = await plainPair(publisher, 'send');
  await publisher.request('join', { rtpCapabilities: caps(sfuCaps) as never });
  const direct = await botRouter.createDirectTransport();
  const ssrc = 4000 + Math.floor(Math.random() * 1000);
  const source = await direct.produce({ kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc }] } });
  const toSfu = await send.local.consume({ producerId: source.id, rtpCapabilities: caps(sfuCaps) });
  await publisher.request('produce', { transportId: send.remoteId, kind: 'video', source: 'camera', rtpParameters: toSfu.rtpParameters as never });

  const clients: Client[] = [publisher];
  const counters: types.Producer[] = [];
  for (let i = 0; i < subscribers; i++) {
    const subscriber = await Client.connect(`bot-sub-${i}`, { loadTest: true }, port, room);
    clients.push(subscriber);
    const recv = await plainPair(subscriber, 'recv');
    await subscriber.request('join', { rtpCapabilities: caps(botRouter.rtpCapabilities) as never });
    await expect.poll(() => subscriber.notifications.some((n) => n.method === 'consumerCreated')).toBe(true);
    const created = subscriber.notifications.find((n) => n.method === 'consumerCreated')?.data as ServerNotifications['consumerCreated'];
    counters.push(await recv.local.produce({ kind: 'video', rtpParameters: created.rtpParameters as unknown as types.RtpParameters }));
    await subscriber.request('resumeConsumer', { consumerId: created.consumerId });
  }
  const received = (): Promise<number[]> => Promise.all(counters.map(async (c) => (await c.getStats()).reduce((sum, s) => sum + s.packetCount, 0)));
  let seq = 0;
  const timer = setInterval(() => source.send(vp8Packet(seq, seq++, ssrc)), 10);
  try {
    await expect.poll(async () => Math.min(...(await received())), { timeout: 5000 }).toBeGreaterThanOrEqual(50);
  } finally {
    clearInterval(timer);
  }
  for (const counter of counters) expect((await counter.getStats())[0]?.mimeType).toBe('video/VP8');
  await whileFlowing?.();
  for (const client of clients) client.close();
  direct.close();
  return received();
}
