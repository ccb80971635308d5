// The demo app's shell and the admin dashboard's sign-in through the real platform: sign-in with
// a seeded account, the home page's three panels, labelled controls, phone and desktop layouts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, policyViolations, type TestBrowser, type TestPage } from '../browser.js';
import { startTestPlatform, type Platform } from '../platform.js';
import { DEMO, DEMO_PASSWORD, DESKTOP, fill, screenshots, unlabelledControls, waitForSelector, waitForText } from './app-page.js';
import { failOnPolicyViolations } from './fixture.js';
import { waitFor } from '@telemed/test-kit';

describe('demo app shell and admin sign-in in chromium', () => {
  let platform: Platform & { serverErrors: string[] };
  let browser: TestBrowser;
  /** The same Chromium without the policy check: for the check's own test. */
  let unchecked: TestBrowser;
  const pages: TestPage[] = [];
  const checked = failOnPolicyViolations();

  beforeAll(async () => {
    [platform, unchecked] = await Promise.all([
      startTestPlatform({ apiEnv: { SEED_DEMO: 'true' } }) as Promise<Platform & { serverErrors: string[] }>,
      launchBrowser('chromium'),
    ]);
    browser = checked(unchecked);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('signs a patient in and shows contacts, conversations and recent calls', async () => {
    const page = await browser.newPage();
    pages.push(page);
    await page.setViewport(DESKTOP.width, DESKTOP.height);
    await page.goto(`${platform.apiUrl}/`);
    await waitForSelector(page, '#login-email');
    expect(await unlabelledControls(page)).toEqual([]);
    const login = await screenshots(page, 'app-login');
    console.log(`[apps] screenshots: ${login.join(', ')}`);

    await fill(page, '#login-email', DEMO.alice);
    await fill(page, '#login-password', 'wrong-password');
    await page.click('form button[type=submit]');
    const refused = await waitForText(page, '.login [role=alert]', /./);
    console.log(`[apps] wrong password: "${refused}"`);
    // The browser logs the refused request itself; that one line is expected, nothing else.
    expect(page.errors).toEqual([expect.stringMatching(/status of 401/)]);
    page.errors.length = 0;

    await fill(page, '#login-password', DEMO_PASSWORD);
    await page.click('form button[type=submit]');
    await waitForText(page, '[data-testid=current-user]', /Alice Patient/);
    // A patient's contacts are their doctors, each with a presence dot and call buttons.
    await waitForSelector(page, '.contacts .contact');
    const contacts = await page.evaluate(() =>
      [...document.querySelectorAll('.contacts .contact')].map((li) => ({
        email: (li as HTMLElement).dataset.contact,
        presence: li.querySelector('.dot')?.getAttribute('aria-label'),
        buttons: [...li.querySelectorAll('button')].map((b) => b.getAttribute('aria-label')),
      })),
    );
    console.log(`[apps] alice's contacts: ${JSON.stringify(contacts)}`);
    expect(contacts.length).toBeGreaterThan(0);
    expect(contacts.every((c) => c.email?.endsWith('@doctors.demo'))).toBe(true);
    expect(contacts[0]!.buttons).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Video call /), expect.stringMatching(/^Voice call /), expect.stringMatching(/^Message /)]),
    );
    await waitForSelector(page, '#conversations-title');
    await waitFor('the home panels to load', () => page.evaluate(() => !document.querySelector('main.home')?.textContent?.includes('Loading…')));
    expect(await unlabelledControls(page)).toEqual([]);
    const home = await screenshots(page, 'app-home');
    console.log(`[apps] screenshots: ${home.join(', ')}`);

    // A reload keeps the session (sessionStorage), and signing out returns to the login form.
    await page.goto(`${platform.apiUrl}/`);
    await waitForText(page, '[data-testid=current-user]', /Alice Patient/);
    await page.click('.topbar button');
    await waitForSelector(page, '#login-email');
  });

  it('lets only admins into the dashboard', async () => {
    const page = await browser.newPage(`${platform.apiUrl}/admin/`);
    pages.push(page);
    await waitForSelector(page, '#admin-email');
    expect(await unlabelledControls(page)).toEqual([]);
    const signin = await screenshots(page, 'admin-signin');
    console.log(`[apps] screenshots: ${signin.join(', ')}`);
    await fill(page, '#admin-email', DEMO.alice);
    await fill(page, '#admin-password', DEMO_PASSWORD);
    await page.click('form button[type=submit]');
    await waitForText(page, '[role=alert]', /admins only/);
    await fill(page, '#admin-email', DEMO.admin);
    await fill(page, '#admin-password', DEMO_PASSWORD);
    await page.click('form button[type=submit]');
    await waitForText(page, '[data-testid=current-user]', /Clinic Admin/);
    await waitForSelector(page, '[data-stat=today]');
  });

  it('serves the apps under a strict Content-Security-Policy, with the call page joining the SFU under it in Chromium and Firefox', async () => {
    const res = await fetch(`${platform.apiUrl}/`);
    const policy = res.headers.get('content-security-policy') ?? '';
    console.log(`[apps] content-security-policy: ${policy}`);
    console.log(`[apps] permissions-policy: ${res.headers.get('permissions-policy')}`);
    expect(policy).not.toMatch(/unsafe-/);
    // connect-src names the media server's origin: the call page's signaling socket goes there.
    expect(policy).toContain(`connect-src 'self' ${new URL(platform.mediaWsUrl).protocol}//${new URL(platform.mediaWsUrl).host}`);
    const rawFirefox = await launchBrowser('firefox');
    const firefox = checked(rawFirefox);
    try {
      // The check itself: an inline script and a style attribute are refused and reported, in both browsers.
      for (const target of [unchecked, rawFirefox]) {
        const page = await target.newPage(`${platform.apiUrl}/`);
        await waitForSelector(page, '#login-email');
        await page.evaluate(() => {
          const script = document.createElement('script');
          script.textContent = 'window.inlineRan = true';
          document.head.append(script);
          document.body.setAttribute('style', 'background: red');
        });
        const seen = await waitFor('both violations reported', async () => (policyViolations(page).length >= 2 ? policyViolations(page) : undefined));
        expect(await page.evaluate(() => (window as typeof window & { inlineRan?: boolean }).inlineRan)).toBeUndefined();
        console.log(`[apps] ${page.browser} reports: ${seen.join(' | ')}`);
        await page.close();
      }

      for (const [name, target] of [
        ['chromium', browser],
        ['firefox', firefox],
      ] as const) {
        const page = await target.newPage(`${platform.apiUrl}/dev/call.html?room=dev-csp-${name}&name=${name}&autojoin=1`);
        pages.push(page);
        try {
          await waitForText(page, '#status', /^Connected/, 45_000);
        } catch (error) {
          throw new Error(`${name}: ${await page.text('#status')}; page errors: ${JSON.stringify(page.errors)}`, { cause: error });
        }
      }
      // Firefox: the dashboard and the app's sign-in page too.
      for (const path of ['/', '/admin/']) {
        const page = await firefox.newPage(`${platform.apiUrl}${path}`);
        pages.push(page);
        await waitForSelector(page, path === '/' ? '#login-email' : '#admin-email');
      }
    } finally {
      for (const page of pages.filter((p) => p.browser === 'firefox')) await page.close();
      await rawFirefox.close();
    }
  }, 240_000);

  it('ran without page or server errors', () => {
    for (const page of pages) expect(page.errors).toEqual([]);
    expect(platform.serverErrors).toEqual([]);
  });
});
