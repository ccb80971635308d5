// Simulcast with adaptive stream: what a subscriber renders decides the layer the SFU forwards
// (server consumer stats), and video nobody can see is paused at the SFU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumerStatsInfo } from '@telemed/sdk/protocol';
import { BROWSERS, launchBrowser, type TestBrowser, type TestPage } from '../browser.js';

import { startTestPlatform } from '../platform.js';
import { cameraConsumer as consumerOf, joinPage, received, renderRemoteCamera, roomStats, waitForFreshMedia, type TestPlatform } from './harness.js';
import { waitFor } from '@telemed/test-kit';

describe.each(BROWSERS)('adaptive stream in %s', (browserName) => {
  const ROOM = `dev-adaptive-${browserName}`;
  let platform: TestPlatform;
  let browser: TestBrowser;
  let publisher: TestPage;
  let small: TestPage;
  let large: TestPage;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform() as Promise<TestPlatform>, launchBrowser(browserName)]);
    publisher = await joinPage(browser, platform, ROOM, 'publisher');
    small = await joinPage(browser, platform, ROOM, 'small', { params: { publish: '0' } });
    large = await joinPage(browser, platform, ROOM, 'large', { params: { publish: '0' } });
    await large.setViewport(1400, 900);
    await Promise.all([waitForFreshMedia(small, ['publisher'], 30_000), waitForFreshMedia(large, ['publisher'], 30_000)]);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  const render = (page: TestPage, size: Parameters<typeof renderRemoteCamera>[1]): Promise<void> => renderRemoteCamera(page, size);
  const cameraConsumer = (page: TestPage): Promise<ConsumerStatsInfo | undefined> => consumerOf(platform, ROOM, page);

  it('a small element gets a lower spatial layer than a large one', async () => {
    await Promise.all([render(small, { width: 160, height: 90 }), render(large, { width: 1280, height: 720 })]);
    const [s, l] = await waitFor(
      'layers following the rendered sizes',
      async () => {
        const [cs, cl] = await Promise.all([cameraConsumer(small), cameraConsumer(large)]);
        if (!cs?.currentLayers || !cl?.currentLayers) return undefined;
        if (cs.preferredLayers?.spatialLayer !== 0 || cl.preferredLayers?.spatialLayer !== 2) return undefined;
        // The forwarded layer is lower, and once the switch settled so is the bitrate.
        return cs.currentLayers.spatialLayer < cl.currentLayers.spatialLayer && cs.bitrate < cl.bitrate ? [cs, cl] : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const producer = (await roomStats(platform, ROOM)).producers.find((p) => p.source === 'camera');
    console.log(
      `[adaptive] publisher sends rids ${producer?.rids.join(',')}; 160x90 element → spatial layer ${s.currentLayers?.spatialLayer} (${s.bitrate} bps), 1280x720 element → spatial layer ${l.currentLayers?.spatialLayer} (${l.bitrate} bps)`,
    );
  });

  it('a hidden element pauses its consumer at the SFU; showing it resumes the video', async () => {
    await render(small, 'hidden');
    await waitFor("the small subscriber's camera consumer paused", async () => ((await cameraConsumer(small))?.paused ? true : undefined), {
      timeoutMs: 10_000,
    });
    expect((await cameraConsumer(large))?.paused).toBe(false);
    expect(
      await small.evaluate(() => {
        const room = window.telemed.room;
        const publisher = [...room.remoteParticipants.values()].find((p) => p.identity === 'publisher');
        return publisher?.tracks.find((t) => t.source === 'camera')?.isMuted;
      }),
    ).toBe(false);
    const framesWhileHidden = (await received(small, 'publisher')).frames;
    await render(small, 'shown');
    await waitFor('the consumer resumed', async () => ((await cameraConsumer(small))?.paused === false ? true : undefined), { timeoutMs: 10_000 });
    await waitFor('frames decoded again', async () => ((await received(small, 'publisher')).frames > framesWhileHidden + 5 ? true : undefined), {
      timeoutMs: 15_000,
    });
  });

  it('ran without page or server errors', () => {
    for (const page of [publisher, small, large]) expect(page.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
