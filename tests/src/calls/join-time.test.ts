// Join-to-first-frame: from the call page's Join (token in hand) to the first remote video frame
// shown, over 10 fresh page loads. The median is printed; the assertion only bounds it loosely
// (timing belongs in benchmarks/, correctness here: every join must show video).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSERS, launchBrowser, type TestBrowser, type TestPage } from '../browser.js';

import { startTestPlatform } from '../platform.js';
import { joinPage, roomToken, type TestPlatform } from './harness.js';
import { waitFor } from '@telemed/test-kit';

const JOINS = 10;

describe.each(BROWSERS)('join-to-first-frame in %s', (browserName) => {
  const ROOM = `dev-join-time-${browserName}`;
  let platform: TestPlatform;
  let browser: TestBrowser;
  let publisher: TestPage;
  let joiner: TestPage;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform() as Promise<TestPlatform>, launchBrowser(browserName)]);
    publisher = await joinPage(browser, platform, ROOM, 'publisher', { params: { res: '640x360' } });
    joiner = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it(`shows the first remote frame on each of ${JOINS} joins; prints the median`, async () => {
    const times: number[] = [];
    for (let i = 0; i < JOINS; i++) {
      const query = new URLSearchParams({
        room: ROOM,
        name: 'joiner',
        autojoin: '1',
        publish: '0',
        url: platform.mediaWsUrl,
        token: roomToken(platform, ROOM, 'joiner'),
      });
      await joiner.goto(`${platform.apiUrl}/dev/call.html?${query.toString()}`);
      const timing = await waitFor(
        `first frame on join ${i + 1}`,
        () =>
          joiner.evaluate(() => {
            const t = window.telemed.timing;
            return t.firstFrameAt !== undefined && t.joinStartedAt !== undefined && t.connectedAt !== undefined ? t : undefined;
          }),
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      times.push(timing.firstFrameAt! - timing.joinStartedAt!);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const median = (sorted[JOINS / 2 - 1]! + sorted[JOINS / 2]!) / 2;
    console.log(
      `[join] join-to-first-frame over ${JOINS} joins: median ${median.toFixed(0)} ms, min ${sorted[0]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')})`,
    );
    expect(median).toBeLessThan(10_000);
  });

  it('ran without page or server errors', () => {
    for (const page of [publisher, joiner]) expect(page.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
