// Room.prepareConnection() in real Chromium against the built platform: a prepared connect() uses the
// prepared socket (one WebSocket in all) and works; while prepared, the others are not told of the
// participant; a failed prepare or one for another token falls back to the cold path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Sdk from '@telemed/sdk';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';

import { startTestPlatform } from '../platform.js';
import { joinPage, roomStats, roomToken, type TestPlatform } from './harness.js';
import { sdkPage, serveSdkBundle, type SdkSite } from './sdk-site.js';
import { waitFor } from '@telemed/test-kit';

const ROOM = 'dev-prepare-connection';

type PageWindow = { sdk: typeof Sdk; room?: Sdk.Room; sockets: string[] };

/** A page with the SDK as `window.sdk` that records every WebSocket it opens (identity from the token). */
async function countingSdkPage(browser: TestBrowser, platform: TestPlatform, site: SdkSite): Promise<TestPage> {
  const page = await sdkPage(browser, `${platform.apiUrl}/dev/call.html`, site);
  await page.evaluate(() => {
    const w = window as typeof window & PageWindow & { WebSocket: typeof WebSocket };
    w.sockets = [];
    const Original = w.WebSocket;
    w.WebSocket = class extends Original {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        w.sockets.push(String(url));
      }
    };
  });
  return page;
}

/** Identities the observer's room knows as remote participants. */
function seenBy(observer: TestPage): Promise<string[]> {
  return observer.evaluate(() => [...window.telemed.room.remoteParticipants.values()].map((p) => p.identity));
}

describe('Room.prepareConnection in chromium', () => {
  let platform: TestPlatform;
  let site: SdkSite;
  let browser: TestBrowser;
  let observer: TestPage;
  const pages: TestPage[] = [];

  beforeAll(async () => {
    [platform, site, browser] = await Promise.all([startTestPlatform() as Promise<TestPlatform>, serveSdkBundle(), launchBrowser('chromium')]);
    observer = await joinPage(browser, platform, ROOM, 'observer', { params: { res: '320x240' } });
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await site?.close();
  });

  it('a prepared connect uses the prepared socket and works; the others learn of the participant only on connect', async () => {
    const page = await countingSdkPage(browser, platform, site);
    pages.push(page);
    const token = roomToken(platform, ROOM, 'waiter');
    const ready = await page.evaluate(
      async ({ url, token: t }) => {
        const w = window as typeof window & PageWindow;
        w.room = new w.sdk.Room();
        return w.room.prepareConnection(url, t);
      },
      { url: platform.mediaWsUrl, token },
    );
    expect(ready).toBe(true);
    expect(await page.evaluate(() => (window as typeof window & PageWindow).room?.state)).toBe('disconnected');
    // A participant joining after the prepare is announced to the observer; had the server announced
    // the prepared one, that would have come first.
    await joinPage(browser, platform, ROOM, 'late', { params: { publish: '0' } }).then((p) => pages.push(p));
    await waitFor('observer sees late', async () => ((await seenBy(observer)).includes('late') ? true : undefined), { timeoutMs: 20_000 });
    expect(await seenBy(observer)).not.toContain('waiter');
    expect((await roomStats(platform, ROOM)).participants).toBe(2);

    await page.evaluate(
      async ({ url, token: t }) => {
        const room = (window as typeof window & PageWindow).room!;
        room.on('trackSubscribed', (track) => track.attach(document.body.appendChild(document.createElement(track.kind === 'video' ? 'video' : 'audio'))));
        await room.connect(url, t);
      },
      { url: platform.mediaWsUrl, token },
    );
    await waitFor('observer sees waiter', async () => ((await seenBy(observer)).includes('waiter') ? true : undefined), { timeoutMs: 20_000 });
    // The observer's camera reaches the prepared joiner.
    await waitFor(
      'waiter decodes the observer camera',
      () =>
        page.evaluate(() => {
          const video = document.querySelector('video');
          return video && video.readyState >= 2 && video.videoWidth > 0 ? true : undefined;
        }),
      { timeoutMs: 20_000 },
    );
    expect(await page.evaluate(() => (window as typeof window & PageWindow).sockets.length)).toBe(1);
  });

  it('connect() with another token than the prepared one, or after a failed prepare, takes the cold path', async () => {
    const page = await countingSdkPage(browser, platform, site);
    pages.push(page);
    const result = await page.evaluate(
      async ({ url, other, bad, real }) => {
        const w = window as typeof window & PageWindow;
        const room = new w.sdk.Room();
        w.room = room;
        const otherReady = await room.prepareConnection(url, other);
        await room.connect(url, real);
        const state = room.state;
        await room.disconnect();
        const failed = await room.prepareConnection(url, bad);
        await room.connect(url, real);
        return { otherReady, state, failed, stateAfterFailed: room.state, sockets: w.sockets.length };
      },
      { url: platform.mediaWsUrl, other: roomToken(platform, ROOM, 'stranger'), bad: 'not-a-token', real: roomToken(platform, ROOM, 'fallback') },
    );
    expect(result).toEqual({ otherReady: true, state: 'connected', failed: false, stateAfterFailed: 'connected', sockets: 4 });
    await waitFor('observer sees fallback', async () => ((await seenBy(observer)).includes('fallback') ? true : undefined), { timeoutMs: 20_000 });
    // The socket prepared for the other token was closed unused: its participant never joined.
    expect(await seenBy(observer)).not.toContain('stranger');
  });

  it('ran without page or server errors', () => {
    for (const page of [observer, ...pages]) expect(page.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
