// The signaling front against a real mediasoup worker: refusals, malformed input, and a server
// that keeps answering whatever it is sent.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { RoomGrants, ServerMessage } from '@telemed/sdk/protocol';
import { MediaServer } from '../MediaServer.js';
import { roomToken, TestSignalingClient } from '@telemed/test-kit';

const SECRET = 'signaling-test-secret-0123456789';
let server: MediaServer;
let url: string;

const token = (identity: string, grants: Partial<RoomGrants> = {}): string => roomToken({ secret: SECRET, room: 'fuzz', identity, grants });

const connect = (identity: string, grants: Partial<RoomGrants> = {}): Promise<TestSignalingClient> => TestSignalingClient.connect({ url, token: token(identity, grants) });

const responseTo = (id: number | null) => (m: ServerMessage): boolean => m.type === 'response' && m.id === id;

beforeAll(async () => {
  server = new MediaServer({ port: 0, numWorkers: 1, rtcBasePort: 45000 + Math.floor(Math.random() * 5000), roomTokenSecret: SECRET, logLevel: 'silent' });
  await server.start();
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
    client.socket.send(JSON.stringify({ type: 'request', id: 11, method: 'produce', data: { transportId: 'x', kind: 'video', source: 'camera', rtpParameters: {} } }));
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

  it('survives random garbage and still serves a new participant', async () => {
    const client = await connect('fuzzer');
    const junk = [
      'null', '[]', '42', '"str"', '{}', '{"type":"request","id":-1,"method":"join"}',
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
    const closed = new Promise<{ code: number; reason: string }>((resolve) => client.socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    client.socket.send(JSON.stringify({ type: 'request', id: 1, method: 'leave', data: {} }));
    expect(await client.take(responseTo(1))).toMatchObject({ ok: true });
    expect(await closed).toEqual({ code: 1000, reason: 'LEFT' });
  });

  it('closes a connection whose token is invalid with 4401', async () => {
    const socket = new WebSocket(`${url}?token=garbage`);
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
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

describe('the HTTP edge', () => {
  it('answers targets that are no URL path, unknown upgrade paths and unparsable requests in the error shape', async () => {
    for (const target of ['//[', '/%', '/rooms/%E0%A4%A/stats']) {
      const answer = await raw(`GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1.1 400 /);
      expect(errorOf(answer)).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
    const upgrade = await raw('GET /nope HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
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

