// The /events heartbeat both ways, over real sockets through a proxy whose links can go dead:
// the server drops a client that stopped answering (and presence follows), and the SDK replaces a
// link on which the server went silent, catching up on what it missed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AppEventMap, Presence, Session } from '@telemed/sdk';
// The browser client, from source: it runs in Node with `ws` as its WebSocket.
import { TelemedClient } from '../../../sdk/src/client/TelemedClient.js';
import { EventsCloseCode } from '../../../sdk/src/client/events.js';
import { DEMO_PASSWORD } from '../db/seed.js';
import { BlackholeProxy } from '../testing/blackhole-proxy.js';
import { EventsClient } from '../testing/events-client.js';
import { client, login, startTestApp, type TestApp } from '../testing/test-app.js';
import { waitFor } from '@telemed/test-kit';

const HEARTBEAT_MS = 500;

describe('/events heartbeat', () => {
  let t: TestApp;
  let proxy: BlackholeProxy;
  let alice: Session;
  let grey: Session;
  const sockets: EventsClient[] = [];
  const connect = (url: string, token: string): EventsClient => {
    const c = new EventsClient(url, token);
    sockets.push(c);
    return c;
  };
  const proxied = (): string => `http://127.0.0.1:${proxy.port}`;
  const counter = async (name: string, labels = ''): Promise<number> => {
    const res = await fetch(`${t.url}/metrics`);
    const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name}${labels} `));
    return Number(line?.split(' ')[1] ?? Number.NaN);
  };
  const presenceOf = async (userId: string): Promise<Presence['status']> =>
    (await client(t.url, grey.accessToken).get<{ items: Presence[] }>(`/api/presence?userIds=${userId}`)).body.items[0]!.status;

  beforeAll(async () => {
    t = await startTestApp('pglite', { eventsHeartbeatMs: HEARTBEAT_MS });
    [alice, grey] = await Promise.all([login(t.url, 'alice'), login(t.url, 'drgrey')]);
  });
  afterEach(async () => {
    // The proxy first: closing a socket on a dead link would wait for a close frame that never comes.
    await proxy?.close();
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });
  afterAll(async () => t?.close());

  it('announces its period and drops a client that stopped answering; presence stays online while another connection lives', async () => {
    proxy = await BlackholeProxy.start(t.app.port);
    const watcher = connect(t.url, grey.accessToken);
    await watcher.ready();
    const direct = connect(t.url, alice.accessToken);
    const viaProxy = connect(proxied(), alice.accessToken);
    expect((await viaProxy.ready()).heartbeatMs).toBe(HEARTBEAT_MS);
    await direct.ready();
    await waitFor('a ping frame', () => viaProxy.frames.some((f) => f.kind === 'ping') || undefined, { timeoutMs: 10 * HEARTBEAT_MS });
    await watcher.waitForEvent('presence.updated', (e) => e.payload.userId === alice.user.id && e.payload.status === 'online');
    const timeoutsBefore = await counter('telemed_api_events_heartbeat_timeouts_total');

    proxy.blackhole();
    await waitFor(
      'the server to drop the dead socket',
      async () => (await counter('telemed_api_events_heartbeat_timeouts_total')) > timeoutsBefore || undefined,
      { timeoutMs: 30_000 },
    );
    expect(await counter('telemed_api_events_sockets_closed_total', '{reason="heartbeat_timeout"}')).toBeGreaterThanOrEqual(1);
    expect(await presenceOf(alice.user.id)).toBe('online');
    expect(direct.socket.readyState).toBe(WebSocket.OPEN);

    await direct.close();
    await watcher.waitForEvent('presence.updated', (e) => e.payload.userId === alice.user.id && e.payload.status === 'offline');
    expect(await counter('telemed_api_events_sockets_closed_total', '{reason="client_closed"}')).toBeGreaterThanOrEqual(1);
  });

  it('takes the user offline within 30 s when their only connection dies silently', async () => {
    proxy = await BlackholeProxy.start(t.app.port);
    const watcher = connect(t.url, grey.accessToken);
    await watcher.ready();
    const only = connect(proxied(), alice.accessToken);
    await only.ready();
    await watcher.waitForEvent('presence.updated', (e) => e.payload.userId === alice.user.id && e.payload.status === 'online');
    const seen = watcher.events.length;
    const died = Date.now();
    proxy.blackhole();
    await waitFor(
      'alice offline',
      () => watcher.events.slice(seen).find((e) => e.type === 'presence.updated' && e.payload.userId === alice.user.id && e.payload.status === 'offline'),
      { timeoutMs: 30_000 },
    );
    const detectedMs = Date.now() - died;
    console.log(`dead /events socket: presence offline ${detectedMs} ms after the link died (heartbeat ${HEARTBEAT_MS} ms)`);
    expect(detectedMs).toBeLessThan(30_000);
  });

  it('keeps a client that answers only the ping frames (as a browser can), drops one that answers nothing', async () => {
    const url = new URL('/events', t.url.replace(/^http/, 'ws'));
    url.searchParams.set('access_token', alice.accessToken);
    const open = (answer: boolean): { socket: WebSocket; pings: () => number } => {
      // autoPong off: the WebSocket-level pings go unanswered, as behind a proxy that eats them.
      const socket = new WebSocket(url, { autoPong: false });
      let pings = 0;
      socket.on('message', (data) => {
        if ((JSON.parse(data.toString()) as { kind: string }).kind !== 'ping') return;
        pings++;
        if (answer) socket.send(JSON.stringify({ kind: 'pong' }));
      });
      return { socket, pings: () => pings };
    };
    const answering = open(true);
    const silent = open(false);
    const closed = new Promise<number>((resolve) => silent.socket.once('close', (code) => resolve(code)));
    expect(await closed).toBe(1006); // terminated by the server
    await waitFor('four heartbeats', () => answering.pings() >= 4 || undefined, { timeoutMs: 20 * HEARTBEAT_MS });
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    answering.socket.close();
  });

  it('the SDK replaces a link on which the server went silent and catches up on what it missed', async () => {
    proxy = await BlackholeProxy.start(t.app.port);
    // The socket through the proxy; REST straight to the API (its pooled connections stay out of the blackhole).
    const doctor = new TelemedClient({
      baseUrl: proxied(),
      fetch: (input, init) => fetch(String(input).replace(proxied(), t.url), init),
      WebSocket: NoAutoPong as unknown as typeof globalThis.WebSocket,
      reconnectInitialDelayMs: 50,
    });
    try {
      await doctor.login('grey@doctors.demo', DEMO_PASSWORD);
      const received: AppEventMap['message.created'][] = [];
      doctor.on('message.created', (payload) => received.push(payload));
      const disconnects: { code: number; willReconnect: boolean }[] = [];
      doctor.on('eventsDisconnected', (info) => disconnects.push(info));
      let connects = 0;
      doctor.on('eventsConnected', () => connects++);
      doctor.connectEvents();
      await waitFor('connected', () => connects === 1 || undefined, { timeoutMs: 10_000 });
      // Answering only the frames (WebSocket pings unanswered), the SDK keeps its link for many beats.
      const timeoutsBefore = await counter('telemed_api_events_heartbeat_timeouts_total');
      await waitFor('four heartbeats', () => NoAutoPong.pingFrames >= 4 || undefined, { timeoutMs: 20 * HEARTBEAT_MS });
      expect(await counter('telemed_api_events_heartbeat_timeouts_total')).toBe(timeoutsBefore);
      expect(disconnects).toEqual([]);

      proxy.blackhole();
      const conversation = (
        await client(t.url, alice.accessToken).get<{ items: { id: string; members: { userId: string }[] }[] }>('/api/conversations')
      ).body.items.find((c) => c.members.some((m) => m.userId === grey.user.id))!;
      const body = `sent while the link was dead ${crypto.randomUUID()}`;
      expect(
        (await client(t.url, alice.accessToken).post(`/api/conversations/${conversation.id}/messages`, { clientId: crypto.randomUUID(), body })).status,
      ).toBe(201);

      await waitFor('the SDK to notice the dead link', () => disconnects.find((d) => d.code === EventsCloseCode.HeartbeatTimeout), { timeoutMs: 30_000 });
      expect(disconnects[0]).toEqual({ code: EventsCloseCode.HeartbeatTimeout, willReconnect: true });
      await waitFor('the SDK to reconnect by itself', () => connects >= 2 || undefined, { timeoutMs: 30_000 });
      await waitFor('the missed message, caught up', () => received.find((p) => p.message.body === body), { timeoutMs: 10_000 });
    } finally {
      doctor.disconnectEvents();
    }
  });
});

/** `ws` with WebSocket-level pongs off, like a link where only the application's frames count. */
class NoAutoPong extends WebSocket {
  static pingFrames = 0;
  constructor(url: string) {
    super(url, { autoPong: false });
    this.on('message', (data) => {
      if (String(data).includes('"kind":"ping"')) NoAutoPong.pingFrames++;
    });
  }
}
