// Subscriptions on demand in a real browser: a page that joins with `autoSubscribe: false` lists the
// publisher's publications without tracks and has no consumer on the server; it subscribes to the
// camera and decodes it, then unsubscribes: the track goes, the server's consumer is gone, the
// publication stays. After a full rejoin (the room's worker killed) it receives again exactly what
// it received before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSERS, launchBrowser, type TestBrowser, type TestPage } from '../browser.js';
import { startTestPlatform } from '../platform.js';
import { joinPage, received, roomStats, service, type TestPlatform } from './harness.js';
import { waitFor } from '@telemed/test-kit';

interface PublicationView {
  source: string;
  subscribed: boolean;
  hasTrack: boolean;
}

/** The subscription events the viewer's room and participant emitted (installed by the first test). */
type RecordingHandle = Window['telemed'] & { subscriptionEvents: string[] };

describe.each(BROWSERS)('subscribe on demand in %s', (browserName) => {
  const ROOM = `dev-on-demand-${browserName}`;
  let platform: TestPlatform;
  let browser: TestBrowser;
  let viewer: TestPage;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform() as Promise<TestPlatform>, launchBrowser(browserName)]);
    await joinPage(browser, platform, ROOM, 'publisher', { params: { res: '320x240' } });
    viewer = await joinPage(browser, platform, ROOM, 'viewer', { params: { publish: '0', autoSubscribe: '0' } });
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  const publications = (): Promise<PublicationView[] | undefined> =>
    viewer.evaluate(() => {
      const { room } = window.telemed;
      const publisher = [...room.remoteParticipants.values()].find((p) => p.identity === 'publisher');
      return publisher?.trackPublications
        .map((p) => ({ source: p.source, subscribed: p.isSubscribed, hasTrack: p.track !== undefined }))
        .sort((a, b) => a.source.localeCompare(b.source));
    });

  const setCameraSubscribed = (subscribed: boolean): Promise<void> =>
    viewer.evaluate(async (wanted) => {
      const { room } = window.telemed;
      const publisher = [...room.remoteParticipants.values()].find((p) => p.identity === 'publisher');
      await publisher?.trackPublications.find((p) => p.source === 'camera')?.setSubscribed(wanted);
    }, subscribed);

  const viewerConsumers = async (): Promise<string[]> => {
    const sid = await viewer.evaluate(() => window.telemed.room.localParticipant.sid);
    const stats = await roomStats(platform, ROOM);
    return stats.consumers.filter((c) => c.participantId === sid).map((c) => c.kind);
  };

  const events = (): Promise<string[]> => viewer.evaluate(() => (window.telemed as RecordingHandle).subscriptionEvents);

  it('lists the publications without tracks, and the server made no consumer', async () => {
    const both = [
      { source: 'camera', subscribed: false, hasTrack: false },
      { source: 'microphone', subscribed: false, hasTrack: false },
    ];
    await waitFor('the viewer listing the camera and microphone publications', async () =>
      JSON.stringify(await publications()) === JSON.stringify(both) ? true : undefined,
    );
    expect(await viewerConsumers()).toEqual([]);
    await viewer.evaluate(() => {
      const handle = window.telemed as RecordingHandle;
      handle.subscriptionEvents = [];
      const publisher = [...handle.room.remoteParticipants.values()].find((p) => p.identity === 'publisher');
      handle.room.on('trackSubscribed', (track) => handle.subscriptionEvents.push(`room subscribed ${track.source}`));
      handle.room.on('trackUnsubscribed', (track) => handle.subscriptionEvents.push(`room unsubscribed ${track.source}`));
      publisher?.on('trackSubscribed', (track) => handle.subscriptionEvents.push(`participant subscribed ${track.source}`));
      publisher?.on('trackUnsubscribed', (track) => handle.subscriptionEvents.push(`participant unsubscribed ${track.source}`));
    });
  });

  it('subscribes to the camera: its track is there, decodes frames, and the server has one video consumer', async () => {
    await setCameraSubscribed(true);
    expect(await publications()).toEqual([
      { source: 'camera', subscribed: true, hasTrack: true },
      { source: 'microphone', subscribed: false, hasTrack: false },
    ]);
    expect((await events()).sort()).toEqual(['participant subscribed camera', 'room subscribed camera']);
    expect(await viewerConsumers()).toEqual(['video']);
    await waitFor('the viewer decoding the camera', async () => ((await received(viewer, 'publisher')).frames > 5 ? true : undefined), { timeoutMs: 60_000 });
  });

  it('unsubscribes: the track goes, the server closed its consumer, the publication stays', async () => {
    await setCameraSubscribed(false);
    expect(await publications()).toEqual([
      { source: 'camera', subscribed: false, hasTrack: false },
      { source: 'microphone', subscribed: false, hasTrack: false },
    ]);
    expect((await events()).filter((e) => e.includes('unsubscribed')).sort()).toEqual(['participant unsubscribed camera', 'room unsubscribed camera']);
    expect(await viewerConsumers()).toEqual([]);
  });

  it('ran without page or server errors', () => {
    expect(viewer.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });

  it('after a full rejoin (the worker hosting the room killed) receives again exactly what it received', async () => {
    await setCameraSubscribed(true);
    const handle = (): Promise<{ states: string[]; sid: string }> =>
      viewer.evaluate(() => {
        const { states, room } = window.telemed;
        return { states, sid: room.localParticipant.sid };
      });
    const before = await handle();
    const rooms = (await service(platform, 'GET', '/rooms')).body as { rooms: { roomId: string; workerPid: number }[] };
    const pid = rooms.rooms.find((r) => r.roomId === ROOM)?.workerPid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    await waitFor(
      'the viewer rejoined',
      async () => {
        const seen = (await handle()).states.slice(before.states.length);
        return seen.includes('reconnecting') && seen.at(-1) === 'connected' ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const cameraOnly = [
      { source: 'camera', subscribed: true, hasTrack: true },
      { source: 'microphone', subscribed: false, hasTrack: false },
    ];
    await waitFor('the camera subscribed again, the microphone not', async () =>
      JSON.stringify(await publications()) === JSON.stringify(cameraOnly) ? true : undefined,
    );
    expect((await handle()).sid).not.toBe(before.sid);
    await waitFor('the viewer decoding the camera again', async () => ((await received(viewer, 'publisher')).frames > 5 ? true : undefined), {
      timeoutMs: 60_000,
    });
    expect(await viewerConsumers()).toEqual(['video']);
  });
});
