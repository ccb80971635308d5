// Helpers for driving the demo app and the admin dashboard through the harness's small page API:
// typing goes through the DOM's own input events so Preact sees it like a person's typing.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestPage } from '../browser.js';
import { waitFor } from '@telemed/test-kit';

export const SCREENSHOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test-results', 'screenshots');

export const PHONE = { width: 375, height: 667 } as const;
export const DESKTOP = { width: 1280, height: 800 } as const;

export const DEMO_PASSWORD = 'telemed-demo';
export const DEMO = {
  alice: 'alice@patients.demo',
  bob: 'bob@patients.demo',
  grey: 'grey@doctors.demo',
  admin: 'admin@telemed.demo',
} as const;

/**
 * Runs in the page: its /events sockets start connecting only once the test calls
 * {@link releaseEvents} (a stand-in that the SDK holds meanwhile, as a slow network or a busy
 * machine would hold the real one); other sockets are native.
 */
export const HOLD_EVENTS_SCRIPT = `(() => {
  const Native = window.WebSocket;
  const waiting = [];
  function Held(url, protocols) {
    if (!String(url).includes('/events')) return new Native(url, protocols);
    let real;
    const socket = {
      CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3,
      onopen: null, onmessage: null, onclose: null, onerror: null,
      get readyState() { return real ? real.readyState : 0; },
      send(data) { real.send(data); },
      close(code, reason) { if (real) real.close(code, reason); },
    };
    const connect = () => {
      real = new Native(url, protocols);
      for (const type of ['open', 'message', 'close', 'error']) real.addEventListener(type, (event) => socket['on' + type]?.call(socket, event));
    };
    if (window.telemedEventsOpen) connect();
    else waiting.push(connect);
    return socket;
  }
  Object.assign(Held, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket = Held;
  window.telemedReleaseEvents = () => {
    window.telemedEventsOpen = true;
    waiting.splice(0).forEach((connect) => connect());
  };
})();`;

/** Lets the /events sockets of a page opened with {@link HOLD_EVENTS_SCRIPT} connect. */
export async function releaseEvents(page: TestPage): Promise<void> {
  await page.evaluate(() => (window as typeof window & { telemedReleaseEvents: () => void }).telemedReleaseEvents());
}

/**
 * Holds the page's next read of one call (`GET /api/calls/:id`) made while `whileShown` is on the
 * page: the server answers at once, the page gets the answer only at {@link releaseCallRead}, as
 * over a slow network, so events sent meanwhile reach the page before an answer that predates them.
 */
export async function holdNextCallRead(page: TestPage, whileShown: string): Promise<void> {
  await page.evaluate((whileShown) => {
    const w = window as typeof window & { telemedCallRead?: { release: () => void; held: boolean; parsed: boolean } };
    const native = window.fetch;
    const state = { release: () => undefined as void, held: false, parsed: false };
    w.telemedCallRead = state;
    const gate = new Promise<void>((resolve) => (state.release = resolve));
    window.fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input), location.href);
      const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
      const held = !state.held && method === 'GET' && /^\/api\/calls\/[0-9a-f-]{36}$/.test(url.pathname) && document.querySelector(whileShown) !== null;
      if (!held) return native(input, init);
      state.held = true;
      window.fetch = native;
      const res = await native(input, init);
      await gate;
      const json = res.json.bind(res);
      res.json = () =>
        json().then((body: unknown) => {
          state.parsed = true;
          return body;
        });
      return res;
    };
  }, whileShown);
}

/** Resolves once the page has painted what it last rendered: two animation frames later. */
function painted(page: TestPage): Promise<void> {
  return page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
}

/**
 * Lets the read held by {@link holdNextCallRead} reach the page and waits until the page has
 * parsed it and painted twice since. False if no read was held.
 */
export async function releaseCallRead(page: TestPage): Promise<boolean> {
  const held = await page.evaluate(() => {
    const state = (window as typeof window & { telemedCallRead?: { release: () => void; held: boolean } }).telemedCallRead;
    state?.release();
    return state?.held ?? false;
  });
  if (!held) return false;
  await waitFor('the held call read parsed by the page', () =>
    page.evaluate(() => (window as typeof window & { telemedCallRead?: { parsed: boolean } }).telemedCallRead?.parsed || undefined),
  );
  await painted(page);
  return true;
}

/** Sets an input's or select's value and fires the events a person's typing would. */
export function fill(page: TestPage, selector: string, value: string): Promise<void> {
  return page.evaluate(
    ({ selector, value }) => {
      const element = document.querySelector(selector);
      if (!(element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement))
        throw new Error(`no input ${selector}`);
      const proto = Object.getPrototypeOf(element) as object;
      Object.getOwnPropertyDescriptor(proto, 'value')?.set?.call(element, value);
      element.dispatchEvent(new Event('input', { bubbles: true }));
      element.dispatchEvent(new Event('change', { bubbles: true }));
    },
    { selector, value },
  );
}

export function exists(page: TestPage, selector: string): Promise<boolean> {
  return page.evaluate((s) => document.querySelector(s) !== null, selector);
}

export async function waitForSelector(page: TestPage, selector: string, timeoutMs = 15_000): Promise<true> {
  try {
    return await waitFor(`${selector} on ${page.browser}`, () => exists(page, selector), { timeoutMs });
  } catch (error) {
    // What the page showed instead says where the flow went.
    const seen = await page
      .evaluate(
        () => `${location.hash || '/'}, page: ${JSON.stringify((document.querySelector('main')?.textContent ?? '').replace(/\s+/g, ' ').slice(0, 300))}`,
      )
      .catch((e: Error) => `(page unreadable: ${e.message})`);
    throw new Error(`${(error as Error).message}; the page showed ${seen}`, { cause: error });
  }
}

export async function waitForText(page: TestPage, selector: string, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  let seen = { text: '', at: '', main: '' };
  return waitFor(
    `${selector} to match ${pattern}`,
    async () => {
      seen = await page.evaluate(
        (s) => ({
          text: document.querySelector(s)?.textContent ?? '',
          at: location.hash,
          main: (document.querySelector('main')?.textContent ?? '').replace(/\s+/g, ' ').slice(0, 300),
        }),
        selector,
      );
      return pattern.test(seen.text) ? seen.text : undefined;
    },
    // What the page showed instead says where the flow went.
    { timeoutMs, lastSeen: () => `${JSON.stringify(seen.text)} at ${seen.at || '/'}, page: ${JSON.stringify(seen.main)}` },
  );
}

/**
 * Waits until a doctor in a call is shown that `name` waits in its lobby. A timeout says what the
 * server holds meanwhile (each participant's status, as the doctor's session reads the call), so
 * that an event lost on the way tells apart from a request that never reached the server.
 */
export async function waitForLobbyRequest(doctor: TestPage, name: string): Promise<void> {
  let server = 'not read';
  await waitFor(
    `the doctor shown that ${name} waits in the lobby`,
    async () => {
      const shown = await doctor.evaluate(() => document.querySelector('[data-testid=lobby-requests]')?.textContent ?? '');
      if (shown.includes(`${name} is waiting`)) return true;
      server = await doctor.evaluate(async () => {
        const callId = /\/call\/([0-9a-f-]{36})/.exec(location.hash)?.[1];
        const session = JSON.parse(sessionStorage.getItem('telemed.session') ?? '{}') as { accessToken?: string };
        if (!callId || !session.accessToken) return `no call in ${location.hash} or no session`;
        const res = await fetch(`/api/calls/${callId}`, { headers: { authorization: `Bearer ${session.accessToken}` } });
        if (!res.ok) return `GET /api/calls/${callId}: HTTP ${res.status}`;
        const call = (await res.json()) as { status: string; participants: { displayName: string; status: string }[] };
        return `call ${call.status}: ${call.participants.map((p) => `${p.displayName} ${p.status}`).join(', ')}`;
      });
      return undefined;
    },
    { intervalMs: 1000, lastSeen: () => `no request shown; the server says ${server}` },
  );
}

/** Screenshots at phone and desktop sizes; returns the files written. */
export async function screenshots(page: TestPage, name: string, restore = DESKTOP): Promise<string[]> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const files: string[] = [];
  for (const size of [PHONE, DESKTOP]) {
    await page.setViewport(size.width, size.height);
    await painted(page);
    // Nothing may stick out sideways: a phone would scroll horizontally.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (overflow > 0) throw new Error(`${name} is ${overflow} px wider than the ${size.width} px viewport`);
    const file = path.join(SCREENSHOT_DIR, `${name}-${size.width}x${size.height}.png`);
    await page.screenshot(file);
    files.push(file);
  }
  await page.setViewport(restore.width, restore.height);
  return files;
}

/** Every control a keyboard user can reach has an accessible name; returns those without one. */
export function unlabelledControls(page: TestPage): Promise<string[]> {
  return page.evaluate(() => {
    const missing: string[] = [];
    for (const element of document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [role=tab]')) {
      if (element instanceof HTMLInputElement && element.type === 'hidden') continue;
      const labelled =
        element.getAttribute('aria-label') ||
        element.getAttribute('aria-labelledby') ||
        ((element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement) &&
          element.labels &&
          element.labels.length > 0) ||
        (element.textContent ?? '').trim() ||
        element.getAttribute('title');
      if (!labelled) missing.push(element.outerHTML.slice(0, 120));
    }
    return missing;
  });
}

/** Opens the app and signs in through the login form (a seeded demo account unless `password` is given). */
export async function signIn(page: TestPage, apiUrl: string, email: string, name: RegExp, password = DEMO_PASSWORD): Promise<void> {
  await page.goto(`${apiUrl}/`);
  await waitForSelector(page, '#login-email');
  await fill(page, '#login-email', email);
  await fill(page, '#login-password', password);
  await page.click('form button[type=submit]');
  await waitForText(page, '[data-testid=current-user]', name);
}

/** Frames the page has rendered of the other side's camera (0 when none is shown). */
export function remoteVideoFrames(page: TestPage): Promise<{ frames: number; width: number }> {
  return page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>('.tile:not(.local):not(.screen) video');
    if (!video) return { frames: 0, width: 0 };
    return { frames: video.getVideoPlaybackQuality().totalVideoFrames, width: video.videoWidth };
  });
}

/** The rows of the home page's recent-calls list. */
export function callHistory(page: TestPage): Promise<{ id: string; status: string; result: string }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid=call-history] [data-call]')].map((li) => ({
      id: li.dataset.call ?? '',
      status: li.dataset.status ?? '',
      result: li.querySelector('[data-testid=call-result]')?.textContent ?? '',
    })),
  );
}

/**
 * Records the files the page downloads through `<a download>` (name and text), from now on. A
 * blob: link is read from the Blob the page made (a fetch of it is not allowed by the apps'
 * connect-src), any other link is fetched.
 */
export function captureDownloads(page: TestPage): Promise<void> {
  return page.evaluate(() => {
    const w = window as typeof window & { downloads?: Promise<{ name: string; text: string }>[] };
    if (w.downloads) return;
    w.downloads = [];
    const blobs = new Map<string, Blob>();
    const createObjectURL = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (object: Blob | MediaSource) => {
      const url = createObjectURL(object);
      if (object instanceof Blob) blobs.set(url, object);
      return url;
    };
    const click = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
      if (this.download) {
        const name = this.download;
        const blob = blobs.get(this.href);
        w.downloads!.push((blob ? blob.text() : fetch(this.href).then((r) => r.text())).then((text) => ({ name, text })));
      }
      return click.call(this);
    };
  });
}

export function downloads(page: TestPage): Promise<{ name: string; text: string }[]> {
  return page.evaluate(() => Promise.all((window as typeof window & { downloads?: Promise<{ name: string; text: string }>[] }).downloads ?? []));
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  const [header = [], ...body] = rows;
  return body.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
}
