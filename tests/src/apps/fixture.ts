// One platform, one Chromium and the demo patient and doctor signed in, per test file.
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { launchBrowser, policyViolations, type PageOptions, type TestBrowser, type TestPage } from '../browser.js';
import { startTestPlatform, type Platform } from '../platform.js';
import { DEMO, DEMO_PASSWORD, DESKTOP, fill, signIn, waitForSelector, waitForText } from './app-page.js';

export interface AppsFixture {
  platform: Platform & { serverErrors: string[] };
  browser: TestBrowser;
  /** Alice Patient, signed in on the home page. */
  alice: TestPage;
  /** Dr. Meredith Grey, signed in on the home page. */
  grey: TestPage;
}

/**
 * Registers an afterEach that fails the test when any page the returned wrapper opened saw a
 * Content-Security-Policy violation (or a Permissions-Policy header error) since the last check:
 * the apps must run under their policy with none.
 */
export function failOnPolicyViolations(): (browser: TestBrowser) => TestBrowser {
  const pages = new Map<TestPage, number>();
  afterEach(() => {
    const seen: string[] = [];
    for (const [page, checked] of pages) {
      const violations = policyViolations(page);
      seen.push(...violations.slice(checked).map((v) => `${page.browser}: ${v}`));
      pages.set(page, violations.length);
    }
    expect(seen, 'policy violations in the pages').toEqual([]);
  });
  return (browser) => ({
    ...browser,
    async newPage(url, options) {
      const page = await browser.newPage(undefined, options);
      pages.set(page, 0);
      if (url) await page.goto(url);
      return page;
    },
  });
}

/** Registers the file's beforeAll/afterAll; the returned object is filled in before the tests run. */
export function patientAndDoctor(apiEnv: Record<string, string> = {}, mediaEnv: Record<string, string> = {}): AppsFixture {
  const fixture = {} as AppsFixture;
  const checked = failOnPolicyViolations();
  beforeAll(async () => {
    const [platform, browser] = await Promise.all([
      startTestPlatform({ apiEnv: { SEED_DEMO: 'true', ...apiEnv }, mediaEnv }) as Promise<Platform & { serverErrors: string[] }>,
      launchBrowser('chromium').then(checked),
    ]);
    Object.assign(fixture, { platform, browser });
    const [alice, grey] = await Promise.all([browser.newPage(), browser.newPage()]);
    for (const page of [alice, grey]) await page.setViewport(DESKTOP.width, DESKTOP.height);
    await signIn(alice, platform.apiUrl, DEMO.alice, /Alice Patient/);
    await signIn(grey, platform.apiUrl, DEMO.grey, /Meredith Grey/);
    Object.assign(fixture, { alice, grey });
  });
  afterAll(async () => {
    await fixture.browser?.close();
    await fixture.platform?.stop();
  });
  return fixture;
}

/** Bob Patient signed in on his home page, in a new context of the fixture's browser. */
export async function signInBob(f: AppsFixture, pageOptions?: PageOptions): Promise<TestPage> {
  const bob = await f.browser.newPage(undefined, pageOptions);
  await bob.setViewport(DESKTOP.width, DESKTOP.height);
  await signIn(bob, f.platform.apiUrl, DEMO.bob, /Bob Patient/);
  return bob;
}

/** The demo admin signed in to the dashboard at /admin/, in a new context of the fixture's browser. */
export async function signInAdmin(f: Pick<AppsFixture, 'browser' | 'platform'>): Promise<TestPage> {
  const admin = await f.browser.newPage();
  await admin.setViewport(DESKTOP.width, DESKTOP.height);
  await admin.goto(`${f.platform.apiUrl}/admin/`);
  await waitForSelector(admin, '#admin-email');
  await fill(admin, '#admin-email', DEMO.admin);
  await fill(admin, '#admin-password', DEMO_PASSWORD);
  await admin.click('form button[type=submit]');
  await waitForText(admin, '[data-testid=current-user]', /Clinic Admin/);
  return admin;
}

/** Dr. Grey rings Alice and Bob in a group video call from his contacts. */
export async function greyCallsAliceAndBob(f: AppsFixture): Promise<void> {
  await waitForSelector(f.grey, '[data-contact="bob@patients.demo"] input.pick');
  await f.grey.click('[data-contact="alice@patients.demo"] input.pick');
  await f.grey.click('[data-contact="bob@patients.demo"] input.pick');
  await f.grey.click('#group-video-call');
}
