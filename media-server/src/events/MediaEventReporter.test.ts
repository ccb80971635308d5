// The media-event sender against a small real HTTP receiver that checks what the API will check:
// the HS256 JWT (issuer, audience, expiry) and the SHA-256 of the exact body bytes. A real media
// server with a real worker produces the events.
import { createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import { crc32 } from 'node:zlib';
import { matchesBody, readBodyToken } from '@telemed/server-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_EVENTS_AUDIENCE, MEDIA_EVENTS_ISSUER, type MediaEvent, type MediaEventBatch } from '@telemed/sdk/protocol';
import { createLogger } from '../logger.js';
import type { MediaServer } from '../MediaServer.js';
import { startTestMediaServer } from '../testing/media-server.js';
import { MediaEventReporter } from './MediaEventReporter.js';
import { roomToken, TestSignalingClient, waitFor } from '@telemed/test-kit';

const WEBHOOK_SECRET = 'webhook-test-secret-0123456789';
const ROOM_SECRET = 'room-token-secret-0123456789abc';

interface Receiver {
  url: string;
  batches: MediaEventBatch[];
  rejected: string[];
  /** Answer 503 to the next `n` valid requests. */
  failNext: (n: number) => void;
  close: () => Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const batches: MediaEventBatch[] = [];
  const rejected: string[] = [];
  let failures = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      try {
        if (req.url !== '/internal/media-events' || req.method !== 'POST') throw new Error(`wrong endpoint ${req.method} ${req.url}`);
        const claims = readBodyToken({ secret: WEBHOOK_SECRET, issuer: MEDIA_EVENTS_ISSUER, audience: MEDIA_EVENTS_AUDIENCE, token });
        if (!claims) throw new Error('bad signature');
        if (!matchesBody(claims, body)) throw new Error('body hash mismatch');
      } catch (error) {
        rejected.push(String(error));
        res.writeHead(401).end();
        return;
      }
      if (failures > 0) {
        failures--;
        res.writeHead(503).end();
        return;
      }
      batches.push(JSON.parse(body.toString('utf8')) as MediaEventBatch);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    batches,
    rejected,
    failNext: (n) => (failures = n),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A real media server (one worker) that reports to the receiver. */
async function startMediaServer(options: { emptyRoomGraceMs?: number; resumeGraceMs?: number }): Promise<MediaServer> {
  return startTestMediaServer({
    roomTokenSecret: ROOM_SECRET,
    apiInternalUrl: receiver.url,
    webhookSecret: WEBHOOK_SECRET,
    nodeId: 'media-1',
    ...options,
  });
}

const events = (receiver: Receiver): MediaEvent[] => receiver.batches.flatMap((b) => b.events);

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

describe('MediaEventReporter', () => {
  it('signs each batch over its body hash, numbers events per room and retries in order until delivered', async () => {
    const reporter = new MediaEventReporter({
      url: receiver.url,
      secret: WEBHOOK_SECRET,
      node: 'node-a',
      logger: createLogger('silent'),
      retryBaseMs: 20,
      retryMaxMs: 100,
    });
    const roomA = {};
    const roomB = {};
    receiver.failNext(2);
    const at = new Date().toISOString();
    reporter.report(roomA, { type: 'room_started', roomId: 'a', at });
    reporter.report(roomB, { type: 'room_started', roomId: 'b', at });
    reporter.report(roomA, { type: 'participant_joined', roomId: 'a', at, identity: 'alice', participantId: 'p1' });
    await reporter.idle();
    reporter.report(roomA, { type: 'room_finished', roomId: 'a', at, reason: 'empty' });
    await reporter.idle();
    reporter.close();
    expect(receiver.rejected).toEqual([]);
    const got = events(receiver);
    expect(got.map((e) => `${e.roomId}#${e.seq}:${e.type}`)).toEqual(['a#1:room_started', 'b#1:room_started', 'a#2:participant_joined', 'a#3:room_finished']);
    expect(receiver.batches.every((b) => b.node === 'node-a')).toBe(true);
    // One epoch per room instance, distinct between instances.
    expect(new Set(got.filter((e) => e.roomId === 'a').map((e) => e.epoch)).size).toBe(1);
    expect(got.find((e) => e.roomId === 'a')?.epoch).not.toBe(got.find((e) => e.roomId === 'b')?.epoch);
  });

  it('moves to the next API instance at once when one is down, and stays there', async () => {
    receiver.batches.length = 0;
    const gone = http.createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(gone.address() as { port: number }).port}`;
    await new Promise((resolve) => gone.close(resolve));
    const reporter = new MediaEventReporter({
      url: [deadUrl, receiver.url],
      secret: WEBHOOK_SECRET,
      node: 'node-a',
      logger: createLogger('silent'),
      retryBaseMs: 300_000,
      retryMaxMs: 300_000,
    });
    const room = {};
    const at = new Date().toISOString();
    reporter.report(room, { type: 'room_started', roomId: 'two-apis', at });
    // A backoff would take 150-300 s: delivery within the wait's deadline (30 s) means no backoff.
    await waitFor('the batch delivered to the live instance', () => (reporter.pending === 0 ? true : undefined), { timeoutMs: 30_000 });
    await reporter.idle();
    reporter.report(room, { type: 'room_finished', roomId: 'two-apis', at, reason: 'empty' });
    await reporter.idle();
    reporter.close();
    expect(events(receiver).map((e) => `${e.seq}:${e.type}`)).toEqual(['1:room_started', '2:room_finished']);
    // The second batch went straight to the live instance: one batch per send, none lost or repeated.
    expect(receiver.batches).toHaveLength(2);
  });

  it('gives a rebuilt instance of a room a later epoch and numbers it from 1 again', async () => {
    receiver.batches.length = 0;
    const reporter = new MediaEventReporter({ url: receiver.url, secret: WEBHOOK_SECRET, node: 'node-a', logger: createLogger('silent') });
    const at = new Date().toISOString();
    const before = {};
    const rebuilt = {};
    reporter.report(before, { type: 'room_started', roomId: 'r', at });
    reporter.report(before, { type: 'room_finished', roomId: 'r', at, reason: 'worker_died' });
    reporter.report(rebuilt, { type: 'room_started', roomId: 'r', at });
    await reporter.idle();
    reporter.close();
    const got = events(receiver);
    expect(got.map((e) => `${e.seq}:${e.type}`)).toEqual(['1:room_started', '2:room_finished', '1:room_started']);
    expect(got[2]!.epoch).toBeGreaterThan(got[0]!.epoch);
    expect(got[0]!.epoch).toBe(got[1]!.epoch);
  });

  it('keeps a bounded buffer while the API is down and never blocks the caller', async () => {
    receiver.batches.length = 0;
    const reporter = new MediaEventReporter({
      url: 'http://127.0.0.1:1',
      secret: WEBHOOK_SECRET,
      node: 'n',
      logger: createLogger('silent'),
      maxBuffered: 50,
      retryBaseMs: 10_000,
    });
    const room = {};
    // Never blocks: report() is synchronous (no promise to wait on) and 500 of them, with the API
    // unreachable, leave at most maxBuffered queued before any delivery attempt could finish. Not
    // a time bound: a loaded machine took over 100 ms for this loop.
    const results = Array.from({ length: 500 }, () => reporter.report(room, { type: 'track_stats', roomId: 'r', at: new Date().toISOString(), samples: [] }));
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(reporter.pending).toBeLessThanOrEqual(50);
    expect(reporter.dropped).toBeGreaterThan(0);
    reporter.close();
  });

  it('reports a real room: started, participant joined and left, finished', async () => {
    receiver.batches.length = 0;
    const server = await startMediaServer({ emptyRoomGraceMs: 0 });
    try {
      const token = roomToken({ secret: ROOM_SECRET, room: 'events-room', identity: 'alice' });
      const client = await TestSignalingClient.connect({ url: `ws://127.0.0.1:${server.port}/rtc`, token });
      await client.request('join', { rtpCapabilities: client.welcome.routerRtpCapabilities });
      await waitFor('participant_joined', () => events(receiver).some((e) => e.type === 'participant_joined'));
      await client.leave();
      await waitFor('room_finished', () => events(receiver).some((e) => e.type === 'room_finished'));
    } finally {
      await server.stop();
    }
    const got = events(receiver).filter((e) => e.roomId === 'events-room');
    expect(got.map((e) => e.type)).toEqual(['room_started', 'participant_joined', 'participant_left', 'room_finished']);
    expect(got.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(got[1]).toMatchObject({ identity: 'alice' });
    expect(got[2]).toMatchObject({ reason: 'left' });
    expect(got[3]).toMatchObject({ reason: 'empty' });
    expect(receiver.rejected).toEqual([]);
  });
});

/** A STUN Binding request as a controlling ICE agent nominating the pair (RFC 8445), short-term credentials. */
function stunBindingRequest(serverUfrag: string, serverPassword: string): Buffer {
  const attr = (type: number, value: Buffer): Buffer => {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(type, 0);
    head.writeUInt16BE(value.length, 2);
    return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
  };
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(0x6e7f1eff, 0);
  let body = Buffer.concat([
    attr(0x0006, Buffer.from(`${serverUfrag}:client`)),
    attr(0x0024, priority),
    attr(0x802a, randomBytes(8)),
    attr(0x0025, Buffer.alloc(0)),
  ]);
  const header = (length: number): Buffer => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(0x0001, 0);
    h.writeUInt16BE(length, 2);
    h.writeUInt32BE(0x2112a442, 4);
    transactionId.copy(h, 8);
    return h;
  };
  const transactionId = randomBytes(12);
  const integrity = createHmac('sha1', serverPassword)
    .update(Buffer.concat([header(body.length + 24), body]))
    .digest();
  body = Buffer.concat([body, attr(0x0008, integrity)]);
  const fingerprint = Buffer.alloc(4);
  fingerprint.writeUInt32BE((crc32(Buffer.concat([header(body.length + 8), body])) ^ 0x5354554e) >>> 0, 0);
  body = Buffer.concat([body, attr(0x8028, fingerprint)]);
  return Buffer.concat([header(body.length), body]);
}

/** Sends Binding requests from a new UDP port (as a new ICE generation does) until the server answers with success. */
async function iceConnect(port: number, ice: { usernameFragment: string; password: string }): Promise<void> {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on('message', (message) => {
        if (message.readUInt16BE(0) === 0x0101) resolve(); // Binding success response
      });
      socket.on('error', reject);
      const send = (): void => socket.send(stunBindingRequest(ice.usernameFragment, ice.password), port, '127.0.0.1');
      send();
      const timer = setInterval(send, 200);
      socket.once('close', () => clearInterval(timer));
    });
  } finally {
    socket.close();
  }
}

describe('reconnections reported by a real media server', () => {
  const ROOM = 'reconnect-events-room';
  let server: MediaServer;
  const roomEvents = (identity: string): MediaEvent[] => events(receiver).filter((e) => e.roomId === ROOM && 'identity' in e && e.identity === identity);

  const connect = (identity: string, resume?: TestSignalingClient): Promise<TestSignalingClient> =>
    TestSignalingClient.connect({
      url: `ws://127.0.0.1:${server.port}/rtc`,
      token: roomToken({ secret: ROOM_SECRET, room: ROOM, identity }),
      ...(resume ? { resume: { participantId: resume.welcome.participantId, key: resume.welcome.resumeKey } } : {}),
    });

  beforeAll(async () => {
    server = await startMediaServer({ resumeGraceMs: 1500 });
  });
  afterAll(async () => server?.stop());

  it('a resumed signaling session is participant_reconnected (signaling) with the time the socket was gone; a session not resumed in the grace period left as disconnected', async () => {
    const alice = await connect('alice');
    await alice.request('join', { rtpCapabilities: alice.welcome.routerRtpCapabilities });
    await alice.terminate();
    const lostAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 400)); // the time away is what is measured
    const resumed = await connect('alice', alice);
    const awayMs = Date.now() - lostAt;
    expect(resumed.welcome.resumed).toBe(true);
    await waitFor('participant_reconnected', () => roomEvents('alice').some((e) => e.type === 'participant_reconnected'));
    const reconnected = roomEvents('alice').find((e) => e.type === 'participant_reconnected');
    console.log(
      `[media-events] socket away ${awayMs} ms (client side): reported offlineMs ${reconnected && 'offlineMs' in reconnected ? reconnected.offlineMs : '?'}`,
    );
    expect(reconnected).toMatchObject({ how: 'signaling', restarts: 0, participantId: alice.welcome.participantId });
    expect(reconnected && 'offlineMs' in reconnected && reconnected.offlineMs).toBeGreaterThanOrEqual(300);
    expect(reconnected && 'offlineMs' in reconnected && reconnected.offlineMs).toBeLessThanOrEqual(awayMs);

    await resumed.terminate(); // and never comes back
    await waitFor('participant_left', () => roomEvents('alice').some((e) => e.type === 'participant_left'));
    expect(roomEvents('alice').map((e) => e.type)).toEqual(['participant_joined', 'participant_reconnected', 'participant_left']);
    expect(roomEvents('alice').at(-1)).toMatchObject({ reason: 'disconnected' });
  });

  it('ICE restarts of one outage are one participant_reconnected (ice) once the new ICE generation connects; the restart right after a resume is not reported again', async () => {
    const bob = await connect('bob');
    await bob.request('join', { rtpCapabilities: bob.welcome.routerRtpCapabilities });
    const transport = (await bob.request('createTransport', { direction: 'recv' })) as unknown as {
      id: string;
      iceParameters: { usernameFragment: string; password: string };
      iceCandidates: { protocol: string; port: number }[];
    };
    const port = transport.iceCandidates.find((c) => c.protocol === 'udp')!.port;
    await iceConnect(port, transport.iceParameters);

    // Two restart attempts for one outage (the first never connected), then the path is back.
    const restart = async (client: TestSignalingClient): Promise<{ usernameFragment: string; password: string }> =>
      ((await client.request('restartIce', { transportId: transport.id })) as { iceParameters: { usernameFragment: string; password: string } }).iceParameters;
    await restart(bob);
    const second = await restart(bob);
    await iceConnect(port, second);
    await waitFor('participant_reconnected (ice)', () => roomEvents('bob').some((e) => e.type === 'participant_reconnected'));
    expect(roomEvents('bob').filter((e) => e.type === 'participant_reconnected')).toEqual([expect.objectContaining({ how: 'ice', restarts: 2 })]);

    // The socket drops; the resumed client restarts ICE at once, as the SDK does: one reconnection, signaling.
    await bob.terminate();
    const resumed = await connect('bob', bob);
    await iceConnect(port, await restart(resumed));
    await resumed.request('getStats', {}); // a round trip through the worker after its tuple change
    await resumed.request('leave', {});
    await waitFor('participant_left', () => roomEvents('bob').some((e) => e.type === 'participant_left'));
    expect(roomEvents('bob').map((e) => (e.type === 'participant_reconnected' ? `reconnected:${e.how}` : e.type))).toEqual([
      'participant_joined',
      'reconnected:ice',
      'reconnected:signaling',
      'participant_left',
    ]);
    expect(roomEvents('bob').at(-1)).toMatchObject({ reason: 'left' });
  });
});
