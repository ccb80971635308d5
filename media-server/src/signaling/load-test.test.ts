// The load-test media path against a real media server and a second mediasoup worker playing the
// bots: refused without the grant, and with it synthetic VP8 crosses the SFU over SRTP both ways.
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalingRequests } from '@telemed/sdk/protocol';
import type { MediaServer } from '../MediaServer.js';
import { startTestMediaServer } from '../testing/media-server.js';
import { carryVp8, connectBot, startBotRouter, type BotTarget } from '../testing/bots.js';

const SECRET = 'load-test-test-secret-0123456789';
const SERVICE_SECRET = 'load-test-service-secret-0123456789';
const ROOM = 'load-test-room';
let server: MediaServer;
let botWorker: types.Worker;
let botRouter: types.Router;

const target = (port: number, room = ROOM): BotTarget => ({ port, secret: SECRET, room });

beforeAll(async () => {
  server = await startTestMediaServer({ roomTokenSecret: SECRET });
  ({ worker: botWorker, router: botRouter } = await startBotRouter());
});

afterAll(async () => {
  botWorker?.close();
  await server?.stop();
});

describe('load-test signaling path', () => {
  it('refuses plain transports to a token without the loadTest grant', async () => {
    const client = await connectBot('no-grant', {}, target(server.port));
    expect(await client.failure('createPlainTransport', { direction: 'recv' })).toMatchObject({ code: 'FORBIDDEN' });
    expect(
      await client.failure('connectPlainTransport', {
        transportId: 'x',
        ip: '127.0.0.1',
        port: 9,
        srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'a2V5' },
      }),
    ).toMatchObject({ code: 'FORBIDDEN' });
    const explicit = await connectBot('grant-false', { loadTest: false }, target(server.port));
    expect(await explicit.failure('createPlainTransport', { direction: 'send' })).toMatchObject({ code: 'FORBIDDEN' });
    client.close();
    explicit.close();
  });

  it('rejects another SRTP suite and a non-plain transport', async () => {
    const client = await connectBot('checker', { loadTest: true }, target(server.port));
    const webrtc = await client.request('createTransport', { direction: 'send' });
    const recv = await client.request('createPlainTransport', { direction: 'recv' });
    const suite = {
      cryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
      keyBase64: 'a2V5',
    } as unknown as SignalingRequests['connectPlainTransport']['request']['srtpParameters'];
    expect(await client.failure('connectPlainTransport', { transportId: recv.id, ip: '127.0.0.1', port: 9, srtpParameters: suite })).toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(
      await client.failure('connectPlainTransport', { transportId: webrtc.id, ip: '127.0.0.1', port: 9, srtpParameters: recv.srtpParameters }),
    ).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await client.failure('createPlainTransport', { direction: 'recv' })).toMatchObject({ code: 'INVALID_STATE' });
    client.close();
  });

  it('carries synthetic VP8 from a publisher bot to a subscriber bot over SRTP', async () => {
    const received = await carryVp8(target(server.port, 'one-worker'), botRouter, 1);
    console.log(`load-test path: VP8 packets decrypted at the subscriber bot: ${received.join(', ')}`);
  });
});

describe('load-test signaling path in a room spanning workers', () => {
  let spanning: MediaServer;
  beforeAll(async () => {
    // A budget of 2 consumers per worker: the second subscriber lands on the other worker.
    spanning = await startTestMediaServer({ numWorkers: 2, consumersPerWorker: 2, roomTokenSecret: SECRET, serviceSecret: SERVICE_SECRET });
  });
  afterAll(async () => {
    await spanning?.stop();
  });

  it('carries media to subscriber bots of a room spanning two workers (pipeToRouter)', async () => {
    const received = await carryVp8(target(spanning.port, 'spanning'), botRouter, 3, async () => {
      const res = await fetch(`http://127.0.0.1:${spanning.port}/rooms`, { headers: { authorization: `Bearer ${SERVICE_SECRET}` } });
      const { rooms } = (await res.json()) as { rooms: { roomId: string; workers: { index: number; consumers: number }[] }[] };
      const workers = rooms.find((r) => r.roomId === 'spanning')?.workers ?? [];
      expect(workers.filter((w) => w.consumers > 0)).toHaveLength(2);
    });
    console.log(`load-test path across workers: VP8 packets decrypted per subscriber bot: ${received.join(', ')}`);
  });
});
