// Two API instances on one PostgreSQL database and one Redis, behind Caddy with the deployment's
// Caddyfile (round robin, no sticky sessions), one media node. Two users of the public SDK's API
// client (in Node, with `ws`) through the proxy, /events open, in an accepted call:
// - a ringing call that nobody answers is missed once (one call.missed each) with two sweepers;
// - they message each other while one API instance is killed (-9): every send resolves (the SDK
//   resends after a 502 with the same client id), each message is stored once and reaches the
//   other user's /events; the call stays active and its access is still handed out.
// No browser: the call's media does not go through the API (span.test covers media under failures).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TelemedClient, type Message } from '@telemed/sdk';
import { startCluster, type Cluster } from './cluster.js';
import { waitFor } from '@telemed/test-kit';

/** A signed-in user of the SDK's API client with /events open, and what those events brought. */
interface SignedIn {
  client: TelemedClient;
  id: string;
  messages: Message[];
  missed: string[];
}

describe('two API instances behind Caddy', () => {
  let cluster: Cluster;
  const users: SignedIn[] = [];

  // CALL_TIMEOUT: a ringing call times out within the test (both instances sweep every 0.5 s).
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, apiInstances: 2, apiEnv: { CALL_TIMEOUT: '2' } });
  });
  afterAll(async () => {
    for (const user of users) user.client.disconnectEvents();
    await cluster?.stop();
  });

  async function signIn(email: string): Promise<SignedIn> {
    const client = new TelemedClient({ baseUrl: cluster.apiUrl, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket, reconnectInitialDelayMs: 100 });
    await client.login(email, 'telemed-demo');
    const user: SignedIn = { client, id: (await client.me()).id, messages: [], missed: [] };
    client.on('message.created', ({ message }) => user.messages.push(message));
    client.on('call.missed', ({ call }) => user.missed.push(call.id));
    const connected = new Promise((resolve) => client.once('eventsConnected', resolve));
    client.connectEvents();
    await connected;
    users.push(user);
    return user;
  }

  it('one instance is killed during a call and messaging: every message is stored once and reaches the other user; one sweeper acts on a ring timeout', async () => {
    const [alice, grey] = [await signIn('alice@patients.demo'), await signIn('grey@doctors.demo')];

    const ringing = await alice.client.startCall({ type: 'video', inviteeIds: [grey.id] });
    await waitFor('the unanswered call missed', async () => ((await alice.client.getCall(ringing.id)).status === 'missed' ? true : undefined), {
      timeoutMs: 60_000,
    });
    const call = await alice.client.startCall({ type: 'video', inviteeIds: [grey.id] });
    await grey.client.acceptCall(call.id);

    const conversationId = (await alice.client.listConversations()).items.find((c) => c.kind === 'direct' && c.members.some((m) => m.userId === grey.id))!.id;
    // Both users send at once, 25 messages each, one after another: sends on the two instances
    // store events for the same users in concurrent transactions.
    const COUNT = 25;
    const sent = [0, 0];
    const failures: string[] = [];
    const started = Date.now();
    const sending = Promise.all(
      [alice, grey].map(async (user, k) => {
        const name = ['alice', 'grey'][k]!;
        for (let i = 0; i < COUNT; i++) {
          await user.client.sendMessage(conversationId, `${name} ${i}`, { retries: 6 }).then(
            () => sent[k]!++,
            (error: Error) => failures.push(`${name} ${i}: ${error.message}`),
          );
        }
      }),
    );
    await waitFor('a few messages sent before the stop', () => (sent.every((n) => n >= 5) ? true : undefined), { timeoutMs: 60_000, intervalMs: 5 });
    const stopped = cluster.apis[1]!;
    stopped.process().kill('SIGKILL');
    const before = sent.join(' + ');
    await sending;
    console.log(`[api-instances] instance 2 killed after ${before} sends; ${2 * COUNT} sends took ${Date.now() - started} ms`);
    expect(failures).toEqual([]);
    expect(
      await fetch(`${stopped.url}/health`).then(
        () => 'up',
        () => 'down',
      ),
    ).toBe('down');

    // Stored once each, and every one of the other's messages reached each user's /events.
    const stored = (await alice.client.listMessages(conversationId, { limit: 200 })).items.map((m) => m.body);
    for (const [prefix, other] of [
      ['alice', grey],
      ['grey', alice],
    ] as const) {
      const bodies = Array.from({ length: COUNT }, (_, i) => `${prefix} ${i}`);
      expect(stored.filter((b) => bodies.includes(b)).sort()).toEqual([...bodies].sort());
      await waitFor(
        `${prefix}'s messages on the other user's /events`,
        () => (bodies.every((b) => other.messages.some((m) => m.body === b)) ? true : undefined),
        { timeoutMs: 30_000 },
      );
      const delivered = other.messages.filter((m) => bodies.includes(m.body)).map((m) => m.id);
      expect(new Set(delivered).size).toBe(delivered.length);
    }
    // The ring timeout was acted on once: one call.missed each.
    expect([alice.missed, grey.missed]).toEqual([[ringing.id], [ringing.id]]);
    // The call goes on: still active, and its access (token and node) still handed out through the proxy.
    expect((await alice.client.getCall(call.id)).status).toBe('active');
    expect((await grey.client.callToken(call.id)).url).toBe(cluster.nodes[0]!.url);
  });
});
