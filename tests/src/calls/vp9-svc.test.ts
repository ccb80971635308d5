// VP9 SVC: with `preferredVideoCodec: 'vp9'` the SDK sends the camera as one VP9 encoding with
// spatial and temporal layers (L3T3_KEY from a 720p capture) instead of simulcast, the SFU makes SVC
// consumers, and each subscriber gets the spatial layer its element needs (server consumer stats).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Sdk from '@telemed/sdk';
import type { ConsumerStatsInfo } from '@telemed/sdk/protocol';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';

import { startTestPlatform } from '../platform.js';
import { cameraConsumer as consumerOf, joinPage, renderRemoteCamera, roomStats, roomToken, waitForFreshMedia, type TestPlatform } from './harness.js';
import { sdkPage, serveSdkBundle, type SdkSite } from './sdk-site.js';
import { waitFor } from '@telemed/test-kit';

const ROOM = 'dev-vp9-svc';

describe('VP9 SVC in chromium', () => {
  let platform: TestPlatform;
  let browser: TestBrowser;
  let site: SdkSite;
  let publisher: TestPage;
  let small: TestPage;
  let large: TestPage;

  beforeAll(async () => {
    [platform, browser, site] = await Promise.all([startTestPlatform() as Promise<TestPlatform>, launchBrowser('chromium'), serveSdkBundle()]);
    publisher = await sdkPage(browser, `${platform.apiUrl}/dev/call.html`, site);
    await publisher.evaluate(
      async ({ url, token }) => {
        const { Room } = window.sdk;
        const room = new Room({ preferredVideoCodec: 'vp9' });
        await room.connect(url, token);
        await room.localParticipant.setCameraEnabled(true, { width: 1280, height: 720 });
        await room.localParticipant.setMicrophoneEnabled(true);
        Object.assign(window, { room });
      },
      { url: platform.mediaWsUrl, token: roomToken(platform, ROOM, 'publisher') },
    );
    small = await joinPage(browser, platform, ROOM, 'small', { params: { publish: '0' } });
    large = await joinPage(browser, platform, ROOM, 'large', { params: { publish: '0' } });
    await large.setViewport(1400, 900);
    await Promise.all([waitForFreshMedia(small, ['publisher'], 30_000), waitForFreshMedia(large, ['publisher'], 30_000)]);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await site?.close();
  });

  const cameraConsumer = (page: TestPage): Promise<ConsumerStatsInfo | undefined> => consumerOf(platform, ROOM, page);

  it('publishes the camera as one VP9 encoding with L3T3_KEY and the SFU consumes it as SVC', async () => {
    const producer = (await roomStats(platform, ROOM)).producers.find((p) => p.source === 'camera');
    expect(producer).toMatchObject({ mimeType: 'video/VP9', scalabilityMode: 'L3T3_KEY', rids: [] });
    const sent = await publisher.evaluate(async () => {
      const room = (window as typeof window & { room: Sdk.Room }).room;
      const report = await room.localParticipant.getTrack('camera')?.getStats();
      const out: { mimeType?: string; scalabilityMode?: string; frameWidth?: number }[] = [];
      report?.forEach((s: Record<string, unknown>) => {
        if (s.type !== 'outbound-rtp' || s.kind !== 'video') return;
        const codec = report.get(String(s.codecId)) as { mimeType?: string } | undefined;
        out.push({ mimeType: codec?.mimeType, scalabilityMode: s.scalabilityMode as string | undefined, frameWidth: s.frameWidth as number | undefined });
      });
      return out;
    });
    console.log(`[vp9] publisher sends ${JSON.stringify(sent)}`);
    expect(sent).toHaveLength(1); // one encoding: SVC, not simulcast
    expect(sent[0]).toMatchObject({ mimeType: 'video/VP9', scalabilityMode: 'L3T3_KEY' });
    expect((await cameraConsumer(small))?.type).toBe('svc');
  });

  it('a small element gets a lower spatial layer than a large one', async () => {
    await Promise.all([renderRemoteCamera(small, { width: 160, height: 90 }), renderRemoteCamera(large, { width: 1280, height: 720 })]);
    const [s, l] = await waitFor(
      'SVC layers following the rendered sizes',
      async () => {
        const [cs, cl] = await Promise.all([cameraConsumer(small), cameraConsumer(large)]);
        if (!cs?.currentLayers || !cl?.currentLayers) return undefined;
        if (cs.preferredLayers?.spatialLayer !== 0 || cl.preferredLayers?.spatialLayer !== 2) return undefined;
        return cs.currentLayers.spatialLayer === 0 && cl.currentLayers.spatialLayer > 0 && cs.bitrate < cl.bitrate ? [cs, cl] : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const decoded = async (page: TestPage): Promise<string> =>
      page.evaluate(() => {
        const video = document.querySelector<HTMLVideoElement>('.tile:not(.local) video[data-source="camera"]');
        return `${video?.videoWidth}x${video?.videoHeight}`;
      });
    console.log(
      `[vp9] 160x90 element → spatial layer ${s.currentLayers?.spatialLayer} (${s.bitrate} bps, decodes ${await decoded(small)}), 1280x720 element → spatial layer ${l.currentLayers?.spatialLayer} (${l.bitrate} bps, decodes ${await decoded(large)})`,
    );
  });

  it('ran without page or server errors', () => {
    for (const page of [publisher, small, large]) expect(page.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
