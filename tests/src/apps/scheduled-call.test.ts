// Scheduled calls through the apps: the doctor books a video call with Alice a few minutes ahead
// from home (keyboard), both see it under Upcoming; the doctor starts it (inside the start window)
// and goes in; Alice joins, waits in the lobby, the doctor admits her and both see video. Alice
// asking before the doctor starts waits, and the doctor finds her waiting. A booking the patient
// cancels disappears from both lists.
import { describe, expect, it } from 'vitest';
import type { TestPage } from '../browser.js';
import { fill, remoteVideoFrames, screenshots, unlabelledControls, waitForLobbyRequest, waitForSelector, waitForText } from './app-page.js';
import { patientAndDoctor } from './fixture.js';
import { waitFor } from '@telemed/test-kit';

const AHEAD_MINUTES = 3;

describe('scheduled calls in the doctor and patient apps in chromium', () => {
  // The start window (default 10 min) covers a call 3 minutes ahead; said here so the test does not hang on a default.
  const f = patientAndDoctor({ SCHEDULED_CALL_START_WINDOW: '600' });

  const press = (page: TestPage, key: string): Promise<void> => {
    if (!page.press) throw new Error(`${page.browser} pages take no key presses`);
    return page.press(key);
  };
  const focused = (page: TestPage): Promise<string> => page.evaluate(() => document.activeElement?.id ?? '');
  const upcomingTitles = (page: TestPage): Promise<string[]> =>
    page.evaluate(() => [...document.querySelectorAll('[data-testid=upcoming] [data-upcoming] .name')].map((e) => e.textContent ?? ''));

  /** Books a video call with Alice `minutes` ahead through the form, by keyboard. */
  async function schedule(title: string, minutes: number): Promise<void> {
    await waitForSelector(f.grey, '#schedule-open:not([disabled])');
    await f.grey.evaluate(() => document.querySelector<HTMLButtonElement>('#schedule-open')!.focus());
    await press(f.grey, 'Enter');
    await waitForSelector(f.grey, '[data-testid=schedule-form]');
    // The form takes the focus on its first field; Tab walks the fields in order.
    await waitFor('the focus on the patient field', async () => (await focused(f.grey)) === 'schedule-patient' || undefined);
    const alice = await f.grey.evaluate(
      () => [...document.querySelectorAll<HTMLOptionElement>('#schedule-patient option')].find((o) => o.textContent === 'Alice Patient')?.value ?? '',
    );
    await fill(f.grey, '#schedule-patient', alice);
    const when = await f.grey.evaluate((m) => {
      const d = new Date(Date.now() + m * 60_000);
      const pad = (n: number): string => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    }, minutes);
    await fill(f.grey, '#schedule-when', when);
    await fill(f.grey, '#schedule-title-input', title);
    // (Tab also steps through the date and time input's own parts.)
    const order: string[] = [];
    for (let i = 0; i < 12 && order.at(-1) !== 'schedule-submit'; i++) {
      await press(f.grey, 'Tab');
      const id = await focused(f.grey);
      if (id !== order.at(-1)) order.push(id);
    }
    expect(order).toEqual(['schedule-when', 'schedule-type', 'schedule-title-input', 'schedule-submit']);
    await press(f.grey, 'Enter');
    await waitFor('the form to close', () => f.grey.evaluate(() => !document.querySelector('[data-testid=schedule-form]')));
  }

  it('the doctor books a call a few minutes ahead; both see it under Upcoming', async () => {
    await waitForSelector(f.grey, '#schedule-open');
    await f.grey.click('#schedule-open');
    await waitForSelector(f.grey, '[data-testid=schedule-form]');
    expect(await unlabelledControls(f.grey)).toEqual([]);
    await screenshots(f.grey, 'app-home-schedule-form');
    await f.grey.click('[data-testid=schedule-form] button.ghost');

    await schedule('Follow-up on dosage', AHEAD_MINUTES);
    await waitFor("the booking in the doctor's Upcoming", async () => (await upcomingTitles(f.grey)).includes('Follow-up on dosage') || undefined);
    // Alice's list follows the call.scheduled event, without a reload.
    await waitFor("the booking in the patient's Upcoming", async () => (await upcomingTitles(f.alice)).includes('Follow-up on dosage') || undefined);
    expect(await f.grey.text('[data-testid=upcoming] [data-upcoming] [data-action=start]')).toBe('Start');
    expect(await f.alice.text('[data-testid=upcoming] [data-upcoming] [data-action=join]')).toBe('Join');
    const sub = await f.alice.text('[data-testid=upcoming] [data-upcoming] .sub');
    expect(sub).toContain('with Dr. Meredith Grey');
    expect(await unlabelledControls(f.alice)).toEqual([]);
    await screenshots(f.grey, 'app-home-upcoming');
    await screenshots(f.alice, 'app-home-upcoming-patient');
  });

  it('the doctor starts it, the patient joins through the lobby, is admitted, and both see video', async () => {
    await f.grey.click('[data-testid=upcoming] [data-upcoming] [data-action=start]');
    await waitForSelector(f.grey, '#join-call');
    await f.grey.click('#join-call');
    await waitForSelector(f.grey, '[data-testid=in-call]');

    // The patient's row turns into a running call (call.started) and she joins it.
    await waitForSelector(f.alice, '[data-testid=upcoming] [data-upcoming][data-status=active] [data-action=join]');
    await f.alice.click('[data-testid=upcoming] [data-upcoming][data-status=active] [data-action=join]');
    await waitForText(f.alice, '[data-testid=lobby]', /let you in/);

    await waitForLobbyRequest(f.grey, 'Alice Patient');
    await f.grey.click('button[aria-label="Admit Alice Patient"]');
    await waitForSelector(f.alice, '[data-testid=in-call]');
    const seen = await Promise.all(
      [f.alice, f.grey].map((page) =>
        waitFor(
          'remote video frames',
          async () => {
            const v = await remoteVideoFrames(page);
            return v.frames > 10 && v.width > 0 ? v : undefined;
          },
          { timeoutMs: 30_000 },
        ),
      ),
    );
    console.log(
      `[apps] scheduled call: alice sees ${seen[0]!.width}px wide video, ${seen[0]!.frames} frames; grey sees ${seen[1]!.width}px, ${seen[1]!.frames} frames`,
    );

    await f.grey.click('#leave-call');
    await Promise.all([f.grey, f.alice].map((page) => waitForSelector(page, '[data-testid=call-ended]')));
    for (const page of [f.grey, f.alice]) {
      await page.click('[data-testid=call-ended] button');
      await waitForSelector(page, '[data-testid=upcoming]');
    }
    await waitFor('the call gone from Upcoming', async () => !(await upcomingTitles(f.alice)).includes('Follow-up on dosage') || undefined);
  });

  it('a patient who joins before the doctor starts waits; the doctor starts and finds her waiting', async () => {
    await schedule('Early bird', AHEAD_MINUTES);
    await waitFor("the booking in the patient's Upcoming", async () => (await upcomingTitles(f.alice)).includes('Early bird') || undefined);
    await f.alice.click('[data-testid=upcoming] [data-upcoming][data-status=scheduled] [data-action=join]');
    await waitForText(f.alice, '[data-testid=lobby]', /let you in/);

    await f.grey.click('[data-testid=upcoming] [data-upcoming] [data-action=start]');
    await waitForSelector(f.grey, '#join-call');
    await f.grey.click('#join-call');
    // The lobby fetches who is waiting when the call opens: she knocked before it started.
    await waitForLobbyRequest(f.grey, 'Alice Patient');
    await f.grey.click('button[aria-label="Admit Alice Patient"]');
    await waitForSelector(f.alice, '[data-testid=in-call]');
    await waitFor("video on the patient's page", async () => (await remoteVideoFrames(f.alice)).frames > 0 || undefined, { timeoutMs: 30_000 });
    await f.grey.click('#leave-call');
    for (const page of [f.grey, f.alice]) {
      await waitForSelector(page, '[data-testid=call-ended]');
      await page.click('[data-testid=call-ended] button');
      await waitForSelector(page, '[data-testid=upcoming]');
    }
  });

  it('the patient cancels a booking; it leaves both lists', async () => {
    await schedule('Lab results', 60);
    await waitFor("the booking in the patient's Upcoming", async () => (await upcomingTitles(f.alice)).includes('Lab results') || undefined);
    // An hour ahead it is not open yet (SCHEDULED_CALL_START_WINDOW 10 min): Join says from when, and stays home.
    await f.alice.click('[data-testid=upcoming] [data-upcoming] [data-action=join]');
    await waitForText(f.alice, '[data-testid=opens-at]', /^Opens at .+ you can wait in its waiting room from then\.$/);
    await f.grey.click('[data-testid=upcoming] [data-upcoming] [data-action=start]');
    await waitForText(f.grey, '[data-testid=opens-at]', /you can start it from then/);
    expect(await f.alice.evaluate(() => location.hash)).not.toMatch(/call/);
    await f.alice.click('[data-testid=upcoming] [data-upcoming] [data-action=cancel]');
    for (const page of [f.alice, f.grey]) {
      await waitFor('the cancelled booking gone', async () => !(await upcomingTitles(page)).includes('Lab results') || undefined);
    }
  });

  it('ran without page or server errors', () => {
    for (const page of [f.alice, f.grey]) expect(page.errors).toEqual([]);
    expect(f.platform.serverErrors).toEqual([]);
  });
});
