// joinWithRetry over the SDK's real SignalClient and a real WebSocket server on loopback that answers
// the way a slow or refusing media server does.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws';
import { ConnectionError } from '../errors.js';
import { joinWithRetry } from './join-retry.js';
import { isTerminal } from './Reconnector.js';
import { CloseCode } from '../protocol/errors.js';
import type { ServerNotifications } from '../protocol/messages.js';
import { SignalClient } from './SignalClient.js';

// Node 20 has no global WebSocket (the SDK's runtime, the browser, has).
globalThis.WebSocket ??= NodeWebSocket as unknown as typeof WebSocket;

const welcome: ServerNotifications['welcome'] = {
  participantId: 'p1',
  identity: 'ann',
  name: 'Ann',
  roomId: 'room',
  routerRtpCapabilities: {},
  resumeKey: 'k',
  resumed: false,
  grants: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false },
};

/** A server that treats its n-th socket (1-based) as `behaviour(n)` says. */
type Behaviour = 'silent' | 'welcome' | 'refuse' | 'removed';

async function server(behaviour: (n: number) => Behaviour): Promise<{ url: string; sockets: () => number; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  let count = 0;
  wss.on('connection', (socket) => {
    const what = behaviour(++count);
    if (what === 'welcome') socket.send(JSON.stringify({ type: 'notification', method: 'welcome', data: welcome }));
    else if (what === 'refuse') socket.close(CloseCode.Refused, 'ROOM_FULL');
    else if (what === 'removed') socket.close(CloseCode.Removed, 'REMOVED');
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/rtc`,
    sockets: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

const retry = { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 };

describe('joinWithRetry', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0)) await step();
  });

  async function setUp(behaviour: (n: number) => Behaviour) {
    const srv = await server(behaviour);
    const signal = new SignalClient({ timeoutMs: 300 });
    cleanup.push(() => signal.close(), srv.close);
    return { srv, join: () => signal.connect(srv.url, 'token') };
  }

  it('joins on a later attempt after the server did not answer the first', async () => {
    const { srv, join } = await setUp((n) => (n === 1 ? 'silent' : 'welcome'));
    let resets = 0;
    const got = await joinWithRetry(join, { ...retry, reset: () => resets++ });
    expect(got.participantId).toBe('p1');
    expect(srv.sockets()).toBe(2);
    expect(resets).toBe(1);
  });

  it('gives up after the configured attempts with a typed timeout error', async () => {
    const { srv, join } = await setUp(() => 'silent');
    const error = await joinWithRetry(join, retry).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: 'TIMEOUT', reason: 'timeout' });
    expect((error as Error).message).toContain('3 attempts');
    expect((error as Error).cause).toMatchObject({ code: 'TIMEOUT' });
    expect(srv.sockets()).toBe(3);
  });

  it('does not retry a refusal', async () => {
    const { srv, join } = await setUp(() => 'refuse');
    await expect(joinWithRetry(join, retry)).rejects.toMatchObject({ code: 'CONNECTION_REFUSED', serverCode: 'ROOM_FULL' });
    expect(srv.sockets()).toBe(1);
  });

  it('does not retry a participant removed from the room: a typed removed reason, terminal for the reconnector', async () => {
    const { srv, join } = await setUp(() => 'removed');
    const error = await joinWithRetry(join, retry).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: 'CONNECTION_CLOSED', reason: 'removed', serverCode: 'REMOVED', closeCode: CloseCode.Removed });
    expect((error as Error).message).toBe('removed from the room (4409 REMOVED)');
    expect(isTerminal(error)).toBe(true);
    expect(srv.sockets()).toBe(1);
  });

  it('stops when the caller no longer wants the join', async () => {
    const { srv, join } = await setUp(() => 'silent');
    await expect(joinWithRetry(join, { ...retry, stillWanted: () => false })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(srv.sockets()).toBe(1);
  });
});
