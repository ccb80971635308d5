// Messaging through the apps: a message with an attachment is sent, delivered and read (the
// sender's ticks change), the file downloads intact, and older messages load on scrolling up.
import { describe, expect, it } from 'vitest';
import type { TestPage } from '../browser.js';
import {
  captureDownloads,
  DEMO,
  DESKTOP,
  downloads,
  fill,
  HOLD_EVENTS_SCRIPT,
  releaseEvents,
  screenshots,
  signIn,
  unlabelledControls,
  waitForSelector,
  waitForText,
} from './app-page.js';
import { patientAndDoctor } from './fixture.js';
import { waitFor } from '@telemed/test-kit';

const FILE_TEXT = 'Blood pressure log\n120/80 morning\n118/79 evening\n';

describe('messaging between the patient and doctor apps in chromium', () => {
  const f = patientAndDoctor();

  const lastTicks = (page: TestPage): Promise<string | undefined> =>
    page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.message.mine')].at(-1)?.dataset.status);

  it('sends a message with an attachment: sent, delivered, then read when the doctor opens it', async () => {
    await f.alice.click('[data-contact="grey@doctors.demo"] button[aria-label^="Message"]');
    await waitForSelector(f.alice, '#conversation-text');
    const conversationId = await f.alice.evaluate(() => /\/conversations\/([0-9a-f-]{36})/.exec(location.hash)?.[1] ?? '');

    // Attach a text file through the real file input; the upload shows progress, then the chip.
    await f.alice.evaluate((text) => {
      const input = document.querySelector<HTMLInputElement>('#conversation-file')!;
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], 'bp-log.txt', { type: 'text/plain' }));
      input.files = transfer.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }, FILE_TEXT);
    await waitForSelector(f.alice, '.pending-attachments li');
    await fill(f.alice, '#conversation-text', 'Here is my blood pressure log');
    // Record every state the new message's ticks go through.
    await f.alice.evaluate(() => {
      const log: string[] = [];
      (window as typeof window & { tickLog: string[] }).tickLog = log;
      const record = (): void => {
        const status = [...document.querySelectorAll<HTMLElement>('.message.mine')].at(-1)?.dataset.status;
        if (status && log.at(-1) !== status) log.push(status);
      };
      new MutationObserver(record).observe(document.querySelector('.messages')!, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['data-status'],
      });
    });
    await f.alice.click('.composer button[type=submit]');
    // The doctor's app is open (home page): it acknowledges delivery, not reading.
    await waitFor('delivered ticks', async () => (await lastTicks(f.alice)) === 'delivered');
    const unread = await waitFor("the unread badge on the doctor's home", () =>
      f.grey.evaluate((id) => document.querySelector(`[data-conversation="${id}"] [data-testid=unread]`)?.textContent || undefined, conversationId),
    );
    console.log(`[apps] the doctor's home shows ${unread} unread in the conversation`);
    expect(Number(unread)).toBeGreaterThanOrEqual(1);
    expect(await unlabelledControls(f.alice)).toEqual([]);
    const conversationShots = await screenshots(f.alice, 'app-conversation-delivered');
    console.log(`[apps] screenshots: ${conversationShots.join(', ')}`);

    await f.grey.click(`[data-conversation="${conversationId}"]`);
    await waitForSelector(f.grey, '.message.theirs .attachment');
    await waitFor('read ticks', async () => (await lastTicks(f.alice)) === 'read');
    const ticks = await f.alice.evaluate(() => (window as typeof window & { tickLog: string[] }).tickLog);
    console.log(`[apps] ticks went ${ticks.join(' → ')}`);
    expect(ticks[0]).toBe('sending');
    expect(ticks.slice(-2)).toEqual(['delivered', 'read']);
    expect(
      await f.alice.evaluate(() => [...document.querySelectorAll('.message.mine')].at(-1)?.querySelector('[data-testid=ticks]')?.getAttribute('aria-label')),
    ).toBe('Read');
    await screenshots(f.alice, 'app-conversation-read');

    await captureDownloads(f.grey);
    await f.grey.click('.message.theirs .attachment');
    const file = await waitFor('the attachment download', async () => (await downloads(f.grey))[0]);
    expect(file).toEqual({ name: 'bp-log.txt', text: FILE_TEXT });
  });

  it('loads older messages when the conversation is scrolled to the top', async () => {
    const conversationId = await f.alice.evaluate(() => /\/conversations\/([0-9a-f-]{36})/.exec(location.hash)?.[1] ?? '');
    // Forty more messages through the API with Alice's own session, as if sent earlier.
    await f.alice.evaluate(async (id) => {
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
    await f.grey.goto(`${f.platform.apiUrl}/#/`);
    await waitForSelector(f.grey, `[data-conversation="${conversationId}"]`);
    await f.grey.click(`[data-conversation="${conversationId}"]`);
    await waitFor('the newest page', async () => (await f.grey.evaluate(() => document.querySelectorAll('.message').length)) === 30);
    await f.grey.evaluate(() => document.querySelector('.messages')!.scrollTo({ top: 0 }));
    const total = await waitFor('older messages', async () => {
      const n = await f.grey.evaluate(() => document.querySelectorAll('.message').length);
      if (n < 41) await f.grey.evaluate(() => document.querySelector('.messages')!.scrollTo({ top: 0 }));
      return n >= 41 ? n : undefined;
    });
    console.log(`[apps] infinite scroll: ${total} messages after scrolling up`);
    const bodies = await f.grey.evaluate(() => [...document.querySelectorAll('.message .body')].map((b) => b.textContent ?? ''));
    // Oldest first, no gaps or repeats across the page boundary.
    const readings = bodies.filter((b) => b.startsWith('Reading ')).map((b) => Number(b.slice(8)));
    expect(readings).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(bodies.indexOf('Here is my blood pressure log')).toBeLessThan(bodies.indexOf('Reading 1'));
  });

  // A page's first /events socket replays nothing from before it opened (a reconnect does, from
  // its cursor): what was sent in between reaches the page through its lists being read again
  // once the socket is open, on the home page and in an open conversation.
  const held: TestPage[] = [];
  it("messages sent before a page's events socket opened show once it opens: a new conversation on the home page, a new message in the open one", async () => {
    const conversationId = await f.alice.evaluate(() => /\/conversations\/([0-9a-f-]{36})/.exec(location.hash)?.[1] ?? '');
    const signedIn = async (email: string, name: RegExp): Promise<TestPage> => {
      const page = await f.browser.newPage(undefined, { initScript: HOLD_EVENTS_SCRIPT });
      await page.setViewport(DESKTOP.width, DESKTOP.height);
      await signIn(page, f.platform.apiUrl, email, name);
      held.push(page);
      return page;
    };
    const bobHome = await signedIn(DEMO.bob, /Bob Patient/);
    await waitForSelector(bobHome, '[data-conversation]');
    const greyChat = await signedIn(DEMO.grey, /Meredith Grey/);
    await waitForSelector(greyChat, `[data-conversation="${conversationId}"]`);
    await greyChat.click(`[data-conversation="${conversationId}"]`);
    await waitFor('the conversation open', async () => (await greyChat.evaluate(() => document.querySelectorAll('.message').length)) === 30);

    // The doctor writes to Bob for the first time, and Alice writes to the doctor, through the API.
    const send = (page: TestPage, to: { conversationId?: string; email?: string }, body: string): Promise<string> =>
      page.evaluate(
        async ({ to, body }) => {
          const session = JSON.parse(sessionStorage.getItem('telemed.session') ?? '{}') as { accessToken: string };
          const headers = { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` };
          let id = to.conversationId;
          if (!id) {
            const contacts = (await (await fetch('/api/users/contacts', { headers })).json()) as { items: { id: string; email: string }[] };
            const member = contacts.items.find((c) => c.email === to.email)!;
            const created = await fetch('/api/conversations', { method: 'POST', headers, body: JSON.stringify({ kind: 'direct', memberIds: [member.id] }) });
            id = ((await created.json()) as { id: string }).id;
          }
          const res = await fetch(`/api/conversations/${id}/messages`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ clientId: crypto.randomUUID(), body }),
          });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          return id;
        },
        { to, body },
      );
    const toBob = await send(f.grey, { email: DEMO.bob }, 'Your results are in');
    await send(f.alice, { conversationId }, 'Are you there?');
    expect(await bobHome.evaluate((id) => document.querySelector(`[data-conversation="${id}"]`), toBob)).toBeNull();
    expect(await greyChat.evaluate(() => [...document.querySelectorAll('.message .body')].some((b) => b.textContent === 'Are you there?'))).toBe(false);

    await Promise.all([bobHome, greyChat].map(releaseEvents));
    await waitForText(bobHome, `[data-conversation="${toBob}"]`, /1 unread message/);
    const bodies = await waitFor('the new message in the open conversation', async () => {
      const list = await greyChat.evaluate(() => [...document.querySelectorAll('.message .body')].map((b) => b.textContent ?? ''));
      return list.includes('Are you there?') ? list : undefined;
    });
    // Merged in conversation order, once.
    expect(bodies.at(-1)).toBe('Are you there?');
    expect(bodies.filter((b) => b === 'Are you there?')).toHaveLength(1);
  });

  it('ran without page or server errors', () => {
    for (const page of held) expect(page.errors).toEqual([]);
    expect(f.alice.errors).toEqual([]);
    expect(f.grey.errors).toEqual([]);
    expect(f.platform.serverErrors).toEqual([]);
  });
});
