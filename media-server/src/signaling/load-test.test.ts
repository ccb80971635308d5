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
const ROOM = 'load-test-room';
let server: MediaServer;
let botWorker: types.Worker;
let botRouter: types.Router;

const token = (identity: string, grants: Partial<RoomGrants>): string =>
  jwt.sign(
    { room: ROOM, grants: { canPublish: true, canSubscribe: true, canPublishData: false, roomAdmin: false, ...grants } },
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

  static async connect(identity: string, grants: Partial<RoomGrants>): Promise<Client> {
    const client = new Client(new WebSocket(`ws://127.0.0.1:${server.port}/rtc?token=${token(identity, grants)}`));
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
    const publisher = await Client.connect('bot-pub', { loadTest: true });
    const subscriber = await Client.connect('bot-sub', { loadTest: true });
    const sfuCaps = publisher.welcome.routerRtpCapabilities as unknown as types.RtpCapabilities;
    const caps = (from: types.RtpCapabilities): types.RtpCapabilities => ({
      codecs: (from.codecs ?? []).filter((c) => c.mimeType === 'video/VP8').map((c) => ({ ...c, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] })),
      headerExtensions: [],
    });

    const send = await plainPair(publisher, 'send');
    await publisher.request('join', { rtpCapabilities: caps(sfuCaps) as never });
    const direct = await botRouter.createDirectTransport();
    const source = await direct.produce({ kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc: 4242 }] } });
    const toSfu = await send.local.consume({ producerId: source.id, rtpCapabilities: caps(sfuCaps) });
    await publisher.request('produce', { transportId: send.remoteId, kind: 'video', source: 'camera', rtpParameters: toSfu.rtpParameters as never });

    const recv = await plainPair(subscriber, 'recv');
    await subscriber.request('join', { rtpCapabilities: caps(botRouter.rtpCapabilities) as never });
    await expect.poll(() => subscriber.notifications.some((n) => n.method === 'consumerCreated')).toBe(true);
    const created = subscriber.notifications.find((n) => n.method === 'consumerCreated')?.data as ServerNotifications['consumerCreated'];
    const counter = await recv.local.produce({ kind: 'video', rtpParameters: created.rtpParameters as unknown as types.RtpParameters });
    await subscriber.request('resumeConsumer', { consumerId: created.consumerId });

    const received = async (): Promise<number> => (await counter.getStats()).reduce((sum, s) => sum + s.packetCount, 0);
    let seq = 0;
    const timer = setInterval(() => source.send(vp8Packet(seq, seq++, 4242)), 10);
    try {
      await expect.poll(received, { timeout: 5000 }).toBeGreaterThanOrEqual(50);
    } finally {
      clearInterval(timer);
    }
    const stats = await counter.getStats();
    console.log(`load-test path: ${seq} VP8 packets sent, ${await received()} decrypted at the subscriber bot`);
    expect(stats[0]?.mimeType).toBe('video/VP8');
    publisher.close();
    subscriber.close();
  });
});
