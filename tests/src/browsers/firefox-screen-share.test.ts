// Screen share from Firefox: getDisplayMedia needs a headful Firefox (it fails headless) and a user
// gesture, so Firefox runs on its own Xvfb display and the share starts with a real click on the
// call page's button. A Chromium and a Firefox viewer must decode the screen at its captured size;
// the button again stops it everywhere, on the server too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomStatsInfo } from '@telemed/sdk/protocol';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';

import { startTestPlatform, type Platform } from '../platform.js';
import { startXvfb, type VirtualDisplay } from '../xvfb.js';
import { receivedVideo } from './media-probe.js';
import { waitFor } from '@telemed/test-kit';

const ROOM = 'dev-firefox-screen';

describe('screen share from Firefox (headful on Xvfb, after a real click)', () => {
  let display: VirtualDisplay;
  let platform: Platform & { serverErrors?: string[] };
  let firefox: TestBrowser;
  let chromium: TestBrowser;
  let sharer: TestPage;
  const viewers: TestPage[] = [];

  beforeAll(async () => {
    display = await startXvfb();
    [platform, firefox, chromium] = await Promise.all([startTestPlatform(), launchBrowser('firefox', { display: display.display }), launchBrowser('chromium')]);
    const join = async (browser: TestBrowser, name: string): Promise<TestPage> => {
      const page = await browser.newPage(`${platform.apiUrl}/dev/call.html?room=${ROOM}&name=${name}&autojoin=1&res=640x360`);
      await waitFor(
        `${name} publishing`,
        () =>
          page.evaluate(() => {
            const room = window.telemed.room;
            return room?.state === 'connected' && room.localParticipant.tracks.length === 2 ? true : undefined;
          }),
        { timeoutMs: 30_000 },
      );
      return page;
    };
    sharer = await join(firefox, 'fiona');
    viewers.push(await join(chromium, 'carl'), await join(firefox, 'fred'));
  });

  afterAll(async () => {
    await Promise.all([firefox?.close(), chromium?.close()]);
    await platform?.stop();
    await display?.stop();
  });

  const screenProducers = async (): Promise<RoomStatsInfo['producers']> => {
    const res = await fetch(`${platform.mediaHttpUrl}/rooms/${ROOM}/stats`, { headers: { authorization: `Bearer ${platform.secrets.serviceSecret}` } });
    return ((await res.json()) as RoomStatsInfo).producers.filter((p) => p.source === 'screenShare');
  };

  it('a click shares the screen; Chromium and Firefox viewers decode it at the captured size', async () => {
    const clicked = Date.now();
    await sharer.click('#screen');
    const capture = await waitFor(
      'fiona publishing her screen',
      () =>
        sharer.evaluate(() => {
          const track = window.telemed.room?.localParticipant.getTrack('screenShare');
          if (!track?.sid) return undefined;
          const { width = 0, height = 0 } = track.mediaStreamTrack.getSettings();
          return { label: track.mediaStreamTrack.label, width, height };
        }),
      { timeoutMs: 15_000 },
    );
    console.log(`[screen] Firefox captured "${capture.label}" at ${capture.width}×${capture.height}`);
    expect(capture.width).toBeGreaterThan(0);

    for (const viewer of viewers) {
      const seen = await waitFor(
        `${viewer.browser} decoding fiona's screen`,
        async () => {
          const video = await receivedVideo(viewer, 'fiona', 'screenShare');
          return video && video.frames > 3 && video.width > 0 ? video : undefined;
        },
        { timeoutMs: 20_000 },
      );
      console.log(`[screen] ${viewer.browser} viewer: first frames ${Date.now() - clicked} ms after the click, decoding ${seen.width}×${seen.height}`);
      // One layer, not downscaled: the screen stays readable.
      expect(seen).toMatchObject({ width: capture.width, height: capture.height });
      expect((await receivedVideo(viewer, 'fiona', 'camera'))?.frames).toBeGreaterThan(0);
    }
    const producers = await screenProducers();
    expect(producers).toHaveLength(1);
    expect(producers[0]!.participantId).toBe(await sharer.evaluate(() => window.telemed.room!.localParticipant.sid));
  });

  it('the same button stops it: gone on the server and for every viewer', async () => {
    await sharer.click('#screen');
    await waitFor('the screen producer gone from the server', async () => ((await screenProducers()).length === 0 ? true : undefined), { timeoutMs: 10_000 });
    for (const viewer of viewers) {
      await waitFor(`${viewer.browser} without fiona's screen`, async () => ((await receivedVideo(viewer, 'fiona', 'screenShare')) ? undefined : true), {
        timeoutMs: 10_000,
      });
    }
    expect(await sharer.evaluate(() => window.telemed.room?.localParticipant.getTrack('screenShare'))).toBeUndefined();
  });

  it('ran without page or server errors', () => {
    for (const page of [sharer, ...viewers]) expect(page.errors).toEqual([]);
    expect(platform.serverErrors ?? []).toEqual([]);
  });
});
