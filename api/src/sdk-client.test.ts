import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
// The browser client, from source: it runs in Node with `ws` as its WebSocket.
import { TelemedClient } from '../../sdk/src/client/TelemedClient.js';
import { ApiRequestError } from '../../sdk/src/client/ApiRequestError.js';
import type { AppEventMap, Session } from '@telemed/sdk';
import { DEMO_PASSWORD } from './db/seed.js';
import { startTestApp, type TestApp } from './testing/test-app.js';
import { waitFor } from '@telemed/test-kit';

describe('TelemedClient against the real API', () => {
  let t: TestApp;
  const clients: TelemedClient[] = [];
  const make = (session: Session | null = null): TelemedClient => {
    const c = new TelemedClient({ baseUrl: t.url, session, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket, reconnectInitialDelayMs: 50 });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    t = await startTestApp('postgres');
  });
  afterAll(async () => {
    for (const c of clients) c.disconnectEvents();
    await t?.close();
  });

  it('logs in, calls, messages and receives realtime events with catch-up after a dropped connection', async () => {
    const patient = make();
    const doctor = make();
    await patient.login('alice@patients.demo', DEMO_PASSWORD);
    await doctor.login('grey@doctors.demo', DEMO_PASSWORD);
    const [grey] = await patient.contacts();
    expect(grey?.role).toBe('doctor');

    const received: Array<AppEventMap['message.created']> = [];
    doctor.on('message.created', (payload) => received.push(payload));
    const rings: string[] = [];
    doctor.on('call.ringing', ({ call }) => rings.push(call.id));
    const connected = new Promise((resolve) => doctor.once('eventsConnected', resolve));
    doctor.connectEvents();
    await connected;

    const call = await patient.startCall({ type: 'video', inviteeIds: [grey!.id] });
    await waitFor('ringing', () => rings.includes(call.id) || undefined, { timeoutMs: 5000 });
    const { access } = await doctor.acceptCall(call.id);
    expect(access.room).toBe(call.id);
    await patient.endCall(call.id);
    expect((await patient.listCalls({ status: 'ended' })).items.map((c) => c.id)).toContain(call.id);

    const conversation = (await patient.listConversations()).items.find((c) => c.members.some((m) => m.userId === grey!.id))!;
    const clientId = crypto.randomUUID();
    const sent = await patient.sendMessage(conversation.id, 'hello from the SDK', { clientId });
    expect(await patient.sendMessage(conversation.id, 'hello from the SDK', { clientId })).toEqual(sent);
    await waitFor('message.created', () => received.find((p) => p.message.id === sent.id), { timeoutMs: 5000 });

    // A proxy's 502 after the instance stored the message (it went away before answering): the
    // send is retried with the same client id and the message is stored once.
    let gatewayErrors = 0;
    const throughDyingInstance: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method !== 'POST' || gatewayErrors > 0) return res;
      gatewayErrors++;
      return new Response('', { status: 502 });
    };
    const viaProxy = new TelemedClient({ baseUrl: t.url, session: patient.session, fetch: throughDyingInstance });
    const retried = await viaProxy.sendMessage(conversation.id, 'stored before the 502');
    expect(gatewayErrors).toBe(1);
    const stored = (await patient.listMessages(conversation.id, { limit: 10 })).items.filter((m) => m.body === 'stored before the 502');
    expect(stored.map((m) => m.id)).toEqual([retried.id]);

    // The API restarts: the socket drops, messages arrive meanwhile (through another instance on
    // the same database), and the client reconnects by itself and replays them from its cursor.
    const port = t.app.port;
    const databaseUrl = t.app.config.databaseUrl!;
    const cursor = doctor.eventsCursor!;
    const dropped = new Promise((resolve) => doctor.once('eventsDisconnected', resolve));
    await t.close();
    await dropped;
    const other = await startTestApp('postgres', { databaseUrl });
    try {
      const patientThere = new TelemedClient({ baseUrl: other.url, session: patient.session });
      for (const body of ['while you were away 1', 'while you were away 2']) await patientThere.sendMessage(conversation.id, body);
    } finally {
      await other.close();
    }
    const reconnected = new Promise<{ cursor: number }>((resolve) => doctor.once('eventsConnected', resolve));
    t = await startTestApp('postgres', { databaseUrl, port });
    const info = await reconnected;
    expect(info.cursor).toBeGreaterThan(cursor);
    const bodies = received.map((p) => p.message.body);
    expect(bodies.slice(-2)).toEqual(['while you were away 1', 'while you were away 2']);
    // the reconnect refreshed the (rotating) session, and REST calls keep working
    expect((await doctor.me()).email).toBe('grey@doctors.demo');
    await patient.logout();
    const error = await patient.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });
});
