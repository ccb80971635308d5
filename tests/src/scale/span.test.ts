// A room spanning two media nodes: two nodes on their own loopback addresses with a small capacity
// (MEDIA_NODE_CAPACITY=4 consumers), a real redis-server, two API instances on one PostgreSQL
// database behind Caddy (the deployment's Caddyfile: round robin, no sticky sessions), real
// Chromium (one browser, a context per participant) through the public SDK. The first two participants fill the room's node; the API sends the next two to the second
// node, and the nodes link their routers with PipeTransports (SRTP + RTX) negotiated over Redis
// pub/sub:
// - every participant decodes every other's video and audio; the nodes' service API shows the
//   pipe carrying bytes both ways;
// - a camera closed on one node disappears on the other;
// - two users (the SDK's API client through Caddy) message each other while one API instance is
//   killed: every send resolves, each message is stored once and reaches the other user's /events; a ringing call's
//   timeout is acted on once with two sweepers;
// - Redis killed (-9) and restarted under the call: media goes on, a new room gets the documented
//   fallback (MEDIA_PUBLIC_URL), the nodes register again and the link survives;
// - kill -9 of the second node (placement and the registry working again after the Redis restart):
//   its participants come back on the first (the access refresher) and everyone decodes everyone
//   again; the first node drops the dead node's participants.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TelemedClient, type Message } from '@telemed/sdk';
import type * as Sdk from '@telemed/sdk';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';
import { waitForFreshMedia } from '../calls/harness.js';
import { serveSdkBundle, sdkPage, type SdkSite } from '../calls/sdk-site.js';
import { placeDevRoom, startCluster, type Cluster, type MediaNode } from './cluster.js';
import { waitFor } from '@telemed/test-kit';

type PageWindow = Window & { sdk: typeof Sdk; telemed: { room: Sdk.Room; url: string; chat: string[] } };

/** A signed-in user of the SDK's API client with /events open, and what those events brought. */
interface SignedIn {
  client: TelemedClient;
  id: string;
  messages: Message[];
  missed: string[];
}

const ROOM = 'dev-span';
const IDENTITIES = ['p1', 'p2', 'p3', 'p4'];

/** Joins the dev room as `identity`, publishing camera and microphone; the refresher asks the API again. Answers the node's URL. */
function join(page: TestPage, identity: string): Promise<string> {
  return page.evaluate(async ({ room, identity }) => {
    const w = window as unknown as PageWindow;
    const access = async (): Promise<{ url: string; token: string }> => {
      const res = await fetch('/api/dev/room-token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ room, identity }) });
      if (!res.ok) throw new Error(`room token: HTTP ${res.status}`);
      return (await res.json()) as { url: string; token: string };
    };
    const first = await access();
    const sdkRoom = new w.sdk.Room();
    w.telemed = { room: sdkRoom, url: first.url, chat: [] };
    sdkRoom.on('mediaNodeChanged', ({ url }) => (w.telemed.url = url));
    sdkRoom.on('chatMessage', (message) => w.telemed.chat.push(message.text));
    await sdkRoom.connect(first.url, first.token, { refreshAccess: access });
    await sdkRoom.localParticipant.setCameraEnabled(true, { width: 320, height: 180 });
    await sdkRoom.localParticipant.setMicrophoneEnabled(true);
    return first.url;
  }, { room: ROOM, identity });
}

async function links(cluster: Cluster, node: MediaNode): Promise<{ remoteParticipants: number; links: { node: string; state: string; exported: number; imported: number; exportedData: number; importedData: number; bytesSent: number; bytesReceived: number }[] }> {
  const port = new URL(node.url).port;
  const res = await fetch(`http://${node.ip}:${port}/rooms/${ROOM}/links`, { headers: { authorization: `Bearer ${cluster.platform.secrets.serviceSecret}` } });
  if (!res.ok) throw new Error(`links of ${node.id}: HTTP ${res.status}`);
  return (await res.json()) as Awaited<ReturnType<typeof links>>;
}

/** Waits until the registry shows `node` with at least `consumers` consumers (placement reads the heartbeat). */
async function loaded(cluster: Cluster, node: MediaNode, consumers: number): Promise<void> {
  await waitFor(`${node.id} heartbeating ${consumers} consumers`, async () => (((await cluster.registry()).find((n) => n.id === node.id)?.load.consumers ?? 0) >= consumers ? true : undefined), { timeoutMs: 60_000 });
}

const others = (identity: string): string[] => IDENTITIES.filter((i) => i !== identity);

describe('a room spanning two media nodes (pipe transports over Redis)', () => {
  let cluster: Cluster;
  let browser: TestBrowser;
  let site: SdkSite;
  let pages: TestPage[];
  let nodeA: MediaNode;
  let nodeB: MediaNode;

  beforeAll(async () => {
    [cluster, browser, site] = await Promise.all([
      // CALL_TIMEOUT: a ringing call times out within the test (both instances sweep every 0.5 s).
      startCluster({ nodes: 2, apiInstances: 2, mediaEnv: { MEDIA_NODE_CAPACITY: '4' }, apiEnv: { CALL_TIMEOUT: '2' } }),
      launchBrowser('chromium'),
      serveSdkBundle(),
    ]);
    // The pages stay on the first API instance: dev room tokens are never issued through a proxy.
    pages = await Promise.all(IDENTITIES.map(() => sdkPage(browser, `${cluster.platform.apiUrl}/`, site)));
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await cluster?.stop();
  });

  it('places the first two on one node and the next two on the second; everyone decodes everyone through the pipe', async () => {
    const urls: string[] = [];
    urls.push(await join(pages[0]!, 'p1'));
    nodeA = cluster.nodeOf(urls[0]!)!;
    urls.push(await join(pages[1]!, 'p2'));
    // Two participants publishing audio and video: four consumers, the node's capacity.
    await loaded(cluster, nodeA, 4);
    urls.push(await join(pages[2]!, 'p3'));
    nodeB = cluster.nodeOf(urls[2]!)!;
    await loaded(cluster, nodeB, 4);
    // And the first node's heartbeat counts p3's tracks (p1 and p2 consume them, and export their
    // own): with a stale record it looked less loaded than the second and took p4 (a CI run).
    await loaded(cluster, nodeA, 8);
    urls.push(await join(pages[3]!, 'p4'));
    console.log(`[span] placed ${IDENTITIES.map((id, i) => `${id}@${cluster.nodeOf(urls[i]!)?.id}`).join(' ')}`);
    expect(urls.map((u) => cluster.nodeOf(u)?.id)).toEqual([nodeA.id, nodeA.id, nodeB.id, nodeB.id]);
    expect(nodeB.id).not.toBe(nodeA.id);

    await Promise.all(pages.map((page, i) => waitForFreshMedia(page, others(IDENTITIES[i]!), 90_000)));
    for (const [node, other] of [[nodeA, nodeB], [nodeB, nodeA]] as const) {
      const state = await links(cluster, node);
      expect(state.remoteParticipants).toBe(2);
      expect(state.links).toHaveLength(1);
      // Audio + video of two participants each way, and their chat data channels.
      expect(state.links[0]).toMatchObject({ node: other.id, state: 'linked', exported: 4, imported: 4, exportedData: 2, importedData: 2 });
      expect(state.links[0]!.bytesSent).toBeGreaterThan(10_000);
      expect(state.links[0]!.bytesReceived).toBeGreaterThan(10_000);
    }
    // In-call chat (data channels) crosses the pipe too.
    await pages[0]!.evaluate(() => (window as unknown as PageWindow).telemed.room.sendChatMessage('across nodes'));
    await Promise.all(pages.slice(1).map((page) => waitFor('chat across nodes', async () => ((await page.evaluate(() => (window as unknown as PageWindow).telemed.chat)).includes('across nodes') ? true : undefined), { timeoutMs: 30_000 })));
  });

  it('a camera closed on one node disappears on the other', async () => {
    const cameraOf = (page: TestPage, identity: string): Promise<boolean> => page.evaluate((identity) => {
      const room = (window as unknown as PageWindow).telemed.room;
      return [...room.remoteParticipants.values()].some((p) => p.identity === identity && p.tracks.some((t) => t.source === 'camera'));
    }, identity);
    expect(await cameraOf(pages[2]!, 'p1')).toBe(true);
    await pages[0]!.evaluate(() => (window as unknown as PageWindow).telemed.room.localParticipant.setCameraEnabled(false));
    await waitFor('p1\'s camera gone on the other node', async () => (!(await cameraOf(pages[2]!, 'p1')) && !(await cameraOf(pages[3]!, 'p1')) ? true : undefined), { timeoutMs: 30_000 });
    expect(await cameraOf(pages[1]!, 'p1')).toBe(false);
    await pages[0]!.evaluate(() => (window as unknown as PageWindow).telemed.room.localParticipant.setCameraEnabled(true, { width: 320, height: 180 }));
    await waitForFreshMedia(pages[3]!, ['p1'], 60_000);
  });

  it('two API instances behind Caddy: one is killed during the call and messaging; every message is stored once and reaches the other user', async () => {
    // Two signed-in users of the public SDK (in Node, with `ws`) through the proxy, /events open.
    const signIn = async (email: string): Promise<SignedIn> => {
      const client = new TelemedClient({ baseUrl: cluster.apiUrl, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket, reconnectInitialDelayMs: 100 });
      await client.login(email, 'telemed-demo');
      const user: SignedIn = { client, id: (await client.me()).id, messages: [], missed: [] };
      client.on('message.created', ({ message }) => user.messages.push(message));
      client.on('call.missed', ({ call }) => user.missed.push(call.id));
      const connected = new Promise((resolve) => client.once('eventsConnected', resolve));
      client.connectEvents();
      await connected;
      return user;
    };
    const [alice, grey] = [await signIn('alice@patients.demo'), await signIn('grey@doctors.demo')];
    try {
      // Both instances run the ring-timeout sweeper (CALL_TIMEOUT 2 s): a call nobody answers is missed once.
      const ringing = await alice.client.startCall({ type: 'video', inviteeIds: [grey.id] });
      await waitFor('the unanswered call missed', async () => ((await alice.client.getCall(ringing.id)).status === 'missed' ? true : undefined), { timeoutMs: 60_000 });

      const conversationId = (await alice.client.listConversations()).items.find((c) => c.kind === 'direct' && c.members.some((m) => m.userId === grey.id))!.id;
      // 25 rounds of alice, then grey, sending one message; the SDK retries a failed send with the
      // same client id. One send at a time: concurrent sends on two instances can commit their
      // user_events ids out of order, and a client that saw the later id skips the earlier one (an
      // open defect of the events cursor, issue #15 report), which is not what this case checks.
      const COUNT = 25;
      const sent = [0, 0];
      const failures: string[] = [];
      const sending = (async () => {
        for (let i = 0; i < COUNT; i++) {
          for (const [k, user] of [alice, grey].entries()) {
            await user.client.sendMessage(conversationId, `${['alice', 'grey'][k]} ${i}`, { retries: 6 }).then(() => sent[k]!++, (error: Error) => failures.push(`${['alice', 'grey'][k]} ${i}: ${error.message}`));
          }
        }
      })();
      await waitFor('a few messages sent before the stop', () => (sent.every((n) => n >= 5) ? true : undefined), { timeoutMs: 60_000, intervalMs: 10 });
      const stopped = cluster.apis[1]!;
      stopped.process().kill('SIGKILL');
      console.log(`[span] API instance 2 killed after ${sent.join(' + ')} messages`);
      await sending;
      expect(failures).toEqual([]);
      expect(await fetch(`${stopped.url}/health`).then(() => 'up', () => 'down')).toBe('down');

      // Stored once each, and every one of the other's messages reached each user's /events.
      const stored: string[] = [];
      for (let before: number | undefined; ;) {
        const page = await alice.client.listMessages(conversationId, { limit: 200, ...(before ? { before } : {}) });
        stored.push(...page.items.map((m) => m.body));
        if (page.items.length < 200) break;
        before = Math.min(...page.items.map((m) => m.id));
      }
      for (const [prefix, other] of [['alice', grey], ['grey', alice]] as const) {
        const bodies = Array.from({ length: COUNT }, (_, i) => `${prefix} ${i}`);
        expect(stored.filter((b) => bodies.includes(b)).sort()).toEqual([...bodies].sort());
        await waitFor(`${prefix}'s messages on the other user's /events`, () => (bodies.every((b) => other.messages.some((m) => m.body === b)) ? true : undefined), { timeoutMs: 30_000 }).catch((error: Error) => {
          console.log(`[span] missing on /events: ${bodies.filter((b) => !other.messages.some((m) => m.body === b)).join(', ')}; received ${other.messages.map((m) => `${m.id}:${m.body}`).join(' ')}`);
          throw error;
        });
        const delivered = other.messages.filter((m) => bodies.includes(m.body)).map((m) => m.id);
        expect(new Set(delivered).size).toBe(delivered.length);
      }
      // The ringing call's timeout was acted on once: one call.missed each.
      expect([alice.missed, grey.missed]).toEqual([[ringing.id], [ringing.id]]);
      // The call's media never went through the API.
      await Promise.all(pages.map((page, i) => waitForFreshMedia(page, others(IDENTITIES[i]!), 60_000)));
    } finally {
      for (const user of [alice, grey]) user.client.disconnectEvents();
    }
  });

  it('Redis killed and restarted under the call: media goes on, new rooms get the fallback node, then the registry and the link recover by themselves', async () => {
    cluster.redis.kill();
    // The API notices (its registry read fails or finds nothing), and the nodes cannot heartbeat.
    await waitFor('the API without Redis', async () => ((await cluster.registry().then((nodes) => nodes.length, () => 0)) === 0 ? true : undefined), { timeoutMs: 60_000 });
    await Promise.all(pages.map((page, i) => waitForFreshMedia(page, others(IDENTITIES[i]!), 60_000, 'media with Redis down')));
    // A room nobody placed before goes to MEDIA_PUBLIC_URL, the first node (docs/deployment.md).
    expect(cluster.nodeOf(await placeDevRoom(cluster.platform.apiUrl, 'dev-redis-down'))?.id).toBe(cluster.nodes[0]!.id);
    for (const node of [nodeA, nodeB]) expect((await links(cluster, node)).links[0]).toMatchObject({ state: 'linked' });

    await cluster.redis.restart();
    await waitFor('both nodes registered again', async () => ((await cluster.registry().catch(() => [])).length === 2 ? true : undefined), { timeoutMs: 60_000 });
    // No false "node gone" while the registry refilled: the link and the remote participants stay.
    for (const [node, other] of [[nodeA, nodeB], [nodeB, nodeA]] as const) {
      const state = await links(cluster, node);
      expect(state.remoteParticipants).toBe(2);
      expect(state.links).toHaveLength(1);
      expect(state.links[0]).toMatchObject({ node: other.id, state: 'linked' });
    }
    // The room is placed again where it is (its nodes announced it again), not anew.
    expect([nodeA.id, nodeB.id]).toContain(cluster.nodeOf(await placeDevRoom(cluster.platform.apiUrl, ROOM))?.id);
    await Promise.all(pages.map((page, i) => waitForFreshMedia(page, others(IDENTITIES[i]!), 60_000, 'media after Redis returned')));
  });

  it('kill -9 of the second node: its participants come back on the first and everyone decodes everyone again', async () => {
    nodeB.process().kill('SIGKILL');
    await Promise.all([pages[2]!, pages[3]!].map((page) => waitFor('moved to the first node', async () => (cluster.nodeOf(await page.evaluate(() => (window as unknown as PageWindow).telemed.url))?.id === nodeA.id ? true : undefined), { timeoutMs: 60_000 })));
    await waitFor('the dead node\'s link dropped on the first node', async () => ((await links(cluster, nodeA)).links.length === 0 ? true : undefined), { timeoutMs: 30_000 });
    await Promise.all(pages.map((page, i) => waitForFreshMedia(page, others(IDENTITIES[i]!), 90_000)));
    const remaining = await pages[0]!.evaluate(() => [...(window as unknown as PageWindow).telemed.room.remoteParticipants.values()].map((p) => p.identity).sort());
    expect(remaining).toEqual(['p2', 'p3', 'p4']);
  });
});
