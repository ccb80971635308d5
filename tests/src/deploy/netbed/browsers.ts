// Browsers inside a host of the namespace test bed, driven from outside it (launchBrowser's `netns`).
// Each trusts the bed's test CA in a certificate store of its own: no certificate error is ignored.
import { launchBrowser, type BrowserName, type TestBrowser } from '../../browser.js';
import { chromiumHomeTrusting, firefoxProfileTrusting, type TestCa } from '../tls.js';
import type { NetBed } from './netns.js';

/** Launches `engine` inside `host`'s namespace, trusting the bed's test CA. */
export async function launchInHost(bed: NetBed, host: string, engine: BrowserName, ca: TestCa): Promise<TestBrowser> {
  const ns = bed.hosts[host]?.ns;
  if (!ns) throw new Error(`no host ${host} in the bed`);
  return engine === 'chromium'
    ? launchBrowser('chromium', { netns: ns, home: chromiumHomeTrusting(ca, host) })
    : launchBrowser('firefox', { netns: ns, firefoxProfile: firefoxProfileTrusting(ca, host), headless: true });
}
