// A room that outgrows its worker's consumer budget spans a second worker: later participants get
// a router there, joined to the first with pipeToRouter, and everyone still decodes everyone
// (media and chat cross the pipe). The budget is set to 2 consumers so three people exceed it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSERS, launchBrowser, type TestBrowser, type TestPage } from '../browser.js';

import { startTestPlatform } from '../platform.js';
import { joinPage, service, waitForFreshMedia, type TestPlatform } from './harness.js';
import { waitFor } from '@telemed/test-kit';

const NAMES = ['first', 'second', 'third'] as const;

interface RoomsBody {
  rooms: { roomId: string; workerPid: number; participants: number; workers: { index: number; consumers: number }[] }[];
}

describe.each(BROWSERS)('a room spanning two workers in %s', (browserName) => {
  const ROOM = `dev-pipe-${browserName}`;
  let platform: TestPlatform;
  let browser: TestBrowser;
  const pages = new Map<string, TestPage>();
  const page = (name: string): TestPage => pages.get(name)!;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([
      startTestPlatform({ numWorkers: 2, mediaEnv: { MEDIA_CONSUMERS_PER_WORKER: '2' } }) as Promise<TestPlatform>,
      launchBrowser(browserName),
    ]);
    for (const name of NAMES) {
      pages.set(name, await joinPage(browser, platform, ROOM, name, { params: { res: '320x240' } }));
      // Wait for the subscriptions so the next participant sees this one's consumers counted.
      await waitFor(
        `${name}'s subscriptions`,
        async () => {
          const rooms = (await service(platform, 'GET', '/rooms')).body as RoomsBody;
          const room = rooms.rooms.find((r) => r.roomId === ROOM);
          const consumers = room?.workers.reduce((n, w) => n + w.consumers, 0) ?? 0;
          const expected = pages.size * (pages.size - 1) * 2;
          return consumers >= expected ? true : undefined;
        },
        { timeoutMs: 20_000 },
      );
    }
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('places the third participant on another worker and pipes media both ways', async () => {
    const rooms = (await service(platform, 'GET', '/rooms')).body as RoomsBody;
    const room = rooms.rooms.find((r) => r.roomId === ROOM)!;
    console.log(`[pipe] room spans workers ${room.workers.map((w) => `#${w.index} (${w.consumers} consumers)`).join(', ')}`);
    expect(room.workers).toHaveLength(2);
    expect(room.participants).toBe(3);
    await Promise.all(
      NAMES.map((name) =>
        waitForFreshMedia(
          page(name),
          NAMES.filter((n) => n !== name),
          30_000,
        ),
      ),
    );
  });

  it('chat crosses the pipe once', async () => {
    await page('third').evaluate(() => window.telemed.room.sendChatMessage('across workers'));
    await page('first').evaluate(() => window.telemed.room.sendChatMessage('and back'));
    const first = await waitFor(
      'first receiving',
      () =>
        page('first').evaluate(() => {
          const chat = window.telemed.chat;
          return chat.length > 0 ? chat.map((m) => m.text) : undefined;
        }),
      { timeoutMs: 10_000 },
    );
    const third = await waitFor(
      'third receiving',
      () =>
        page('third').evaluate(() => {
          const chat = window.telemed.chat;
          return chat.length > 0 ? chat.map((m) => m.text) : undefined;
        }),
      { timeoutMs: 10_000 },
    );
    expect(first).toEqual(['across workers']);
    expect(third).toEqual(['and back']);
  });

  it('ran without page or server errors', () => {
    for (const p of pages.values()) expect(p.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
