// One browser-test harness for every end-to-end test. A test asks for a browser by name and gets
// the same small page API whatever drives it (playwright-core for Chromium, puppeteer-core over
// WebDriver BiDi for Debian's stock Firefox ESR). Adding a browser is one entry in LAUNCHERS.
// Tests read no browser internals beyond what pages expose and getStats().
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import puppeteer, { type Page as PuppeteerPage } from 'puppeteer-core';
import { startXvfb } from './xvfb.js';

/** Every engine the harness drives: the call browsers, plus WebKitGTK (no WebRTC; see webkitgtk.ts). */
export type EngineName = BrowserName | 'webkitgtk';

export interface TestPage {
  readonly browser: EngineName;
  /** Console errors and uncaught page errors seen so far. */
  readonly errors: string[];
  goto(url: string): Promise<void>;
  /** Runs `fn` in the page with one serialisable argument and returns its serialisable result. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  click(selector: string): Promise<void>;
  /** Presses a key on the focused element, like a keyboard user ('Tab', 'Enter', 'Space'...); not on WebKitGTK. */
  press?: (key: string) => Promise<void>;
  text(selector: string): Promise<string>;
  setViewport(width: number, height: number): Promise<void>;
  screenshot(path: string): Promise<void>;
  close(): Promise<void>;
}

export interface PageOptions {
  /**
   * Chromium only: the page's Content-Security-Policy does not apply to what the test injects (a
   * test harness that imports the SDK bundle from another origin). The apps' own CSP is checked
   * by the app tests, which never set this.
   */
  bypassCsp?: boolean;
  /** Script source run in every document of the page before its own scripts (Chromium and Firefox). */
  initScript?: string;
}

export interface TestBrowser {
  readonly name: EngineName;
  /** The engine's version string (e.g. "chromium 156.0…", "firefox 153.7.0esr"). */
  readonly version: string;
  /** A page in a fresh context (own storage and permissions), already at `url` when given. */
  newPage(url?: string, options?: PageOptions): Promise<TestPage>;
  close(): Promise<void>;
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // 15 frames/s from the fake camera (its default is 20): the tests check that video flows and
  // which layers are forwarded, not smoothness, and four pages' encoders and decoders share 2 cores.
  '--use-fake-device-for-media-stream=fps=15',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

export interface LaunchOptions {
  /** Run headful on this X display (see xvfb.ts): screen capture needs a window and a real click. */
  display?: string;
  /** Chromium only: more command-line switches (e.g. `--host-resolver-rules=...`). */
  args?: string[];
  /** Chromium only: a HOME of its own, e.g. one whose NSS database (~/.pki/nssdb) trusts a test CA. */
  home?: string;
  /** Run the browser inside this network namespace (network/testbed.ts, deploy/netbed); the driver stays outside. */
  netns?: string;
  /**
   * Plain-HTTP origins to treat as secure contexts (camera, microphone and WebRTC need one), e.g. a
   * platform listening on a test bed address rather than loopback. `http://host:port`.
   */
  secureOrigins?: string[];
  /** Firefox only: headless, without a private Xvfb display (no screen capture), whatever TELEMED_FIREFOX_HEADLESS says. */
  headless?: boolean;
  /** Firefox only: a profile directory to start from, e.g. one whose cert9.db trusts a test CA (tls.ts). */
  firefoxProfile?: string;
}

/**
 * An executable that starts `binary` inside `netns`. Chromium is driven over inherited pipes, which
 * `ip netns exec` passes on; Firefox over a WebSocket on its namespace's loopback, which
 * netns-browser.mjs forwards to the host.
 */
function netnsWrapper(netns: string, binary: string, engine: BrowserName): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-netns-'));
  const file = path.join(dir, engine);
  const forwarder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'network', 'netns-browser.mjs');
  const command =
    engine === 'firefox' ? `exec "${process.execPath}" "${forwarder}" "${netns}" "${binary}" "$@"` : `exec ip netns exec "${netns}" "${binary}" "$@"`;
  fs.writeFileSync(file, `#!/bin/sh\n${command}\n`, { mode: 0o755 });
  return file;
}

/** Collects console errors and uncaught page errors; both drivers' console messages have type() and text(). */
function errorSink(): {
  seen: string[];
  console: (message: { type(): string; text(): string; location?(): { url?: string } }) => void;
  pageError: (error: unknown) => void;
} {
  const seen: string[] = [];
  return {
    seen,
    console: (message) => {
      if (message.type() !== 'error') return;
      // "Failed to load resource: … 401" names no request: the console message's location does.
      const url = /^Failed to load resource/.test(message.text()) ? message.location?.().url : undefined;
      seen.push(url ? `${message.text()} (${url})` : message.text());
    },
    pageError: (error) => seen.push(error instanceof Error ? error.message : String(error)),
  };
}

/**
 * Runs in every page before its own scripts (injected by the driver, so the page's CSP does not
 * apply to it): each Content-Security-Policy violation becomes a console error that names it, which
 * the error sink records and `policyViolations()` picks out.
 */
function reportPolicyViolations(): void {
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(
      `CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile || e.documentURI}:${e.lineNumber}${e.sample ? ` (${e.sample})` : ''}`,
    );
  });
}

/** The recorded errors that are CSP violations or Permissions-Policy header errors. */
export function policyViolations(page: TestPage): string[] {
  return page.errors.filter((message) => /CSP violation|Content Security Policy|Permissions-Policy/i.test(message));
}

function processEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return env;
}

function displayEnv(display: string | undefined): Record<string, string> | undefined {
  return display ? { ...processEnv(), DISPLAY: display } : undefined;
}

/** Debian's Chromium through playwright-core, headless, fake camera/mic/screen, no prompts. */
async function launchChromium(options: LaunchOptions): Promise<TestBrowser> {
  // Playwright gives each launch a fresh, empty profile directory.
  const display = displayEnv(options.display);
  const env = options.home ? { ...(display ?? processEnv()), HOME: options.home } : display;
  const binary = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const wrapper = options.netns ? netnsWrapper(options.netns, binary, 'chromium') : undefined;
  const browser = await chromium
    .launch({
      executablePath: wrapper ?? binary,
      headless: !options.display,
      args: [
        ...CHROMIUM_ARGS,
        ...(options.secureOrigins?.length ? [`--unsafely-treat-insecure-origin-as-secure=${options.secureOrigins.join(',')}`] : []),
        ...(options.args ?? []),
      ],
      ...(env ? { env } : {}),
    })
    .finally(() => wrapper && fs.rmSync(path.dirname(wrapper), { recursive: true, force: true }));
  const openPage = async (pageOptions: PageOptions = {}): Promise<TestPage> => {
    const context = await browser.newContext({ permissions: ['camera', 'microphone'], ...(pageOptions.bypassCsp ? { bypassCSP: true } : {}) });
    await context.addInitScript(reportPolicyViolations);
    if (pageOptions.initScript) await context.addInitScript(pageOptions.initScript);
    return playwrightPage('chromium', await context.newPage(), () => context.close());
  };
  return testBrowser('chromium', `chromium ${browser.version()}`, openPage, () => browser.close());
}

export function testBrowser(
  name: EngineName,
  version: string,
  openPage: (options?: PageOptions) => Promise<TestPage>,
  close: () => Promise<void>,
): TestBrowser {
  return {
    name,
    version,
    async newPage(url, options) {
      const page = await openPage(options);
      if (url) await page.goto(url);
      return page;
    },
    close,
  };
}

function playwrightPage(name: BrowserName, page: Page, close: () => Promise<void>): TestPage {
  const errors = errorSink();
  page.on('console', errors.console);
  page.on('pageerror', errors.pageError);
  return {
    browser: name,
    errors: errors.seen,
    goto: async (url) => void (await page.goto(url)),
    evaluate: (fn, arg) => page.evaluate(fn as (a: unknown) => never, arg),
    click: (selector) => page.click(selector),
    press: (key) => page.keyboard.press(key),
    text: async (selector) => (await page.textContent(selector)) ?? '',
    setViewport: (width, height) => page.setViewportSize({ width, height }),
    screenshot: async (path) => void (await page.screenshot({ path, fullPage: true })),
    close,
  };
}

/**
 * Fake camera and microphone with no prompts, and ICE over loopback: without
 * `media.peerconnection.ice.loopback` (and the camera/microphone permissions, which Firefox ties
 * to exposing host candidates) Firefox gathers no 127.0.0.1 candidate and ICE to the local SFU
 * fails, most of all on a page that only receives.
 */
const FIREFOX_PREFS: Record<string, unknown> = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.peerconnection.ice.loopback': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // Firefox holds enumerateDevices() until the page has focus; with several windows only the last
  // one has it (Chromium does not wait).
  'media.devices.unfocused.enabled': true,
  // This machine has no sound card: Firefox's AudioContext then never starts (a microphone level
  // meter stays at 0), where Chromium uses a fake output. Firefox's own test pref for a mock one.
  'media.cubeb.force_mock_context': true,
  // Resource use on a shared 2-core machine. The fake camera at 15 frames/s instead of 30 (as
  // Chromium's above): a four-Firefox room encoded and decoded 16 streams at 30 and starved.
  'media.navigator.video.default_fps': 15,
};

/** Firefox windows on the private display: four fit side by side. */
const TILE = { width: 960, height: 600 } as const;

/**
 * Debian's Firefox ESR through puppeteer-core over WebDriver BiDi (Playwright needs its own patched
 * Firefox). Firefox's getDisplayMedia does not work headless, so unless a display is given it runs
 * headful on a private Xvfb display of its own: screen share then works in every call test after a
 * real click. TELEMED_FIREFOX_HEADLESS=1 runs it headless instead (no screen capture).
 */
async function launchFirefox(options: LaunchOptions): Promise<TestBrowser> {
  const headless = options.headless ?? process.env.TELEMED_FIREFOX_HEADLESS === '1';
  const ownDisplay = !options.display && !headless ? await startXvfb(`${TILE.width * 2}x${TILE.height * 2}x24`) : undefined;
  const display = options.display ?? ownDisplay?.display;
  const env = displayEnv(display);
  const firefoxBinary = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
  const wrapper = options.netns ? netnsWrapper(options.netns, firefoxBinary, 'firefox') : undefined;
  try {
    // puppeteer gives each launch a fresh temporary profile with these prefs.
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: wrapper ?? firefoxBinary,
      headless: !display,
      ...(options.firefoxProfile ? { userDataDir: options.firefoxProfile } : {}),
      extraPrefsFirefox: options.secureOrigins?.length
        ? { ...FIREFOX_PREFS, 'dom.securecontext.allowlist': options.secureOrigins.map((o) => new URL(o).hostname).join(',') }
        : FIREFOX_PREFS,
      ...(env ? { env } : {}),
    });
    let opened = 0;
    const openPage = async (pageOptions: PageOptions = {}): Promise<TestPage> => {
      if (pageOptions.bypassCsp) throw new Error('bypassCsp: Chromium pages only');
      const context = await browser.createBrowserContext();
      // A window per page, as Playwright gives Chromium: tabs sharing a window are hidden
      // (document.visibilityState), and the SDK's adaptive stream pauses video nobody can see.
      // Side by side, not stacked: a Firefox window hidden under another one stops sending video.
      const slot = opened++ % 4;
      const windowBounds = { left: (slot % 2) * TILE.width, top: Math.floor(slot / 2) * TILE.height, width: TILE.width, height: TILE.height };
      const page = await context.newPage({ type: 'window', windowBounds });
      await page.evaluateOnNewDocument(reportPolicyViolations);
      if (pageOptions.initScript) await page.evaluateOnNewDocument(pageOptions.initScript);
      return puppeteerPage('firefox', page, () => context.close());
    };
    const close = async (): Promise<void> => {
      await browser.close();
      await ownDisplay?.stop();
    };
    return testBrowser(
      'firefox',
      `firefox ${(await browser.version()).replace(/^firefox\//i, '')}${display ? ' (headful, Xvfb)' : ' (headless)'}`,
      openPage,
      close,
    );
  } catch (error) {
    await ownDisplay?.stop();
    throw error;
  } finally {
    if (wrapper) fs.rmSync(path.dirname(wrapper), { recursive: true, force: true });
  }
}

function puppeteerPage(name: BrowserName, page: PuppeteerPage, close: () => Promise<void>): TestPage {
  const errors = errorSink();
  page.on('console', errors.console);
  page.on('pageerror', errors.pageError);
  let closed = false;
  return {
    browser: name,
    errors: errors.seen,
    goto: async (url) => void (await page.goto(url)),
    evaluate: (fn, arg) => page.evaluate(fn as (a: unknown) => never, arg),
    // A real input action (WebDriver BiDi input.performActions): counts as a user gesture.
    click: (selector) => page.click(selector),
    text: (selector) => page.$eval(selector, (element) => element.textContent ?? ''),
    setViewport: (width, height) => page.setViewport({ width, height }),
    screenshot: async (path) => void (await page.screenshot({ path: path as `${string}.png`, fullPage: true })),
    close: async () => {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}

const LAUNCHERS = {
  chromium: launchChromium,
  firefox: launchFirefox,
} satisfies Record<string, (options: LaunchOptions) => Promise<TestBrowser>>;

/** A browser that can make calls: one entry in LAUNCHERS. */
export type BrowserName = keyof typeof LAUNCHERS;

function parseBrowsers(value: string | undefined, fallback: BrowserName[]): BrowserName[] {
  if (!value) return fallback;
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names)
    if (!(name in LAUNCHERS)) throw new Error(`unknown browser "${name}" in TELEMED_BROWSERS (known: ${Object.keys(LAUNCHERS).join(', ')})`);
  return names as BrowserName[];
}

/** Browsers every call test runs in: every launcher; TELEMED_BROWSERS=chromium narrows it. */
export const BROWSERS: BrowserName[] = parseBrowsers(process.env.TELEMED_BROWSERS, Object.keys(LAUNCHERS) as BrowserName[]);

export function launchBrowser(name: BrowserName, options: LaunchOptions = {}): Promise<TestBrowser> {
  return LAUNCHERS[name](options);
}
