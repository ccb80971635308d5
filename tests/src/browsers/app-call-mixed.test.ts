// The demo apps across browsers: the patient in Firefox, the doctor in Chromium. The doctor calls,
// the patient accepts through the waiting room (the SDK's device check: camera preview and mic
// level, in Firefox), both see each other's video, chat both ways, the patient hangs up and both
// see the same call duration. The doctor records part of the call (the patient consents in
// Firefox): ffprobe finds Opus audio and both cameras' video as each browser sends it, every frame
// decodes, each video stream starts with a keyframe and the file lasts the recorded span (±10 %).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';
import { startTestPlatform, type Platform } from '../platform.js';
import type { CallRecording } from '@telemed/sdk';
import { DEMO, DEMO_PASSWORD, DESKTOP, fill, signIn, waitForSelector, waitForText } from '../apps/app-page.js';
import { decodedVideoFrames, decodeErrors, firstVideoPacketFlags, probeRecording } from '../recording-file.js';
import { waitFor } from '@telemed/test-kit';

/**
 * Frames presented of the other side's camera tile. Not getVideoPlaybackQuality(): Firefox reports
 * totalVideoFrames 0 for MediaStream playback; requestVideoFrameCallback counts in both browsers.
 */
function presentedFrames(page: TestPage): Promise<{ frames: number; width: number }> {
  return page.evaluate(
    () =>
      new Promise<{ frames: number; width: number }>((resolve) => {
        const video = document.querySelector<HTMLVideoElement>('.tile:not(.local):not(.screen) video');
        if (!video) return resolve({ frames: 0, width: 0 });
        const timer = setTimeout(() => resolve({ frames: 0, width: video.videoWidth }), 1000);
        video.requestVideoFrameCallback((_now, metadata) => {
          clearTimeout(timer);
          resolve({ frames: metadata.presentedFrames, width: metadata.width });
        });
      }),
  );
}

describe('a demo-app call with the patient in Firefox and the doctor in Chromium', () => {
  let platform: Platform & { serverErrors?: string[] };
  let firefox: TestBrowser;
  let chromium: TestBrowser;
  let alice: TestPage;
  let grey: TestPage;
  const attachmentsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-mixed-rec-store-'));
  const recordingDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-mixed-rec-media-'));

  beforeAll(async () => {
    [platform, firefox, chromium] = await Promise.all([
      startTestPlatform({
        apiEnv: { SEED_DEMO: 'true', ENABLE_CALL_RECORDING: 'true', ATTACHMENTS_DIR: attachmentsDir },
        mediaEnv: { ENABLE_CALL_RECORDING: 'true', MEDIA_RECORDING_DIR: recordingDir },
      }),
      launchBrowser('firefox'),
      launchBrowser('chromium'),
    ]);
    [alice, grey] = await Promise.all([firefox.newPage(), chromium.newPage()]);
    for (const page of [alice, grey]) await page.setViewport(DESKTOP.width, DESKTOP.height);
    await Promise.all([signIn(alice, platform.apiUrl, DEMO.alice, /Alice Patient/), signIn(grey, platform.apiUrl, DEMO.grey, /Meredith Grey/)]);
  });

  afterAll(async () => {
    await Promise.all([firefox?.close(), chromium?.close()]);
    await platform?.stop();
    for (const dir of [attachmentsDir, recordingDir]) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('call, accept in Firefox through the waiting room, both see video, chat both ways, hang up', async () => {
    // Ring only once the patient's realtime connection is up: the doctor sees her online.
    await waitFor(
      "Alice online in the doctor's contacts",
      () => grey.evaluate(() => document.querySelector('[data-contact="alice@patients.demo"] .dot')?.getAttribute('aria-label') === 'Online' || undefined),
      { timeoutMs: 20_000 },
    );
    await grey.click('[data-contact="alice@patients.demo"] button[aria-label^="Video call"]');
    await waitForSelector(alice, '[data-testid=incoming-call]');
    expect(await alice.text('#incoming-title')).toBe('Incoming video call');
    await alice.click('[data-testid=incoming-call] button.success');

    // Firefox's waiting room: the SDK's checkDevices() preview and microphone level.
    const preview = await waitFor('the camera preview in Firefox', () =>
      alice.evaluate(() => {
        const video = document.querySelector<HTMLVideoElement>('[data-testid=waiting-room] video');
        return video && video.videoWidth > 0 ? { width: video.videoWidth, height: video.videoHeight } : undefined;
      }),
    );
    const level = await waitFor('a microphone level in Firefox', () =>
      alice.evaluate(() => Number(document.querySelector('[role=meter]')?.getAttribute('aria-valuenow') ?? 0) || undefined),
    );
    console.log(`[mixed-app] Firefox waiting room: preview ${preview.width}×${preview.height}, mic level ${level}%`);
    const joined = Date.now();
    await alice.click('#join-call');

    await Promise.all([waitForSelector(alice, '[data-testid=in-call]', 30_000), waitForSelector(grey, '[data-testid=in-call]', 30_000)]);
    const first = await Promise.all(
      [alice, grey].map((page) =>
        waitFor(
          `${page.browser} rendering the other's video`,
          async () => {
            const v = await presentedFrames(page);
            return v.frames > 0 && v.width > 0 ? v : undefined;
          },
          { timeoutMs: 30_000 },
        ),
      ),
    );
    console.log(`[mixed-app] first remote video ${Date.now() - joined} ms after the patient pressed Join`);
    const later = await Promise.all(
      [alice, grey].map((page, i) =>
        waitFor(
          `${page.browser} video to keep playing`,
          async () => {
            const v = await presentedFrames(page);
            return v.frames > first[i]!.frames + 20 ? v : undefined;
          },
          { timeoutMs: 20_000 },
        ),
      ),
    );
    console.log(
      `[mixed-app] Firefox patient sees ${later[0]!.width}px wide (${later[0]!.frames} frames); Chromium doctor sees ${later[1]!.width}px (${later[1]!.frames} frames)`,
    );

    await alice.click('#toggle-chat');
    await fill(alice, '#call-chat-text', 'Hello doctor, from Firefox');
    await alice.click('[data-testid=chat-panel] button[type=submit]');
    await grey.click('#toggle-chat');
    await waitForText(grey, '[data-testid=chat-panel] .messages', /Hello doctor, from Firefox/);
    await fill(grey, '#call-chat-text', 'Hello Alice, from Chromium');
    await grey.click('[data-testid=chat-panel] button[type=submit]');
    await waitForText(alice, '[data-testid=chat-panel] .messages', /Hello Alice, from Chromium/);

    // The doctor records; the patient consents in Firefox; about 8 s later the doctor stops.
    await grey.click('#toggle-recording');
    await waitForSelector(alice, '[data-testid=recording-consent]', 30_000);
    await alice.click('#recording-consent');
    await Promise.all([alice, grey].map((page) => waitForSelector(page, '[data-testid=recording-indicator]', 30_000)));
    const recordingFrom = Date.now();
    await waitFor('8 s recorded', async () => Date.now() - recordingFrom >= 8000 || undefined, { timeoutMs: 30_000 });
    await grey.click('#toggle-recording');
    const login = await fetch(`${platform.apiUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: DEMO.grey, password: DEMO_PASSWORD }),
    });
    const headers = { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}` };
    // The caller's page stays on #/call/new: the call's id comes from the API.
    const callId = ((await (await fetch(`${platform.apiUrl}/api/calls?status=active`, { headers })).json()) as { items: Array<{ id: string }> }).items[0]!.id;
    const ready = await waitFor(
      'the recording stored',
      async () => {
        const r = (await (await fetch(`${platform.apiUrl}/api/calls/${callId}/recording`, { headers })).json()) as CallRecording;
        return r.state === 'ready' ? r : undefined;
      },
      { timeoutMs: 120_000 },
    );
    const file = path.join(recordingDir, 'firefox-call.mkv');
    fs.writeFileSync(file, Buffer.from(await (await fetch(`${platform.apiUrl}/api/recordings/${ready.id}/file`, { headers })).arrayBuffer()));
    try {
      const probe = probeRecording(file);
      const span = (new Date(ready.stoppedAt!).getTime() - new Date(ready.startedAt!).getTime()) / 1000;
      const video = probe.streams.filter((s) => s.codec_type === 'video');
      const frames = video.map((_, stream) => decodedVideoFrames(file, stream));
      console.log(
        `[mixed-app] recording with the Firefox patient: ${probe.summary} (span ${span.toFixed(1)} s), video frames ${JSON.stringify(frames)}, gaps ${JSON.stringify(ready.gaps)}`,
      );
      expect(probe.streams.filter((s) => s.codec_type === 'audio').map((s) => s.codec_name)).toEqual(['opus']);
      // Each browser's camera as it sends it (both send VP8, the SFU's first video codec).
      expect(video.map((s) => s.codec_name)).toEqual(['vp8', 'vp8']);
      expect(ready.gaps).toEqual([]);
      expect(probe.duration).toBeGreaterThan(span * 0.9);
      expect(probe.duration).toBeLessThan(span * 1.1);
      expect(decodeErrors(file)).toBe('');
      video.forEach((_, stream) => expect(firstVideoPacketFlags(file, stream)).toMatch(/^K/));
      for (const n of frames) expect(n).toBeGreaterThan(10);
    } finally {
      fs.rmSync(file, { force: true });
    }

    // Nothing logged during the call; hanging up is checked separately below.
    expect(alice.errors).toEqual([]);
    expect(grey.errors).toEqual([]);
    await alice.click('#leave-call');
    const [aliceDuration, greyDuration] = await Promise.all([alice, grey].map((page) => waitForText(page, '[data-testid=ended-duration]', /^\d+:\d\d$/)));
    console.log(`[mixed-app] call ended: the patient sees ${aliceDuration}, the doctor ${greyDuration}`);
    expect(aliceDuration).toBe(greyDuration);
  });

  it('ran without page or server errors', () => {
    // The app leaves the media room before ending the call, so no reconnect attempt is logged.
    expect(alice.errors).toEqual([]);
    expect(grey.errors).toEqual([]);
    expect(platform.serverErrors ?? []).toEqual([]);
  });
});
