// Keyboard only: a patient reaches the call button with Tab and calls; the doctor answers from the
// dialog's focused Accept, joins from the waiting room, and both run the call's toolbar (mute,
// chat, leave) with Tab, Enter and Space. Each focused control shows a visible focus ring.
import { describe, expect, it } from 'vitest';
import type { TestPage } from '../browser.js';
import { remoteVideoFrames, waitForSelector } from './app-page.js';
import { patientAndDoctor } from './fixture.js';
import { waitFor } from '@telemed/test-kit';

describe('the apps by keyboard alone in chromium', () => {
  const f = patientAndDoctor();

  const press = (page: TestPage, key: string): Promise<void> => {
    if (!page.press) throw new Error(`${page.browser} pages take no key presses`);
    return page.press(key);
  };
  const focusRing = (page: TestPage): Promise<string> =>
    page.evaluate(() => {
      const el = document.activeElement;
      return el ? getComputedStyle(el).boxShadow : 'none';
    });
  /** Presses Tab until `selector` has the focus; returns how many presses it took. */
  async function tabTo(page: TestPage, selector: string, max = 40): Promise<number> {
    for (let n = 1; n <= max; n++) {
      await press(page, 'Tab');
      if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) {
        // A keyboard user sees where they are (the :focus-visible ring).
        expect(await focusRing(page)).not.toBe('none');
        return n;
      }
    }
    throw new Error(`${selector} not reached with ${max} Tab presses`);
  }

  it('calls, answers, mutes, chats and hangs up without a mouse', async () => {
    const toCall = await tabTo(f.alice, '[data-contact="grey@doctors.demo"] button[aria-label^="Video call"]');
    await press(f.alice, 'Enter');
    await waitForSelector(f.grey, '[data-testid=incoming-call]');
    // The dialog takes the focus on its Accept button.
    await waitFor('the focus on Accept', () =>
      f.grey.evaluate(() => document.activeElement?.matches('[data-testid=incoming-call] button.success') || undefined),
    );
    await press(f.grey, 'Enter');
    await waitForSelector(f.grey, '#join-call');
    const toJoin = await tabTo(f.grey, '#join-call');
    await press(f.grey, 'Enter');
    await Promise.all([f.alice, f.grey].map((page) => waitFor('remote video', async () => (await remoteVideoFrames(page)).frames > 0, { timeoutMs: 30_000 })));

    // Alice's microphone is published and live first: until it is, the button reads "Unmute
    // microphone" (pressed) and Space would publish it, not mute it (under load the microphone
    // comes after the first video frames). Grey then sees it unmuted, so the muted icon is news.
    await waitFor("alice's microphone live", () =>
      f.alice.evaluate(() => document.querySelector('#toggle-mic')?.getAttribute('aria-pressed') === 'false' || undefined),
    );
    await waitFor("alice's microphone unmuted at grey", () =>
      f.grey.evaluate(
        () =>
          (document.querySelector('.tile[data-name="Alice Patient"] audio') &&
            !document.querySelector('.tile[data-name="Alice Patient"] [aria-label="Microphone muted"]')) ||
          undefined,
      ),
    );
    const toMic = await tabTo(f.alice, '#toggle-mic');
    await press(f.alice, 'Space');
    await waitFor('the microphone muted', () =>
      f.alice.evaluate(() => document.querySelector('#toggle-mic')?.getAttribute('aria-pressed') === 'true' || undefined),
    );
    await waitForSelector(f.grey, '.tile[data-name="Alice Patient"] [aria-label="Microphone muted"]');

    await tabTo(f.alice, '#toggle-chat');
    await press(f.alice, 'Enter');
    await tabTo(f.alice, '#call-chat-text');
    for (const key of ['H', 'i', '!']) await press(f.alice, key);
    await press(f.alice, 'Enter');
    await waitFor("the line on the doctor's side", () =>
      f.grey.evaluate(() => document.querySelector('#toggle-chat')?.getAttribute('aria-label')?.includes('1 new') || undefined),
    );

    await tabTo(f.alice, '#leave-call');
    await press(f.alice, 'Enter');
    await Promise.all([f.alice, f.grey].map((page) => waitForSelector(page, '[data-testid=call-ended]')));
    console.log(`[apps] keyboard: call button after ${toCall} Tab presses, Join after ${toJoin}, microphone after ${toMic}`);
  });

  it('ran without page or server errors', () => {
    for (const page of [f.alice, f.grey]) expect(page.errors).toEqual([]);
    expect(f.platform.serverErrors).toEqual([]);
  });
});
