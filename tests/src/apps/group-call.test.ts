// A doctor's group video call with two patients: both are rung, both join, every page shows three
// tiles with video, the active speaker is outlined, and one leaving lets the others go on.
import { describe, expect, it } from 'vitest';
import type { TestPage } from '../browser.js';
import { screenshots, waitForSelector } from './app-page.js';
import { greyCallsAliceAndBob, patientAndDoctor, signInBob } from './fixture.js';
import { waitFor } from '@telemed/test-kit';

describe('a group call from the doctor app in chromium', () => {
  const f = patientAndDoctor();
  let bob: TestPage;

  const tiles = (page: TestPage): Promise<{ name: string; frames: number; speaking: boolean }[]> =>
    page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('[data-testid=grid] .tile')].map((tile) => ({
        name: tile.dataset.name ?? '',
        frames: tile.querySelector('video')?.getVideoPlaybackQuality().totalVideoFrames ?? 0,
        speaking: tile.dataset.speaking === 'true',
      })),
    );

  it('rings two patients, shows three tiles with video everywhere and outlines the active speaker', async () => {
    bob = await signInBob(f);
    await greyCallsAliceAndBob(f);
    for (const patient of [f.alice, bob]) {
      await waitForSelector(patient, '[data-testid=incoming-call]');
      await patient.click('[data-testid=incoming-call] button.success');
      await waitForSelector(patient, '#join-call');
      await patient.click('#join-call');
    }
    const pages = [f.grey, f.alice, bob];
    const seen = await Promise.all(
      pages.map((page) =>
        waitFor(
          'three tiles with video',
          async () => {
            const list = await tiles(page);
            return list.length === 3 && list.every((t) => t.frames > 0) ? list : undefined;
          },
          { timeoutMs: 40_000 },
        ),
      ),
    );
    console.log(`[apps] group call tiles: ${seen.map((list) => list.map((t) => `${t.name}:${t.frames}`).join(' ')).join(' | ')}`);
    const speaking = await waitFor(
      'an outlined active speaker',
      async () => {
        const all = await Promise.all(pages.map(tiles));
        const outlined = all
          .flat()
          .filter((t) => t.speaking)
          .map((t) => t.name);
        return outlined.length > 0 ? outlined : undefined;
      },
      { timeoutMs: 20_000 },
    );
    console.log(`[apps] active speaker outlined: ${speaking.join(', ')}`);
    const shots = await screenshots(f.grey, 'app-group-call');
    console.log(`[apps] screenshots: ${shots.join(', ')}`);
    expect(speaking.length).toBeGreaterThan(0);
    // A patient leaving a group call leaves the other two talking; the last two leaving end it.
    await bob.click('#leave-call');
    await waitForSelector(bob, '[data-testid=call-ended]');
    await waitFor('two tiles left', async () => (await tiles(f.grey)).length === 2);
    expect(await f.alice.evaluate(() => document.querySelector('[data-testid=in-call]') !== null)).toBe(true);
    // The doctor leaving leaves Alice alone: the call ends for her too.
    await f.grey.click('#leave-call');
    await Promise.all([f.grey, f.alice].map((page) => waitForSelector(page, '[data-testid=call-ended]')));
  });

  it('ran without page or server errors', () => {
    for (const page of [f.alice, f.grey, bob]) expect(page.errors).toEqual([]);
    expect(f.platform.serverErrors).toEqual([]);
  });
});
