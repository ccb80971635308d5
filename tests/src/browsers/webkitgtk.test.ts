// A browser without WebRTC gets a clear answer: Debian's WebKitGTK (MiniBrowser, under Xvfb) has
// getUserMedia with mock devices but no RTCPeerConnection. Room.connect must reject with the typed
// UnsupportedBrowserError (not a ReferenceError from inside mediasoup-client), the call page must
// say what to use instead, and the camera preview must still work there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser, TestPage } from '../browser.js';

import { startTestPlatform, type Platform } from '../platform.js';
import { launchWebKitGtk } from '../webkitgtk.js';
import { startXvfb, type VirtualDisplay } from '../xvfb.js';
import { waitFor } from '@telemed/test-kit';

describe('WebKitGTK without WebRTC', () => {
  let display: VirtualDisplay;
  let platform: Platform;
  let browser: TestBrowser;
  let page: TestPage;

  beforeAll(async () => {
    display = await startXvfb();
    [platform, browser] = await Promise.all([startTestPlatform(), launchWebKitGtk({ display: display.display })]);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await display?.stop();
  });

  it('Room.connect rejects with UnsupportedBrowserError and the call page says what to use', async () => {
    page = await browser.newPage(`${platform.apiUrl}/dev/call.html?room=dev-webkit&name=wanda&autojoin=1`);
    console.log(`[webkitgtk] ${browser.version}: ${await page.evaluate(() => navigator.userAgent)}`);
    const shown = await waitFor('the join to fail', () => page.evaluate(() => window.telemed.error), { timeoutMs: 15_000 });
    expect(shown.code).toBe('UNSUPPORTED_BROWSER');
    expect(shown.message).toContain('RTCPeerConnection');

    // The typed error itself, straight from the SDK's Room.connect.
    const thrown = await page.evaluate(async (url) => {
      try {
        await window.telemed.room?.connect(url, 'any-token');
        return undefined;
      } catch (error) {
        const e = error as Error & { code?: string; missing?: string[] };
        return { name: e.name, code: e.code, message: e.message, missing: e.missing };
      }
    }, platform.mediaWsUrl);
    console.log(`[webkitgtk] Room.connect → ${thrown?.name}: ${thrown?.message}`);
    expect(thrown).toMatchObject({ name: 'UnsupportedBrowserError', code: 'UNSUPPORTED_BROWSER' });
    expect(thrown?.missing).toContain('WebRTC (RTCPeerConnection)');
    expect(thrown?.message).not.toMatch(/ReferenceError/);

    expect(await page.text('#unsupported h2')).toBe('This browser cannot make calls');
    expect(await page.text('#unsupported-reason')).toMatch(/Firefox/);
    expect(await page.evaluate(() => (document.getElementById('join-form') as HTMLFormElement).hidden)).toBe(true);
  });

  it("the SDK's device check still shows the camera preview and a microphone level (getUserMedia without WebRTC)", async () => {
    const first = await waitFor(
      'the camera preview to play',
      () =>
        page.evaluate(() => {
          const video = document.getElementById('camera-preview') as HTMLVideoElement | null;
          return video && video.videoWidth > 0 && video.currentTime > 0
            ? { width: video.videoWidth, height: video.videoHeight, time: video.currentTime }
            : undefined;
        }),
      { timeoutMs: 15_000 },
    );
    const later = await waitFor(
      'the preview to keep playing',
      () =>
        page.evaluate((t) => {
          const video = document.getElementById('camera-preview') as HTMLVideoElement;
          return video.currentTime > t + 0.5 ? video.currentTime : undefined;
        }, first.time),
      { timeoutMs: 10_000 },
    );
    console.log(`[webkitgtk] camera preview ${first.width}×${first.height}, played ${first.time.toFixed(2)} → ${later.toFixed(2)} s`);
    expect(await page.text('#device-check')).toContain('camera and microphone work');
    const level = await waitFor(
      'a microphone level',
      () =>
        page.evaluate(() => {
          const meter = document.getElementById('mic-level') as HTMLMeterElement | null;
          return meter && meter.value > 0 ? meter.value : undefined;
        }),
      { timeoutMs: 10_000 },
    );
    console.log(`[webkitgtk] microphone level ${level.toFixed(3)} (mock microphone)`);
  });
});
