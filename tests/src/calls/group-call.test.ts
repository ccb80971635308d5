// A four-person call in real browsers through the real SFU: everyone decodes everyone, and every
// control (mute, camera, screen share, device switch, chat) is seen by the others and by the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSERS, launchBrowser, type TestBrowser, type TestPage } from '../browser.js';

import { startTestPlatform } from '../platform.js';
import { joinPage, received, roomStats, waitForFreshMedia, type TestPlatform } from './harness.js';
import { waitFor } from '@telemed/test-kit';

const NAMES = ['ann', 'ben', 'cat', 'dan'] as const;

describe.each(BROWSERS)('a four-person call in %s', (browserName) => {
  const ROOM = `dev-group-${browserName}`;
  let platform: TestPlatform;
  let browser: TestBrowser;
  const pages = new Map<string, TestPage>();
  const page = (name: string): TestPage => pages.get(name)!;
  const others = (name: string): string[] => NAMES.filter((n) => n !== name);

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform() as Promise<TestPlatform>, launchBrowser(browserName)]);
    // Four encoders and twelve decoders share two cores: a small capture keeps them real-time.
    for (const name of NAMES) pages.set(name, await joinPage(browser, platform, ROOM, name, { params: { res: '320x240' } }));
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it("every page decodes every other page's video and receives its audio", async () => {
    await Promise.all(NAMES.map((name) => waitForFreshMedia(page(name), others(name), 90_000)));
    const stats = await roomStats(platform, ROOM);
    expect(stats.participants).toBe(4);
    expect(stats.producers).toHaveLength(8);
    expect(stats.consumers).toHaveLength(24);
  });

  it('mute pauses the producer on the server and the others see the track muted; unmute resumes it', async () => {
    await page('ann').evaluate(() => window.telemed.room.localParticipant.getTrack('microphone')?.mute());
    const micPaused = async (paused: boolean): Promise<true | undefined> => {
      const stats = await roomStats(platform, ROOM);
      const annSid = await page('ann').evaluate(() => window.telemed.room.localParticipant.sid);
      const mic = stats.producers.find((p) => p.participantId === annSid && p.source === 'microphone');
      return mic?.paused === paused ? true : undefined;
    };
    await waitFor("ann's microphone producer paused on the server", () => micPaused(true), { timeoutMs: 10_000 });
    for (const name of others('ann')) {
      await waitFor(
        `${name} sees ann muted`,
        () =>
          page(name).evaluate(() => {
            const room = window.telemed.room;
            const ann = [...room.remoteParticipants.values()].find((p) => p.identity === 'ann');
            return ann?.tracks.find((t) => t.source === 'microphone')?.isMuted ? true : undefined;
          }),
        { timeoutMs: 10_000 },
      );
    }
    await page('ann').evaluate(() => window.telemed.room.localParticipant.getTrack('microphone')?.unmute());
    await waitFor("ann's microphone producer resumed", () => micPaused(false), { timeoutMs: 10_000 });
    await waitForFreshMedia(page('ben'), ['ann'], 15_000, 'audio after unmute');
  });

  it('camera off unpublishes it everywhere; camera on publishes a new one the others decode', async () => {
    await page('ben').click('#camera');
    for (const name of others('ben')) {
      await waitFor(`${name} loses ben's camera`, async () => ((await received(page(name), 'ben')).frames === 0 ? true : undefined), { timeoutMs: 10_000 });
    }
    expect((await roomStats(platform, ROOM)).producers.filter((p) => p.source === 'camera')).toHaveLength(3);
    await page('ben').click('#camera');
    for (const name of others('ben')) await waitForFreshMedia(page(name), ['ben'], 20_000, "ben's new camera");
  });

  it('switches the camera device without renegotiating: same producer, new capture, frames keep coming', async () => {
    const camera = (): Promise<{ sid?: string; trackId?: string; state?: string }> =>
      page('cat').evaluate(() => {
        const track = window.telemed.room.localParticipant.getTrack('camera');
        return { sid: track?.sid, trackId: track?.mediaStreamTrack.id, state: track?.mediaStreamTrack.readyState };
      });
    const before = await camera();
    // The call page's "Switch camera" moves to the next camera (the same one again with one fake camera).
    await page('cat').click('#switch-camera');
    const after = await waitFor(
      'a new camera capture',
      async () => {
        const now = await camera();
        return now.trackId !== before.trackId ? now : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(after.sid).toBe(before.sid);
    expect(after.trackId).not.toBe(before.trackId);
    expect(after.state).toBe('live');
    await waitForFreshMedia(page('dan'), ['cat'], 15_000, "cat's switched camera");
  });

  it('screen share arrives as its own track; stopping the capture unpublishes it everywhere', async () => {
    await page('dan').click('#screen');
    const danSid = await waitFor(
      'dan publishing a screen share',
      () =>
        page('dan').evaluate(() => {
          const room = window.telemed.room;
          return room.localParticipant.getTrack('screenShare')?.sid ? room.localParticipant.sid : undefined;
        }),
      { timeoutMs: 15_000 },
    );
    for (const name of others('dan')) {
      await waitFor(`${name} decoding dan's screen`, async () => ((await received(page(name), 'dan', 'screenShare')).frames > 3 ? true : undefined), {
        timeoutMs: 20_000,
      });
      expect((await received(page(name), 'dan', 'camera')).frames).toBeGreaterThan(0);
    }
    const stats = await roomStats(platform, ROOM);
    expect(
      stats.producers
        .filter((p) => p.participantId === danSid)
        .map((p) => p.source)
        .sort(),
    ).toEqual(['camera', 'microphone', 'screenShare']);
    // What the browser's "Stop sharing" button does: the capture ends (the app is not asked).
    await page('dan').evaluate(() => window.telemed.room.localParticipant.getTrack('screenShare')?.mediaStreamTrack.stop());
    await waitFor(
      'the screen share producer gone from the server',
      async () => {
        const s = await roomStats(platform, ROOM);
        return s.producers.some((p) => p.source === 'screenShare') ? undefined : true;
      },
      { timeoutMs: 10_000 },
    );
    for (const name of others('dan')) {
      await waitFor(
        `${name} without dan's screen`,
        () =>
          page(name).evaluate(() => {
            const room = window.telemed.room;
            const dan = [...room.remoteParticipants.values()].find((p) => p.identity === 'dan');
            return dan && !dan.tracks.some((t) => t.source === 'screenShare') ? true : undefined;
          }),
        { timeoutMs: 10_000 },
      );
    }
  });

  it('a chat message reaches each other participant exactly once, with its sender', async () => {
    await page('ann').evaluate(() => window.telemed.room.sendChatMessage('hello from ann'));
    // The channel is ordered: once a second message arrived, a duplicate of the first would have too.
    await page('ann').evaluate(() => window.telemed.room.sendChatMessage('second'));
    for (const name of others('ann')) {
      const chat = await waitFor(
        `${name} receiving both messages`,
        () =>
          page(name).evaluate(() => {
            const log = window.telemed.chat;
            return log.some((m) => m.text === 'second') ? log : undefined;
          }),
        { timeoutMs: 10_000 },
      );
      expect(chat.filter((m) => m.text === 'hello from ann')).toHaveLength(1);
      expect(chat.find((m) => m.text === 'hello from ann')).toMatchObject({ fromIdentity: 'ann' });
      expect(await page(name).text('#chat-log')).toContain('ann: hello from ann');
    }
    expect(await page('ann').evaluate(() => window.telemed.chat.length)).toBe(0);
  });

  it('active speaker, audio levels and connection quality reach every page; the server keeps per-track stats', async () => {
    for (const name of NAMES) {
      const seen = await waitFor(
        `${name} told of a speaker, levels and everyone's quality`,
        () =>
          page(name).evaluate(() => {
            const handle = window.telemed;
            const qualities = [...(handle.room.remoteParticipants.values() as Iterable<{ connectionQuality?: string }>)].map((p) => p.connectionQuality);
            // Media flows to everyone here, so every level settles above 'lost'.
            const settled = qualities.length === 3 && qualities.every((q) => q === 'excellent' || q === 'good' || q === 'poor');
            return handle.activeSpeaker && handle.audioLevelUpdates > 0 && settled
              ? { speaker: handle.activeSpeaker, levels: handle.audioLevelUpdates, qualities }
              : undefined;
          }),
        { timeoutMs: 20_000 },
      );
      expect(NAMES).toContain(seen.speaker);
      console.log(`[quality] ${name}: speaker ${seen.speaker}, ${seen.levels} audio-level updates, others ${seen.qualities.join('/')}`);
    }
    const { samples } = await waitFor(
      'periodic per-track samples',
      async () => {
        const res = await fetch(`${platform.mediaHttpUrl}/rooms/${ROOM}/track-stats`, {
          headers: { authorization: `Bearer ${platform.secrets.serviceSecret}` },
        });
        const body = (await res.json()) as {
          samples: {
            direction: string;
            kind: string;
            source: string;
            score: number;
            bitrateBps: number;
            packets: number;
            nackCount: number;
            pliCount: number;
            rttMs: number | null;
            spatialLayer: number | null;
          }[];
        };
        // An incoming camera's simulcast layer is known once the server has received one (a
        // Firefox camera just starting had none yet in one idle run): wait for all four.
        const camerasWithLayer = body.samples.filter((s) => s.direction === 'in' && s.source === 'camera' && s.spatialLayer !== null).length;
        return body.samples.filter((s) => s.direction === 'out').length >= 24 &&
          body.samples.filter((s) => s.direction === 'in').length >= 8 &&
          camerasWithLayer >= 4
          ? body
          : undefined;
      },
      { timeoutMs: 20_000 },
    );
    const videoOut = samples.filter((s) => s.direction === 'out' && s.kind === 'video');
    expect(videoOut.every((s) => typeof s.nackCount === 'number' && typeof s.pliCount === 'number' && typeof s.score === 'number')).toBe(true);
    // A consumer paused by adaptive stream (a page in the background) may have sent nothing yet.
    expect(videoOut.filter((s) => s.packets > 0).length).toBeGreaterThan(0);
    // Each incoming camera reports a simulcast layer: Chromium sends one layer at 320x240 (layer
    // 0), Firefox may keep all three and report the top one.
    const cameraLayers = samples.filter((s) => s.direction === 'in' && s.source === 'camera').map((s) => s.spatialLayer);
    expect(cameraLayers).toHaveLength(4);
    for (const layer of cameraLayers) expect([0, 1, 2]).toContain(layer);
    console.log(
      `[stats] ${samples.length} track samples; video out: rtt ${videoOut.map((s) => s.rttMs).join('/')} ms, score ${videoOut.map((s) => s.score).join('/')}`,
    );
  });

  it('ran without page or server errors', () => {
    for (const p of pages.values()) expect(p.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
