// WebKitGTK (Debian's MiniBrowser, driven by WebKitWebDriver from webkit2gtk-driver) behind the
// same TestPage API. Debian builds it without WebRTC, so it is not a call browser (not in
// BROWSERS): tests use it to prove that an unsupported browser gets a clear answer. It has no
// headless mode and needs an X display (see xvfb.ts). This speaks classic W3C WebDriver over
// HTTP: one driver process and one session per page.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { testBrowser, type PageOptions, type TestBrowser, type TestPage } from './browser.js';

import { stopProcess } from './xvfb.js';
import { freePortRange, waitFor } from '@telemed/test-kit';

const MINIBROWSER = process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const DRIVER = process.env.WEBKIT_WEBDRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
/** Mock camera, microphone and screen; --automation lets WebKitWebDriver control the window. */
const MINIBROWSER_ARGS = ['--automation', '--enable-mock-capture-devices=true'];
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

interface WebDriverReply {
  value: unknown;
}

class WebDriverError extends Error {}

export function launchWebKitGtk(options: { display: string }): Promise<TestBrowser> {
  let version = 'webkitgtk';
  const pages = new Set<TestPage>();
  const openPage = async (pageOptions: PageOptions = {}): Promise<TestPage> => {
    if (pageOptions.bypassCsp || pageOptions.initScript) throw new Error('bypassCsp and initScript: not on WebKitGTK');
    const opened = await openSession(options.display);
    version = `webkitgtk ${opened.browserVersion}`;
    pages.add(opened.page);
    return opened.page;
  };
  const browser = testBrowser('webkitgtk', version, openPage, async () => {
    await Promise.all([...pages].map((page) => page.close()));
  });
  // WebKitWebDriver reports the engine version only with a session.
  return Promise.resolve({
    ...browser,
    get version() {
      return version;
    },
  });
}

async function openSession(display: string): Promise<{ page: TestPage; browserVersion: string }> {
  const port = await freePortRange(1);
  const driver = spawn(DRIVER, [`--port=${port}`, '--host=127.0.0.1'], { env: { ...process.env, DISPLAY: display }, stdio: ['ignore', 'ignore', 'pipe'] });
  let driverLog = '';
  driver.stderr.on('data', (chunk: Buffer) => (driverLog += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const reply = (await res.json()) as WebDriverReply;
    if (!res.ok) throw new WebDriverError(`WebKitWebDriver ${method} ${path}: ${JSON.stringify(reply.value)}`);
    return reply.value;
  };
  try {
    await waitFor('WebKitWebDriver to listen', () => fetch(`${base}/status`).then((res) => (res.ok ? true : undefined)), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const created = (await call('POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: MINIBROWSER_ARGS } } },
    })) as { sessionId: string; capabilities: { browserVersion?: string } };
    const page = webDriverPage(`/session/${created.sessionId}`, call, async () => {
      await call('DELETE', `/session/${created.sessionId}`).catch(() => undefined);
      await stopProcess(driver);
    });
    return { page, browserVersion: created.capabilities.browserVersion ?? 'unknown' };
  } catch (error) {
    await stopProcess(driver);
    throw new Error(
      `could not start WebKitGTK (apt-get install webkit2gtk-driver): ${error instanceof Error ? error.message : String(error)}; driver log: ${driverLog.slice(-500)}`,
    );
  }
}

type Call = (method: string, path: string, body?: unknown) => Promise<unknown>;

function webDriverPage(session: string, call: Call, close: () => Promise<void>): TestPage {
  // Classic WebDriver has no console events, so `errors` stays empty here: WebKitGTK tests assert
  // the page's own state (window.telemed.error, the text shown) instead.
  const errors: string[] = [];
  const find = async (selector: string): Promise<string> => {
    const found = (await call('POST', `${session}/element`, { using: 'css selector', value: selector })) as Record<string, string>;
    const id = found[ELEMENT];
    if (!id) throw new WebDriverError(`no element for ${selector}`);
    return id;
  };
  let closed = false;
  return {
    browser: 'webkitgtk',
    errors,
    goto: async (url) => void (await call('POST', `${session}/url`, { url })),
    async evaluate(fn, arg) {
      // The function travels as source, like Playwright and puppeteer do; the result as JSON.
      const script = `const done = arguments[arguments.length - 1];
        Promise.resolve().then(() => (${fn.toString()})(arguments[0]))
          .then((value) => done({ ok: true, value, isUndefined: value === undefined }), (error) => done({ ok: false, error: String(error && error.stack || error) }));`;
      const result = (await call('POST', `${session}/execute/async`, { script, args: [arg ?? null] })) as {
        ok: boolean;
        value?: unknown;
        isUndefined?: boolean;
        error?: string;
      };
      if (!result.ok) throw new Error(`evaluate failed in WebKitGTK: ${result.error}`);
      // JSON has no undefined: keep it distinct from null, as the other drivers do.
      return (result.isUndefined ? undefined : result.value) as never;
    },
    click: async (selector) => void (await call('POST', `${session}/element/${await find(selector)}/click`, {})),
    text: async (selector) => String(await call('GET', `${session}/element/${await find(selector)}/text`)),
    setViewport: async (width, height) => void (await call('POST', `${session}/window/rect`, { width, height })),
    screenshot: async (path) => {
      const png = String(await call('GET', `${session}/screenshot`));
      await writeFile(path, Buffer.from(png, 'base64'));
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}
