// Session lifecycle against a real worker: resume with the session key (and only with it),
// notifications buffered while the client is away, room limits and the maximum call duration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ServerMessage, ServerNotifications } from '@telemed/sdk/protocol';
import { MediaServer } from '../MediaServer.js';
import { roomToken } from '@telemed/test-kit';

const SECRET = 'lifecycle-test-secret-0123456789';
let server: MediaServer;
let base: string;

const token = (room: string, identity: string, roomAdmin = false): string => roomToken({ secret: SECRET, room, identity, grants: { roomAdmin } });

interface Client {
  socket: WebSocket;
  messages: ServerMessage[];
  welcome: ServerNotifications['welcome'];
  closed: Promise<{ code: number; reason: string }>;
  request: (id: number, method: string, data: unknown) => Promise<ServerMessage>;
}

async function open(query: string): Promise<Client> {
  const socket = new WebSocket(`${base}?${query}`);
  const messages: ServerMessage[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const welcome = await new Promise<ServerNotifications['welcome']>((resolve, reject) => {
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as ServerMessage;
      messages.push(message);
      if (message.type === 'notification' && message.method === 'welcome') resolve(message.data as ServerNotifications['welcome']);
    });
    void closed.then(({ code, reason }) => reject(new Error(`closed ${code} ${reason}`)));
  });
  const request = async (id: number, method: string, data: unknown): Promise<ServerMessage> => {
    socket.send(JSON.stringify({ type: 'request', id, method, data }));
    for (;;) {
      const found = messages.find((m) => m.type === 'response' && m.id === id);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { socket, messages, welcome, closed, request };
}

const join = async (client: Client): Promise<void> => {
  const response = await client.request(1, 'join', { rtpCapabilities: client.welcome.routerRtpCapabilities });
  expect(response).toMatchObject({ ok: true });
};

beforeAll(async () => {
  server = new MediaServer({
    port: 0, numWorkers: 1, rtcBasePort: 45000 + Math.floor(Math.random() * 5000), roomTokenSecret: SECRET, logLevel: 'silent',
    maxParticipantsPerRoom: 2, maxCallDurationSec: 2, resumeGraceMs: 5000,
  });
  await server.start();
  base = `ws://127.0.0.1:${server.port}/rtc`;
});

afterAll(async () => {
  await server?.stop();
});

describe('signaling sessions', () => {
  it('resumes a dropped session with its key, delivering what was sent meanwhile; a wrong key gets a new session', async () => {
    const alice = await open(`token=${token('resume', 'alice')}`);
    await join(alice);
    alice.socket.terminate();
    await alice.closed;
    // While alice is away, bob joins: alice's session is told.
    const bob = await open(`token=${token('resume', 'bob')}`);
    await join(bob);
    const forged = await open(`token=${token('resume', 'alice')}&resume=${alice.welcome.participantId}&key=${'x'.repeat(alice.welcome.resumeKey.length)}`);
    expect(forged.welcome.resumed).toBe(false);
    expect(forged.welcome.participantId).not.toBe(alice.welcome.participantId);
    forged.socket.close();
    await forged.closed;
    bob.socket.close();
    await bob.closed;

    const carol = await open(`token=${token('resume2', 'carol')}`);
    await join(carol);
    carol.socket.terminate();
    await carol.closed;
    const dave = await open(`token=${token('resume2', 'dave')}`);
    await join(dave);
    const back = await open(`token=${token('resume2', 'carol')}&resume=${carol.welcome.participantId}&key=${carol.welcome.resumeKey}`);
    expect(back.welcome).toMatchObject({ resumed: true, participantId: carol.welcome.participantId });
    await expect.poll(() => back.messages.some((m) => m.type === 'notification' && m.method === 'participantJoined')).toBe(true);
    back.socket.close();
    dave.socket.close();
    await Promise.all([back.closed, dave.closed]);
  });

  it('refuses a participant beyond the room maximum with ROOM_FULL', async () => {
    const a = await open(`token=${token('full', 'a')}`);
    const b = await open(`token=${token('full', 'b')}`);
    const socket = new WebSocket(`${base}?token=${token('full', 'c')}`);
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    expect(closed).toEqual({ code: 4403, reason: 'ROOM_FULL' });
    a.socket.close();
    b.socket.close();
  });

  it('ends a call at its maximum duration with 4413 MAX_DURATION', async () => {
    const a = await open(`token=${token('short', 'a')}`);
    await join(a);
    expect(await a.closed).toEqual({ code: 4413, reason: 'MAX_DURATION' });
  });
});
