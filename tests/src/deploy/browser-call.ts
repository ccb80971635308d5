// Two doctors (DOCTORS, created with `telemed add-user`) sign in to the demo app at `origin` in one
// browser and make a video call through its normal ringing flow; resolves once each page decodes
// the other's video. Shared by the deployment tests (native launcher behind Caddy, containers).
import { waitFor } from '@telemed/test-kit';
import { remoteVideoFrames, signIn, waitForSelector } from '../apps/app-page.js';
import type { TestBrowser, TestPage } from '../browser.js';
import { DOCTORS, STAFF_PASSWORD } from './production.js';

export interface DecodedVideo {
  width: number;
  frames: number;
}

export async function doctorsVideoCall(browser: TestBrowser, origin: string): Promise<{ pages: [TestPage, TestPage]; video: [DecodedVideo, DecodedVideo] }> {
  const [house, wilson] = [await browser.newPage(), await browser.newPage()];
  await signIn(house, origin, DOCTORS[0][0], /House/, STAFF_PASSWORD);
  await signIn(wilson, origin, DOCTORS[1][0], /Wilson/, STAFF_PASSWORD);
  const callButton = `[data-contact="${DOCTORS[1][0]}"] button[aria-label^="Video call"]`;
  await waitForSelector(house, callButton);
  await house.click(callButton);
  await waitForSelector(wilson, '[data-testid=incoming-call]');
  await wilson.click('[data-testid=incoming-call] button.success');
  await waitForSelector(wilson, '#join-call');
  await wilson.click('#join-call');
  await Promise.all([waitForSelector(house, '[data-testid=in-call]', 30_000), waitForSelector(wilson, '[data-testid=in-call]', 30_000)]);
  const video = await Promise.all(
    [house, wilson].map((page) =>
      waitFor(
        'remote video frames',
        async () => {
          const v = await remoteVideoFrames(page);
          return v.frames > 10 && v.width > 0 ? v : undefined;
        },
        { timeoutMs: 45_000 },
      ),
    ),
  );
  return { pages: [house, wilson], video: [video[0]!, video[1]!] };
}
