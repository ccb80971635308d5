// Browsers inside a host of the namespace test bed, driven from outside it. The driver starts a
// small wrapper executable instead of the browser: Chromium (Playwright, pipes) runs under
// `ip netns exec`; Firefox (puppeteer over WebDriver BiDi, a WebSocket on the namespace's loopback)
// runs under netns-browser.mjs, which forwards that socket out. Each trusts the bed's test CA in a
// certificate store of its own: no certificate error is ignored.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, type BrowserName, type TestBrowser } from '../../browser.js';
import { chromiumHomeTrusting, firefoxProfileTrusting, type TestCa } from '../tls.js';
import type { NetBed } from './netns.js';

const NETNS_BROWSER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'netns-browser.mjs');
const BINARIES: Record<BrowserName, string> = {
  chromium: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  firefox: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
};

/** Launches `engine` inside `host`'s namespace; `dir` holds its wrapper and certificate store. */
export async function launchInHost(bed: NetBed, host: string, engine: BrowserName, ca: TestCa): Promise<TestBrowser> {
  const ns = bed.hosts[host]?.ns;
  if (!ns) throw new Error(`no host ${host} in the bed`);
  const wrapper = path.join(ca.dir, `${engine}-${host}.sh`);
  const inner = engine === 'chromium'
    ? `exec ip netns exec ${ns} ${BINARIES.chromium} "$@"`
    : `exec ${process.execPath} ${NETNS_BROWSER} ${ns} ${BINARIES.firefox} "$@"`;
  fs.writeFileSync(wrapper, `#!/bin/sh\n${inner}\n`, { mode: 0o755 });
  return engine === 'chromium'
    ? launchBrowser('chromium', { executablePath: wrapper, home: chromiumHomeTrusting(ca, host) })
    : launchBrowser('firefox', { executablePath: wrapper, firefoxProfile: firefoxProfileTrusting(ca, host), headless: true });
}
