// Three media nodes on their own loopback addresses, one API, a real redis-server, real Chromium
// (one browser, a context per participant). A real call between two signed-in users whose pages
// use the public SDK with the access refresher (`refreshAccess: () => client.callToken(callId)`):
// - rooms go to the least-loaded nodes: with the call's media flowing on one node, the next rooms
//   land on the two others;
// - kill -9 of the node hosting the call: both pages decode the other's media again with no user
//   action, on another node; same call id, the timeline shows the move, chat works there;
// - SIGTERM of the node hosting the call: it drains (registry says so, no new room lands there),
//   the call goes on; once the call ends the node exits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Sdk from '@telemed/sdk';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';
import { inboundStats } from '../call-stats.js';
import { startDemoCall, type DemoCall } from '../calls/demo-call.js';
import { waitForFreshMedia } from '../calls/harness.js';
import { serveSdkBundle, sdkPage, type SdkSite } from '../calls/sdk-site.js';
import { placeDevRoom, startCluster, type Cluster, type MediaNode } from './cluster.js';
import { waitFor } from '@telemed/test-kit';

interface PageState {
  room: Sdk.Room;
  moves: { url: string; at: number }[];
  chat: string[];
}
// The SDK page's own handle under `window.telemed` (the shared probes read its room), not the dev
// call page's that page-window.ts declares: hence the cast through unknown where it is read.
type PageWindow = { telemed: PageState };

/** Joins `callId` as `email` from a page: the SDK's own client signs in and refreshes the access. */
async function joinCall(page: TestPage, apiUrl: string, email: string, callId: string): Promise<void> {
  await page.evaluate(
    async ({ apiUrl, email, callId }) => {
      const w = window as unknown as PageWindow;
      const client = new window.sdk.TelemedClient({ baseUrl: apiUrl });
      await client.login(email, 'telemed-demo');
      const access = await client.callToken(callId);
      const room = new window.sdk.Room();
      w.telemed = { room, moves: [], chat: [] };
      room.on('mediaNodeChanged', ({ url }) => w.telemed.moves.push({ url, at: Date.now() }));
      room.on('chatMessage', (message) => w.telemed.chat.push(message.text));
      await room.connect(access.url, access.token, { iceServers: access.iceServers, refreshAccess: () => client.callToken(callId) });
      await room.localParticipant.setCameraEnabled(true, { width: 320, height: 180 });
      await room.localParticipant.setMicrophoneEnabled(true);
    },
    { apiUrl, email, callId },
  );
}

/** Video frames decoded and audio bytes from the other participant's current tracks. */
async function decoding(page: TestPage): Promise<boolean> {
  const samples = await inboundStats(page);
  return samples.some((s) => s.kind === 'video' && s.framesDecoded > 3) && samples.some((s) => s.kind === 'audio' && s.bytesReceived > 0);
}

const exited = (node: MediaNode): Promise<void> =>
  new Promise((resolve) => (node.process().exitCode !== null || node.process().signalCode !== null ? resolve() : node.process().once('exit', () => resolve())));

describe('media nodes: placement by load, failover, drain', () => {
  let cluster: Cluster;
  let browser: TestBrowser;
  let site: SdkSite;
  let demo: DemoCall;
  let pages: TestPage[];
  let host: MediaNode;

  beforeAll(async () => {
    [cluster, browser, site] = await Promise.all([
      startCluster({ nodes: 3, mediaEnv: { MEDIA_DRAIN_TIMEOUT: '120' } }),
      launchBrowser('chromium'),
      serveSdkBundle(),
    ]);
    const { apiUrl } = cluster.platform;
    demo = await startDemoCall(apiUrl);
    pages = await Promise.all([sdkPage(browser, `${apiUrl}/`, site), sdkPage(browser, `${apiUrl}/`, site)]);
    await Promise.all([joinCall(pages[0]!, apiUrl, 'alice@patients.demo', demo.call.id), joinCall(pages[1]!, apiUrl, 'grey@doctors.demo', demo.call.id)]);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await cluster?.stop();
  });

  it('places the call on one node and, once its media loads that node, the next rooms on the two others', async () => {
    host = cluster.nodeOf(demo.greyAccess.url)!;
    expect(host).toBeDefined();
    await Promise.all(pages.map((page) => waitFor('the call decoded', async () => ((await decoding(page)) ? true : undefined), { timeoutMs: 60_000 })));
    // Both publish audio and video: four consumers on the host, as its heartbeat says.
    await waitFor(
      "the host node's load in the registry",
      async () => ((await cluster.registry()).find((n) => n.id === host.id)?.load.consumers === 4 ? true : undefined),
      { timeoutMs: 60_000 },
    );
    const next = [await placeDevRoom(cluster.platform.apiUrl, 'dev-spread-1'), await placeDevRoom(cluster.platform.apiUrl, 'dev-spread-2')].map(
      (url) => cluster.nodeOf(url)?.id,
    );
    const registry = await cluster.registry();
    console.log(`[scale] call on ${host.id}; next rooms on ${next.join(', ')}; scores ${registry.map((n) => `${n.id}=${n.score}`).join(' ')}`);
    expect(new Set(next).size).toBe(2);
    expect(next).not.toContain(host.id);
  });

  it('kill -9 of the hosting node: both pages decode media again on another node, the call keeps its id and timeline', async () => {
    const endsAt = () => Promise.all(pages.map((page) => page.evaluate(() => (window as unknown as PageWindow).telemed.room.endsAt?.getTime())));
    const endsBefore = await endsAt();
    expect(endsBefore[0]).toEqual(expect.any(Number));
    const killedAt = Date.now();
    host.process().kill('SIGKILL');
    const back = await Promise.all(
      pages.map((page) =>
        waitFor(
          'media decoded after the failover',
          async () => {
            const moved = await page.evaluate(() => (window as unknown as PageWindow).telemed.moves.length > 0);
            return moved && (await decoding(page)) ? Date.now() - killedAt : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 50 },
        ),
      ),
    );
    const urls = await Promise.all(pages.map((page) => page.evaluate(() => (window as unknown as PageWindow).telemed.moves.at(-1)!.url)));
    console.log(`[scale] ${host.id} killed: media decoded again after ${back.join(' ms / ')} ms on ${urls.map((u) => cluster.nodeOf(u)?.id).join(' / ')}`);
    expect(urls[0]).toBe(urls[1]);
    const newHost = cluster.nodeOf(urls[0]!)!;
    expect(newHost.id).not.toBe(host.id);
    const lost = host;
    // The drain case below works on the call's node, whatever fails in this one.
    host = newHost;
    // The rebuilt room keeps the call's MAX_CALL_DURATION clock: it ends when the lost one would have.
    expect(await endsAt()).toEqual(endsBefore);

    const call = await demo.alice.getCall(demo.call.id);
    expect(call.status).toBe('active');
    const timeline = await demo.alice.callTimeline(demo.call.id);
    const move = timeline.find((e) => e.kind === 'moved');
    expect(JSON.parse(move!.detail!)).toMatchObject({ from: lost.id, to: newHost.id });
    await waitFor(
      'both back in the room (API)',
      async () => ((await demo.alice.getCall(demo.call.id)).participants.filter((p) => p.inRoom).length === 2 ? true : undefined),
      { timeoutMs: 60_000 },
    );

    // In-call chat runs on the new node too.
    await pages[0]!.evaluate(() => (window as unknown as PageWindow).telemed.room.sendChatMessage('after the move'));
    await waitFor(
      'chat after the move',
      async () => ((await pages[1]!.evaluate(() => (window as unknown as PageWindow).telemed.chat)).includes('after the move') ? true : undefined),
      { timeoutMs: 60_000 },
    );
  });

  it('SIGTERM of the hosting node: it drains, the call goes on there, no new room lands there, and it exits once the call ends', async () => {
    host.process().kill('SIGTERM');
    await waitFor('the node draining in the registry', async () => ((await cluster.registry()).find((n) => n.id === host.id)?.draining ? true : undefined), {
      timeoutMs: 60_000,
    });
    const ids = await Promise.all(pages.map((page) => page.evaluate(() => (window as unknown as PageWindow).telemed.room.localParticipant.identity)));
    await waitForFreshMedia(pages[0]!, [ids[1]!]);
    await waitForFreshMedia(pages[1]!, [ids[0]!]);
    for (let i = 0; i < 3; i++) expect(cluster.nodeOf(await placeDevRoom(cluster.platform.apiUrl, `dev-drain-${i}`))?.id).not.toBe(host.id);
    // A later access to the call still goes where the call is.
    expect(cluster.nodeOf((await demo.grey.callToken(demo.call.id)).url)?.id).toBe(host.id);

    const gone = exited(host);
    await Promise.all(pages.map((page) => page.evaluate(() => (window as unknown as PageWindow).telemed.room.disconnect())));
    await gone;
    await waitFor('the drained node out of the registry', async () => ((await cluster.registry()).some((n) => n.id === host.id) ? undefined : true), {
      timeoutMs: 60_000,
    });
  });
});
