// Calling through the apps: a patient calls a doctor who accepts in another browser context; both
// see each other's video, chat in the call, hang up, and find the call with its duration in their
// history. Then a declined call and an unanswered one (ring timeout shortened to a few seconds).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';
import { startTestPlatform, type Platform } from '../platform.js';
import { callHistory, DEMO, DESKTOP, fill, remoteVideoFrames, screenshots, signIn, unlabelledControls, waitFor, waitForSelector, waitForText } from './app-page.js';

const RING_TIMEOUT_S = 4;

describe('calling between the patient and doctor apps in chromium', () => {
  let platform: Platform & { serverErrors: string[] };
  let browser: TestBrowser;
  let alice: TestPage;
  let grey: TestPage;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([
      startTestPlatform({ apiEnv: { SEED_DEMO: 'true', CALL_TIMEOUT: String(RING_TIMEOUT_S) } }) as Promise<Platform & { serverErrors: string[] }>,
      launchBrowser('chromium'),
    ]);
    [alice, grey] = await Promise.all([browser.newPage(), browser.newPage()]);
    await Promise.all([alice.setViewport(DESKTOP.width, DESKTOP.height), grey.setViewport(DESKTOP.width, DESKTOP.height)]);
    await signIn(alice, platform.apiUrl, DEMO.alice, /Alice Patient/);
    await signIn(grey, platform.apiUrl, DEMO.grey, /Meredith Grey/);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  async function goHome(page: TestPage): Promise<void> {
    await page.click('[data-testid=call-ended] button');
    await waitForSelector(page, '[data-testid=call-history], #calls-title');
  }

  it('the doctor sees the patient come online', async () => {
    await waitForSelector(grey, '.contacts .contact');
    const presence = await waitFor('Alice online in the doctor\'s contacts', () => grey.evaluate(() => {
      const dot = document.querySelector('[data-contact="alice@patients.demo"] .dot');
      return dot?.getAttribute('aria-label') === 'Online' ? 'Online' : undefined;
    }));
    expect(presence).toBe('Online');
  });

  it('a video call: ring, accept, both see video, chat, hang up, both see it in history with its duration', async () => {
    await alice.click('[data-contact="grey@doctors.demo"] button[aria-label^="Video call"]');
    await waitForText(alice, '[data-testid=ringing]', /Ringing/);
    await waitForSelector(grey, '[data-testid=incoming-call]');
    expect(await grey.text('#incoming-title')).toBe('Incoming video call');
    expect(await grey.text('#incoming-desc')).toContain('Alice Patient');
    expect(await unlabelledControls(grey)).toEqual([]);
    await screenshots(grey, 'app-incoming-call');

    await grey.click('[data-testid=incoming-call] button.success');
    await waitForSelector(grey, '[data-testid=waiting-room] video');
    // The waiting room's meter follows the fake microphone's tone.
    const level = await waitFor('a microphone level', () => grey.evaluate(() => Number(document.querySelector('[role=meter]')?.getAttribute('aria-valuenow') ?? 0) || undefined));
    const cameras = await grey.evaluate(() => document.querySelectorAll('#camera-select option').length);
    console.log(`[apps] waiting room: mic level ${level}%, ${cameras} camera(s) to pick from`);
    expect(cameras).toBeGreaterThan(0);
    await screenshots(grey, 'app-waiting-room');
    await grey.click('#join-call');

    await Promise.all([waitForSelector(alice, '[data-testid=in-call]'), waitForSelector(grey, '[data-testid=in-call]')]);
    const firstFrames = await Promise.all([alice, grey].map((page) => waitFor('remote video frames', async () => {
      const v = await remoteVideoFrames(page);
      return v.frames > 0 && v.width > 0 ? v : undefined;
    }, 30_000)));
    const later = await Promise.all([alice, grey].map((page, i) => waitFor('remote video to keep playing', async () => {
      const v = await remoteVideoFrames(page);
      return v.frames > firstFrames[i]!.frames + 20 ? v : undefined;
    }, 20_000)));
    console.log(`[apps] remote video: alice sees ${later[0]!.width}px wide, ${later[0]!.frames} frames; grey sees ${later[1]!.width}px, ${later[1]!.frames} frames`);
    await waitForText(alice, '[data-testid=call-timer]', /^0:0[1-9]|^0:[1-5]\d/);
    expect(await unlabelledControls(alice)).toEqual([]);
    const inCall = await screenshots(alice, 'app-in-call');
    console.log(`[apps] screenshots: ${inCall.join(', ')}`);

    // In-call chat over the room's data channel.
    await alice.click('#toggle-chat');
    await fill(alice, '#call-chat-text', 'Hello doctor, can you see me?');
    await alice.click('[data-testid=chat-panel] button[type=submit]');
    await waitFor('the chat badge on the doctor\'s toolbar', () => grey.evaluate(() => document.querySelector('#toggle-chat')?.getAttribute('aria-label')?.includes('1 new') || undefined));
    await grey.click('#toggle-chat');
    await waitForText(grey, '[data-testid=chat-panel] .messages', /Hello doctor, can you see me\?/);
    await screenshots(grey, 'app-in-call-chat');

    await alice.click('#leave-call');
    const [aliceDuration, greyDuration] = await Promise.all([alice, grey].map((page) => waitForText(page, '[data-testid=ended-duration]', /^\d+:\d\d$/)));
    console.log(`[apps] call ended: alice sees ${aliceDuration}, grey sees ${greyDuration}`);
    expect(aliceDuration).toBe(greyDuration);

    for (const page of [alice, grey]) {
      await goHome(page);
      const row = await waitFor('the ended call in the history', async () => (await callHistory(page)).find((c) => c.status === 'ended'));
      expect(row.result).toBe(aliceDuration);
    }
    await screenshots(alice, 'app-home-after-call');
  });

  it('a declined call: the caller is told and both histories say declined', async () => {
    await alice.click('[data-contact="grey@doctors.demo"] button[aria-label^="Voice call"]');
    await waitForSelector(grey, '[data-testid=incoming-call]');
    expect(await grey.text('#incoming-title')).toBe('Incoming voice call');
    await grey.click('[data-testid=incoming-call] button.danger');
    await waitForText(alice, '#ended-title', /declined/);
    await goHome(alice);
    for (const page of [alice, grey]) {
      await waitFor('the declined call in the history', async () => (await callHistory(page)).find((c) => c.status === 'declined'));
    }
  });

  it(`an unanswered call becomes missed after the ring timeout (${RING_TIMEOUT_S} s)`, async () => {
    const started = Date.now();
    await alice.click('[data-contact="grey@doctors.demo"] button[aria-label^="Video call"]');
    await waitForSelector(grey, '[data-testid=incoming-call]');
    await waitForText(alice, '#ended-title', /No answer/, (RING_TIMEOUT_S + 10) * 1000);
    const elapsed = (Date.now() - started) / 1000;
    console.log(`[apps] ring timeout: caller told "No answer" after ${elapsed.toFixed(1)} s`);
    expect(elapsed).toBeGreaterThanOrEqual(RING_TIMEOUT_S - 0.5);
    await waitFor('the incoming-call dialog to close', () => grey.evaluate(() => !document.querySelector('[data-testid=incoming-call]')));
    await goHome(alice);
    for (const page of [alice, grey]) {
      const row = await waitFor('the missed call in the history', async () => (await callHistory(page)).find((c) => c.status === 'missed'));
      expect(row.result).toBe('missed');
    }
  });

  it('ran without page or server errors', () => {
    expect(alice.errors).toEqual([]);
    expect(grey.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
