// A room spanning two media nodes: two nodes on their own loopback addresses with a small capacity
// (MEDIA_NODE_CAPACITY=4 consumers), a real redis-server, one API, real browsers through the public
// SDK: Chromium (one browser, a context per participant) for three, Firefox for the fourth, who
// lands on the second node. The first two participants fill the room's
// node; the API sends the next two to the second node, and the nodes link their routers with
// PipeTransports (SRTP + RTX) negotiated over Redis pub/sub:
// - every participant decodes every other's video and audio; the nodes' service API shows the
//   pipe carrying bytes both ways;
// - a camera closed on one node disappears on the other;
// - Redis killed (-9) and restarted under the call: media goes on, a new room gets the documented
//   fallback (MEDIA_PUBLIC_URL), the nodes register again and the link survives;
// - kill -9 of the second node (placement and the registry working again after the Redis restart):
//   its participants come back on the first (the access refresher) and everyone decodes everyone
//   again; the first node drops the dead node's participants.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Sdk from '@telemed/sdk';
import { launchBrowser, type BrowserName, type TestBrowser, type TestPage } from '../browser.js';
import { waitForFreshMedia } from '../calls/harness.js';
import { serveSdkBundle, sdkPage, sdkSitePage, type SdkSite } from '../calls/sdk-site.js';
import { placeDevRoom, startCluster, type Cluster, type MediaNode } from './cluster.js';
import { waitFor } from '@telemed/test-kit';

// The SDK page's own handle under `window.telemed` (the shared probes read its room), not the dev
// call page's that page-window.ts declares: hence the cast through unknown where it is read.
type PageWindow = { telemed: { room: Sdk.Room; url: string; chat: string[] } };

const ROOM = 'dev-span';
const IDENTITIES = ['p1', 'p2', 'p3', 'p4'];
/** Each participant's browser: the fourth joins the second node from Firefox. */
const ENGINES: readonly BrowserName[] = ['chromium', 'chromium', 'chromium', 'firefox'];

/** Joins the dev room as `identity`, publishing camera and microphone; the refresher asks the API again. Answers the node's URL. */
function join(page: TestPage, identity: string, apiUrl: string): Promise<string> {
  return page.evaluate(
    async ({ room, identity, apiUrl }) => {
      const w = window as unknown as PageWindow;
      const access = async (): Promise<{ url: string; token: string }> => {
        const res = await fetch(`${apiUrl}/api/dev/room-token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ room, identity }),
        });
        if (!res.ok) throw new Error(`room token: HTTP ${res.status}`);
        return (await res.json()) as { url: string; token: string };
      };
      const first = await access();
      const sdkRoom = new window.sdk.Room();
      w.telemed = { room: sdkRoom, url: first.url, chat: [] };
      sdkRoom.on('mediaNodeChanged', ({ url }) => (w.telemed.url = url));
      sdkRoom.on('chatMessage', (message) => w.telemed.chat.push(message.text));
      await sdkRoom.connect(first.url, first.token, { refreshAccess: access });
      await sdkRoom.localParticipant.setCameraEnabled(true, { width: 320, height: 180 });
      await sdkRoom.localParticipant.setMicrophoneEnabled(true);
      return first.url;
    },
    { room: ROOM, identity, apiUrl },
  );
}

async function links(
  cluster: Cluster,
  node: MediaNode,
): Promise<{
  remoteParticipants: number;
  links: {
    node: string;
    state: string;
    exported: number;
    imported: number;
    exportedData: number;
    importedData: number;
    bytesSent: number;
    bytesReceived: number;
  }[];
}> {
  const port = new URL(node.url).port;
  const res = await fetch(`http://${node.ip}:${port}/rooms/${ROOM}/links`, { headers: { authorization: `Bearer ${cluster.platform.secrets.serviceSecret}` } });
  if (!res.ok) throw new Error(`links of ${node.id}: HTTP ${res.status}`);
  return (await res.json()) as Awaited<ReturnType<typeof links>>;
}

/** Waits until the registry shows `node` with at least `consumers` consumers (placement reads the heartbeat). */
async function loaded(cluster: Cluster, node: MediaNode, consumers: number): Promise<void> {
  let last = 'no registry read';
  await waitFor(
    `${node.id} heartbeating ${consumers} consumers`,
    async () => {
      const record = (await cluster.registry()).find((n) => n.id === node.id);
      last = record ? JSON.stringify(record) : 'not in the registry';
      return (record?.load.consumers ?? 0) >= consumers ? true : undefined;
    },
    { timeoutMs: 60_000, lastSeen: () => last },
  );
}

const others = (identity: string): string[] => IDENTITIES.filter((i) => i !== identity);

describe('a room spanning two media nodes (pipe transports over Redis)', () => {
  let cluster: Cluster;
  let browsers: Record<BrowserName, TestBrowser>;
  let site: SdkSite;
  let pages: TestPage[];
  let nodeA: MediaNode;
  let nodeB: MediaNode;

  beforeAll(async () => {
    site = await serveSdkBundle();
    let chromium: TestBrowser;
    let firefox: TestBrowser;
    // The Firefox participant is an app on the SDK site's origin (a page's CSP can be set aside for
    // the SDK's import in Chromium only), so the API lets that origin in.
    [cluster, chromium, firefox] = await Promise.all([
      startCluster({ nodes: 2, mediaEnv: { MEDIA_NODE_CAPACITY: '4' }, apiEnv: { CORS_ORIGINS: site.origin } }),
      launchBrowser('chromium'),
      launchBrowser('firefox'),
    ]);
    browsers = { chromium, firefox };
    pages = await Promise.all(
      ENGINES.map((engine) => (engine === 'chromium' ? sdkPage(browsers[engine], `${cluster.platform.apiUrl}/`, site) : sdkSitePage(browsers[engine], site))),
    );
  });

  afterAll(async () => {
    await Promise.all(Object.values(browsers ?? {}).map((browser) => browser.close()));
    await site?.close();
    await cluster?.stop();
  });

  it('places the first two on one node and the next two on the second; everyone decodes everyone through the pipe', async () => {
    const urls: string[] = [];
    urls.push(await join(pages[0]!, 'p1', cluster.platform.apiUrl));
    nodeA = cluster.nodeOf(urls[0]!)!;
    urls.push(await join(pages[1]!, 'p2', cluster.platform.apiUrl));
    // Two participants publishing audio and video: four consumers, the node's capacity.
    await loaded(cluster, nodeA, 4);
    urls.push(await join(pages[2]!, 'p3', cluster.platform.apiUrl));
    nodeB = cluster.nodeOf(urls[2]!)!;
    await loaded(cluster, nodeB, 4);
    // And the first node's heartbeat counts p3's tracks (p1 and p2 consume them, and export their
    // own): with a stale record it looked less loaded than the second and took p4 (a CI run).
    await loaded(cluster, nodeA, 8);
    urls.push(await join(pages[3]!, 'p4', cluster.platform.apiUrl));
    console.log(`[span] placed ${IDENTITIES.map((id, i) => `${id} (${ENGINES[i]})@${cluster.nodeOf(urls[i]!)?.id}`).join(' ')}`);
    expect(urls.map((u) => cluster.nodeOf(u)?.id)).toEqual([nodeA.id, nodeA.id, nodeB.id, nodeB.id]);
    expect(nodeB.id).not.toBe(nodeA.id);

    await Promise.all(pages.map((page, i) => waitForFreshMedia(page, others(IDENTITIES[i]!), 90_000)));
    for (const [node, other] of [
      [nodeA, nodeB],
      [nodeB, nodeA],
    ] as const) {
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
    await Promise.all(
      pages
        .slice(1)
        .map((page) =>
          waitFor(
            'chat across nodes',
            async () => ((await page.evaluate(() => (window as unknown as PageWindow).telemed.chat)).includes('across nodes') ? true : undefined),
            { timeoutMs: 30_000 },
          ),
        ),
    );
  });

  it('a camera closed on one node disappears on the other', async () => {
    const cameraOf = (page: TestPage, identity: string): Promise<boolean> =>
      page.evaluate((identity) => {
        const room = (window as unknown as PageWindow).telemed.room;
        return [...room.remoteParticipants.values()].some((p) => p.identity === identity && p.tracks.some((t) => t.source === 'camera'));
      }, identity);
    expect(await cameraOf(pages[2]!, 'p1')).toBe(true);
    await pages[0]!.evaluate(() => (window as unknown as PageWindow).telemed.room.localParticipant.setCameraEnabled(false));
    await waitFor(
      "p1's camera gone on the other node",
      async () => (!(await cameraOf(pages[2]!, 'p1')) && !(await cameraOf(pages[3]!, 'p1')) ? true : undefined),
      { timeoutMs: 30_000 },
    );
    expect(await cameraOf(pages[1]!, 'p1')).toBe(false);
    await pages[0]!.evaluate(() => (window as unknown as PageWindow).telemed.room.localParticipant.setCameraEnabled(true, { width: 320, height: 180 }));
    await waitForFreshMedia(pages[3]!, ['p1'], 60_000);
  });

  it('Redis killed and restarted under the call: media goes on, new rooms get the fallback node, then the registry and the link recover by themselves', async () => {
    cluster.redis.kill();
    // The API notices (its registry read fails or finds nothing), and the nodes cannot heartbeat.
    await waitFor(
      'the API without Redis',
      async () =>
        (await cluster.registry().then(
          (nodes) => nodes.length,
          () => 0,
        )) === 0
          ? true
          : undefined,
      { timeoutMs: 60_000 },
    );
    await Promise.all(pages.map((page, i) => waitForFreshMedia(page, others(IDENTITIES[i]!), 60_000, 'media with Redis down')));
    // A room nobody placed before goes to MEDIA_PUBLIC_URL, the first node (docs/deployment.md).
    expect(cluster.nodeOf(await placeDevRoom(cluster.platform.apiUrl, 'dev-redis-down'))?.id).toBe(cluster.nodes[0]!.id);
    for (const node of [nodeA, nodeB]) expect((await links(cluster, node)).links[0]).toMatchObject({ state: 'linked' });

    await cluster.redis.restart();
    await waitFor('both nodes registered again', async () => ((await cluster.registry().catch(() => [])).length === 2 ? true : undefined), {
      timeoutMs: 60_000,
    });
    // No false "node gone" while the registry refilled: the link and the remote participants stay.
    for (const [node, other] of [
      [nodeA, nodeB],
      [nodeB, nodeA],
    ] as const) {
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
    await Promise.all(
      [pages[2]!, pages[3]!].map((page) =>
        waitFor(
          'moved to the first node',
          async () => (cluster.nodeOf(await page.evaluate(() => (window as unknown as PageWindow).telemed.url))?.id === nodeA.id ? true : undefined),
          { timeoutMs: 60_000 },
        ),
      ),
    );
    await waitFor("the dead node's link dropped on the first node", async () => ((await links(cluster, nodeA)).links.length === 0 ? true : undefined), {
      timeoutMs: 30_000,
    });
    await Promise.all(pages.map((page, i) => waitForFreshMedia(page, others(IDENTITIES[i]!), 90_000)));
    const remaining = await pages[0]!.evaluate(() =>
      [...(window as unknown as PageWindow).telemed.room.remoteParticipants.values()].map((p) => p.identity).sort(),
    );
    expect(remaining).toEqual(['p2', 'p3', 'p4']);
  });
});
