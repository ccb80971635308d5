// One browser-test harness for every end-to-end test. A test asks for a browser by name and gets
// the same small page API whatever drives it (Playwright for Chromium; Firefox is added as one more
// entry in LAUNCHERS). Tests read no browser internals beyond what pages expose and getStats().
import { chromium, type Page } from 'playwright-core';

export type BrowserName = 'chromium' | 'firefox';

/** Browsers every call test runs in; TELEMED_BROWSERS=chromium narrows it. */
export const BROWSERS: BrowserName[] = parseBrowsers(process.env.TELEMED_BROWSERS, ['chromium']);

function parseBrowsers(value: string | undefined, fallback: BrowserName[]): BrowserName[] {
  if (!value) return fallback;
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) if (!(name in LAUNCHERS)) throw new Error(`unknown browser "${name}" in TELEMED_BROWSERS`);
  return names as BrowserName[];
}

export interface TestPage {
  readonly browser: BrowserName;
  /** Console errors and uncaught page errors seen so far. */
  readonly errors: string[];
  goto(url: string): Promise<void>;
  /** Runs `fn` in the page with one serialisable argument and returns its serialisable result. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  click(selector: string): Promise<void>;
  text(selector: string): Promise<string>;
  setViewport(width: number, height: number): Promise<void>;
  screenshot(path: string): Promise<void>;
  close(): Promise<void>;
}

export interface TestBrowser {
  readonly name: BrowserName;
  /** A page in a fresh context (own storage and permissions), already at `url` when given. */
  newPage(url?: string): Promise<TestPage>;
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
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

/** Debian's Chromium through playwright-core, headless, fake camera/mic/screen, no prompts. */
async function launchChromium(): Promise<TestBrowser> {
  // Playwright gives each launch a fresh, empty profile directory.
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  return {
    name: 'chromium',
    async newPage(url) {
      const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(error.message));
      const testPage = playwrightPage('chromium', page, errors, () => context.close());
      if (url) await testPage.goto(url);
      return testPage;
    },
    close: () => browser.close(),
  };
}

function playwrightPage(name: BrowserName, page: Page, errors: string[], close: () => Promise<void>): TestPage {
  return {
    browser: name,
    errors,
    goto: async (url) => void (await page.goto(url)),
    evaluate: (fn, arg) => page.evaluate(fn as (a: unknown) => never, arg),
    click: (selector) => page.click(selector),
    text: async (selector) => (await page.textContent(selector)) ?? '',
    setViewport: (width, height) => page.setViewportSize({ width, height }),
    screenshot: async (path) => void (await page.screenshot({ path, fullPage: true })),
    close,
  };
}

const LAUNCHERS: Record<BrowserName, (() => Promise<TestBrowser>) | undefined> = {
  chromium: launchChromium,
  firefox: undefined,
};

export async function launchBrowser(name: BrowserName): Promise<TestBrowser> {
  const launch = LAUNCHERS[name];
  if (!launch) throw new Error(`no launcher for ${name} yet`);
  return launch();
}
