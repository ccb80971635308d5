// Messaging through the apps: a message with an attachment is sent, delivered and read (the
// sender's ticks change), the file downloads intact, and older messages load on scrolling up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser, type TestPage } from '../browser.js';
import { startTestPlatform, type Platform } from '../platform.js';
import { captureDownloads, DEMO, DESKTOP, downloads, fill, screenshots, signIn, unlabelledControls, waitFor, waitForSelector } from './app-page.js';

const FILE_TEXT = 'Blood pressure log\n120/80 morning\n118/79 evening\n';

describe('messaging between the patient and doctor apps in chromium', () => {
  let platform: Platform & { serverErrors: string[] };
  let browser: TestBrowser;
  let alice: TestPage;
  let grey: TestPage;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([
      startTestPlatform({ apiEnv: { SEED_DEMO: 'true' } }) as Promise<Platform & { serverErrors: string[] }>,
      launchBrowser('chromium'),
    ]);
    [alice, grey] = await Promise.all([browser.newPage(), browser.newPage()]);
    for (const page of [alice, grey]) await page.setViewport(DESKTOP.width, DESKTOP.height);
    await signIn(alice, platform.apiUrl, DEMO.alice, /Alice Patient/);
    await signIn(grey, platform.apiUrl, DEMO.grey, /Meredith Grey/);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  const lastTicks = (page: TestPage): Promise<string | undefined> =>
    page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.message.mine')].at(-1)?.dataset.status);

  it('sends a message with an attachment: sent, delivered, then read when the doctor opens it', async () => {
    await alice.click('[data-contact="grey@doctors.demo"] button[aria-label^="Message"]');
    await waitForSelector(alice, '#conversation-text');
    const conversationId = await alice.evaluate(() => /\/conversations\/([0-9a-f-]{36})/.exec(location.hash)?.[1] ?? '');

    // Attach a text file through the real file input; the upload shows progress, then the chip.
    await alice.evaluate((text) => {
      const input = document.querySelector<HTMLInputElement>('#conversation-file')!;
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], 'bp-log.txt', { type: 'text/plain' }));
      input.files = transfer.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }, FILE_TEXT);
    await waitForSelector(alice, '.pending-attachments li');
    await fill(alice, '#conversation-text', 'Here is my blood pressure log');
    // Record every state the new message's ticks go through.
    await alice.evaluate(() => {
      const log: string[] = [];
      (window as unknown as { tickLog: string[] }).tickLog = log;
      const record = (): void => {
        const status = [...document.querySelectorAll<HTMLElement>('.message.mine')].at(-1)?.dataset.status;
        if (status && log.at(-1) !== status) log.push(status);
      };
      new MutationObserver(record).observe(document.querySelector('.messages')!, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
    });
    await alice.click('.composer button[type=submit]');
    // The doctor's app is open (home page): it acknowledges delivery, not reading.
    await waitFor('delivered ticks', async () => (await lastTicks(alice)) === 'delivered');
    const unread = await waitFor('the unread badge on the doctor\'s home', () => grey.evaluate((id) => document.querySelector(`[data-conversation="${id}"] [data-testid=unread]`)?.textContent || undefined, conversationId));
    console.log(`[apps] the doctor's home shows ${unread} unread in the conversation`);
    expect(Number(unread)).toBeGreaterThanOrEqual(1);
    expect(await unlabelledControls(alice)).toEqual([]);
    const conversationShots = await screenshots(alice, 'app-conversation-delivered');
    console.log(`[apps] screenshots: ${conversationShots.join(', ')}`);

    await grey.click(`[data-conversation="${conversationId}"]`);
    await waitForSelector(grey, '.message.theirs .attachment');
    await waitFor('read ticks', async () => (await lastTicks(alice)) === 'read');
    const ticks = await alice.evaluate(() => (window as unknown as { tickLog: string[] }).tickLog);
    console.log(`[apps] ticks went ${ticks.join(' → ')}`);
    expect(ticks[0]).toBe('sending');
    expect(ticks.slice(-2)).toEqual(['delivered', 'read']);
    expect(await alice.evaluate(() => [...document.querySelectorAll('.message.mine')].at(-1)?.querySelector('[data-testid=ticks]')?.getAttribute('aria-label'))).toBe('Read');
    await screenshots(alice, 'app-conversation-read');

    await captureDownloads(grey);
    await grey.click('.message.theirs .attachment');
    const file = await waitFor('the attachment download', async () => (await downloads(grey))[0]);
    expect(file).toEqual({ name: 'bp-log.txt', text: FILE_TEXT });
  });

  it('loads older messages when the conversation is scrolled to the top', async () => {
    const conversationId = await alice.evaluate(() => /\/conversations\/([0-9a-f-]{36})/.exec(location.hash)?.[1] ?? '');
    // Forty more messages through the API with Alice's own session, as if sent earlier.
    await alice.evaluate(async (id) => {
      const session = JSON.parse(sessionStorage.getItem('telemed.session') ?? '{}') as { accessToken: string };
      for (let i = 1; i <= 40; i++) {
        const res = await fetch(`/api/conversations/${id}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` },
          body: JSON.stringify({ clientId: crypto.randomUUID(), body: `Reading ${i}` }),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      }
    }, conversationId);
    // Leave and reopen the conversation: it loads only the newest page.
    await grey.goto(`${platform.apiUrl}/#/`);
    await waitForSelector(grey, `[data-conversation="${conversationId}"]`);
    await grey.click(`[data-conversation="${conversationId}"]`);
    await waitFor('the newest page', async () => (await grey.evaluate(() => document.querySelectorAll('.message').length)) === 30);
    await grey.evaluate(() => document.querySelector('.messages')!.scrollTo({ top: 0 }));
    const total = await waitFor('older messages', async () => {
      const n = await grey.evaluate(() => document.querySelectorAll('.message').length);
      if (n < 41) await grey.evaluate(() => document.querySelector('.messages')!.scrollTo({ top: 0 }));
      return n >= 41 ? n : undefined;
    });
    console.log(`[apps] infinite scroll: ${total} messages after scrolling up`);
    const bodies = await grey.evaluate(() => [...document.querySelectorAll('.message .body')].map((b) => b.textContent ?? ''));
    // Oldest first, no gaps or repeats across the page boundary.
    const readings = bodies.filter((b) => b.startsWith('Reading ')).map((b) => Number(b.slice(8)));
    expect(readings).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(bodies.indexOf('Here is my blood pressure log')).toBeLessThan(bodies.indexOf('Reading 1'));
  });

  it('ran without page or server errors', () => {
    expect(alice.errors).toEqual([]);
    expect(grey.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
