// The SDK's self-contained browser bundle served like a CDN would (any origin may import it), so a
// test can drive the public SDK with its own options from a page of any origin, e.g. the API's.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Sdk from '@telemed/sdk';
import type { TestBrowser, TestPage } from '../browser.js';

const BUNDLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'sdk', 'dist', 'telemed-sdk.browser.mjs');

export interface SdkSite {
  /** The site's origin: it also serves an empty page at `/`, a third-party app's page. */
  origin: string;
  /** The bundle's URL, for `await import(url)` in a page. */
  bundleUrl: string;
  close(): Promise<void>;
}

export async function serveSdkBundle(): Promise<SdkSite> {
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>An app using the Telemed SDK</title>');
    if (pathname !== '/telemed-sdk.browser.mjs') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*' }).end(fs.readFileSync(BUNDLE));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    bundleUrl: `${origin}/telemed-sdk.browser.mjs`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Loads the bundle into `page` as `window.sdk`. */
async function loadSdk(page: TestPage, site: SdkSite): Promise<TestPage> {
  await page.evaluate(async (url) => {
    // Built at run time: the test runner rewrites a literal import() in test code.
    const load = new Function('url', 'return import(url)') as (url: string) => Promise<typeof Sdk>;
    window.sdk = await load(url);
  }, site.bundleUrl);
  return page;
}

/**
 * A page of the SDK site's own origin with the SDK loaded as `window.sdk`: a third-party app's
 * page, in any browser. It reaches the API across origins (the API must list it in CORS_ORIGINS).
 */
export async function sdkSitePage(browser: TestBrowser, site: SdkSite): Promise<TestPage> {
  return loadSdk(await browser.newPage(`${site.origin}/`), site);
}

/**
 * A page at `origin` (any page there; nothing of it is used) with the SDK loaded as `window.sdk`.
 * The import from the bundle's origin is the test's instrumentation, not the page's: it bypasses
 * the page's Content-Security-Policy (Chromium only).
 */
export async function sdkPage(browser: TestBrowser, originPage: string, site: SdkSite): Promise<TestPage> {
  return loadSdk(await browser.newPage(originPage, { bypassCsp: true }), site);
}
