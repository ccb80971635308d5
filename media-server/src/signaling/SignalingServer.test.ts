// The signaling front against a real mediasoup worker: refusals, malformed input, and a server
// that keeps answering whatever it is sent.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { RoomGrants, ServerMessage } from '@telemed/sdk/protocol';
import type { MediaServer } from '../MediaServer.js';
import { startTestMediaServer } from '../testing/media-server.js';
import { BOT_SIGNALING, roomToken, TestSignalingClient, waitFor, type SignalingFailure } from '@telemed/test-kit';

const SECRET = 'signaling-test-secret-0123456789';
const SERVICE = 'signaling-test-service-secret-0123';
let server: MediaServer;
let url: string;

const token = (identity: string, grants: Partial<RoomGrants> = {}, room = 'fuzz'): string => roomToken({ secret: SECRET, room, identity, grants });

const connect = (identity: string, grants: Partial<RoomGrants> = {}, signed = token(identity, grants)): Promise<TestSignalingClient> =>
  TestSignalingClient.connect({ url, token: signed });

const responseTo =
  (id: number | null) =>
  (m: ServerMessage): boolean =>
    m.type === 'response' && m.id === id;

beforeAll(async () => {
  server = await startTestMediaServer({ roomTokenSecret: SECRET, serviceSecret: SERVICE });
  url = `ws://127.0.0.1:${server.port}/rtc`;
});

afterAll(async () => {
  await server?.stop();
});

describe('signaling', () => {
  it('answers malformed JSON, bad envelopes, unknown methods and bad data with typed errors', async () => {
    const client = await connect('alice');
    client.socket.send('{not json');
    expect(await client.take(responseTo(null))).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
    client.socket.send(JSON.stringify({ type: 'request', id: 7 }));
    expect(await client.take(responseTo(7))).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
    client.socket.send(JSON.stringify({ type: 'request', id: 8, method: 'dropDatabase', data: {} }));
    expect(await client.take(responseTo(8))).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    client.socket.send(JSON.stringify({ type: 'request', id: 9, method: 'createTransport', data: { direction: 'sideways' } }));
    expect(await client.take(responseTo(9))).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    client.socket.send(JSON.stringify({ type: 'request', id: 10, method: 'resumeConsumer', data: { consumerId: 'nope' } }));
    expect(await client.take(responseTo(10))).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    client.socket.send(
      JSON.stringify({ type: 'request', id: 11, method: 'produce', data: { transportId: 'x', kind: 'video', source: 'camera', rtpParameters: {} } }),
    );
    expect(await client.take(responseTo(11))).toMatchObject({ ok: false, error: { code: 'INVALID_STATE' } });
    client.socket.close();
  });

  it('refuses what the token does not grant', async () => {
    const viewer = await connect('viewer', { canPublish: false, canPublishData: false });
    viewer.socket.send(JSON.stringify({ type: 'request', id: 1, method: 'createTransport', data: { direction: 'send' } }));
    expect(await viewer.take(responseTo(1))).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    viewer.socket.send(JSON.stringify({ type: 'request', id: 2, method: 'createTransport', data: { direction: 'recv' } }));
    expect(await viewer.take(responseTo(2))).toMatchObject({ ok: true });
    viewer.socket.close();
  });

  it("relays a participant's own quality grade to the others and to later joiners, and refuses an unknown grade", async () => {
    const caps = { rtpCapabilities: { codecs: [], headerExtensions: [] } as never };
    const ann = await connect('ann', {}, token('ann', {}, 'quality'));
    const bob = await connect('bob', {}, token('bob', {}, 'quality'));
    await ann.request('join', caps);
    await bob.request('join', caps);
    expect(await ann.failure('reportConnectionQuality', { quality: 'awful' as never })).toMatchObject({ code: 'BAD_REQUEST' });
    await ann.request('reportConnectionQuality', { quality: 'poor' });
    expect(await bob.nextNotification('participantQuality')).toMatchObject({ quality: 'poor' });
    const carl = await connect('carl', {}, token('carl', {}, 'quality'));
    const { participants } = await carl.request('join', caps);
    expect(participants.find((p) => p.identity === 'ann')?.connectionQuality).toBe('poor');
    for (const client of [ann, bob, carl]) client.socket.close();
  });

  it('survives random garbage and still serves a new participant', async () => {
    const client = await connect('fuzzer');
    const junk = [
      'null',
      '[]',
      '42',
      '"str"',
      '{}',
      '{"type":"request","id":-1,"method":"join"}',
      '{"type":"request","id":1.5,"method":"join","data":{}}',
      JSON.stringify({ type: 'request', id: 3, method: 'join', data: { rtpCapabilities: 'nope' } }),
      JSON.stringify({ type: 'request', id: 4, method: 'connectTransport', data: { transportId: 'a'.repeat(1000), dtlsParameters: {} } }),
      JSON.stringify({ type: 'request', id: 5, method: '__proto__', data: {} }),
      JSON.stringify({ type: 'request', id: 6, method: 'constructor', data: {} }),
    ];
    for (let i = 0; i < 30; i++) {
      const bytes = Array.from({ length: 1 + Math.floor(Math.random() * 200) }, () => Math.floor(Math.random() * 256));
      junk.push(Buffer.from(bytes).toString('latin1'));
    }
    for (const message of junk) client.socket.send(message);
    client.socket.send(JSON.stringify({ type: 'request', id: 99, method: 'getStats', data: {} }));
    expect(await client.take(responseTo(99))).toMatchObject({ ok: true, data: { roomId: 'fuzz' } });
    const other = await connect('after-fuzz');
    other.socket.send(JSON.stringify({ type: 'request', id: 1, method: 'createTransport', data: { direction: 'recv' } }));
    expect(await other.take(responseTo(1))).toMatchObject({ ok: true });
    client.socket.close();
    other.socket.close();
  });

  it('answers leave before closing the socket with 1000 LEFT', async () => {
    const client = await connect('leaver');
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      client.socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    client.socket.send(JSON.stringify({ type: 'request', id: 1, method: 'leave', data: {} }));
    expect(await client.take(responseTo(1))).toMatchObject({ ok: true });
    expect(await closed).toEqual({ code: 1000, reason: 'LEFT' });
  });

  it('closes a connection whose token is invalid with 4401', async () => {
    const socket = new WebSocket(`${url}?token=garbage`);
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(closed).toEqual({ code: 4401, reason: 'UNAUTHORIZED' });
  });
});

/** Writes raw bytes and reads until the server closes the connection. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** The JSON body of an answer (plain or in one chunk). */
const errorOf = (answer: string): unknown => JSON.parse(answer.slice(answer.indexOf('{'), answer.lastIndexOf('}') + 1)) as unknown;

const closeOf = (socket: WebSocket): Promise<{ code: number; reason: string }> =>
  new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

describe('revoking an identity (a disabled account)', () => {
  it('removes its sessions in every room and refuses its earlier room tokens; others and later tokens go on', async () => {
    const revoke = (identity: string, secret = SERVICE) =>
      fetch(`http://127.0.0.1:${server.port}/identities/${identity}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${secret}` } });
    const inA = await connect('dana', {}, token('dana', {}, 'room-a'));
    const inB = await connect('dana', {}, token('dana', {}, 'room-b'));
    const bystander = await connect('erin', {}, token('erin', {}, 'room-a'));
    const closes = [closeOf(inA.socket), closeOf(inB.socket)];
    // Issued before the revocation, as a participant's token is. (Minted after it, it could fall in a
    // later second than the revocation and rightly admit her: the test then hung for 120 s.)
    const held = token('dana', {}, 'room-a');
    expect((await revoke('dana', 'not-the-service-secret')).status).toBe(401);
    const res = await revoke('dana');
    const revokedAt = Math.floor(Date.now() / 1000);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ closed: 2 });
    expect(await Promise.all(closes)).toEqual([
      { code: 4409, reason: 'REMOVED' },
      { code: 4409, reason: 'REMOVED' },
    ]);
    expect(bystander.socket.readyState).toBe(WebSocket.OPEN);

    // The room token it still holds no longer admits it.
    const again = new WebSocket(`${url}?token=${held}`);
    expect(await closeOf(again)).toEqual({ code: 4401, reason: 'UNAUTHORIZED' });
    // One issued after the revocation (re-enabled, a new call) does.
    // Token times are in seconds: one issued in a later second than the revocation.
    await waitFor('the next second', () => Math.floor(Date.now() / 1000) > revokedAt);
    const later = await connect('dana', {}, token('dana', {}, 'room-a'));
    expect(later.socket.readyState).toBe(WebSocket.OPEN);
    later.socket.close();
    bystander.socket.close();
  });
});

describe('the HTTP edge', () => {
  it('answers targets that are no URL path, unknown upgrade paths and unparsable requests in the error shape', async () => {
    for (const target of ['//[', '/%', '/rooms/%E0%A4%A/stats']) {
      const answer = await raw(`GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1.1 400 /);
      expect(errorOf(answer)).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
    const upgrade = await raw(
      'GET /nope HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(upgrade).toMatch(/^HTTP\/1.1 404 /);
    expect(errorOf(upgrade)).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const overflow = await raw(`GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(overflow).toMatch(/^HTTP\/1.1 431 /);
    expect(errorOf(overflow)).toMatchObject({ error: { code: 'HEADERS_TOO_LARGE' } });
    expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
  });

  it('closes a connection that sends invalid UTF-8 with 1007 and keeps serving', async () => {
    const client = await connect('bad-utf8');
    const closed = new Promise<number>((resolve) => client.socket.on('close', (code) => resolve(code)));
    // ws skips its own UTF-8 check when sending a Buffer as text.
    client.socket.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    expect(await closed).toBe(1007);
    const other = await connect('after-bad-utf8');
    other.socket.close();
  });
});

describe("the bots' signaling client against the rate limit", () => {
  it('paced with BOT_SIGNALING every request is answered; an unpaced burst gets id-less RATE_LIMITED and its unanswered requests reject with CLOSED', async () => {
    const unmatched: SignalingFailure[] = [];
    const paced = await TestSignalingClient.connect({ url, token: token('paced-bot'), ...BOT_SIGNALING, onUnmatchedFailure: (f) => unmatched.push(f) });
    const answers = await Promise.all(Array.from({ length: 100 }, () => paced.failure('resumeConsumer', { consumerId: 'nope' })));
    expect(answers.map((a) => a.code)).toEqual(Array(100).fill('NOT_FOUND'));
    expect(unmatched).toEqual([]);
    await paced.leave();

    const burst = await TestSignalingClient.connect({ url, token: token('burst-bot'), keepMessages: false, onUnmatchedFailure: (f) => unmatched.push(f) });
    let answered = 0;
    const outcomes = Array.from({ length: 150 }, () =>
      burst.failure('resumeConsumer', { consumerId: 'nope' }).then((failure) => {
        answered++;
        return failure;
      }),
    );
    // Every request answered, with its id or without one; then the id-less ones can only end with the socket.
    await waitFor('an answer to every request', () => answered + unmatched.length === 150);
    expect(unmatched.length).toBeGreaterThan(0);
    expect(unmatched.every((f) => f.code === 'RATE_LIMITED')).toBe(true);
    await burst.close();
    const codes = (await Promise.all(outcomes)).map((a) => a.code);
    expect(codes.filter((c) => c === 'CLOSED').length).toBe(unmatched.length);
    expect(codes.filter((c) => c !== 'CLOSED').every((c) => c === 'NOT_FOUND')).toBe(true);
  });
});
