// A demo-app call in the test bed, as people make it: both sign in at https://telemed.test, the
// doctor rings the patient, the patient accepts and joins from the waiting room. Shared by the
// network-path test and the join benchmark (bench:netjoin).
import type { TestBrowser, TestPage } from '../../browser.js';
import { signIn, waitForSelector } from '../../apps/app-page.js';
import { STAFF_PASSWORD } from '../production.js';
import type { Account } from './clinic.js';
import { recordPeerConnections } from './media-path.js';
import { waitFor } from '@telemed/test-kit';

/** A fresh page (own context) signed in as `account`, its peer connections recorded. */
export async function signedInPage(browser: TestBrowser, origin: string, account: Account): Promise<TestPage> {
  const page = await browser.newPage();
  await page.setViewport(1280, 800);
  await signIn(page, origin, account.email, new RegExp(account.name.replace('.', '\\.')), STAFF_PASSWORD);
  await recordPeerConnections(page);
  return page;
}

/**
 * Rings and joins. Resolves once both pages show the call, with the patient's join → first remote
 * video frame in ms, measured inside the patient's page (performance.now() at the Join click, and
 * at the first frame the remote tile presents: requestVideoFrameCallback), so the driver's own
 * latency is not in it.
 */
export async function ringAndJoin(doctor: TestPage, patient: TestPage, patientAccount: Account): Promise<{ joinToFirstFrameMs: Promise<number> }> {
  const contact = `[data-contact="${patientAccount.email}"]`;
  await waitFor(
    `${patientAccount.name} online for the doctor`,
    () => doctor.evaluate((sel) => document.querySelector(`${sel} .dot`)?.getAttribute('aria-label') === 'Online' || undefined, contact),
    { timeoutMs: 120_000 },
  );
  await doctor.click(`${contact} button[aria-label^="Video call"]`);
  await waitForSelector(patient, '[data-testid=incoming-call]', 30_000);
  await patient.click('[data-testid=incoming-call] button.success');
  await waitForSelector(patient, '#join-call', 30_000);
  await patient.evaluate(() => {
    const w = window as typeof window & { tmdJoin?: { clicked?: number; firstFrame?: number } };
    const timing: { clicked?: number; firstFrame?: number } = {};
    w.tmdJoin = timing;
    document.addEventListener(
      'click',
      (e) => {
        if ((e.target as Element | null)?.closest('#join-call') && timing.clicked === undefined) timing.clicked = performance.now();
      },
      { capture: true },
    );
    const watch = (): void => {
      const video = document.querySelector<HTMLVideoElement>('.tile:not(.local):not(.screen) video');
      if (!video) return void setTimeout(watch, 5);
      video.requestVideoFrameCallback((now) => {
        timing.firstFrame = now;
      });
    };
    watch();
  });
  await patient.click('#join-call');
  // A hang deadline: in a loaded run (a CPU hog, four browsers, the clinic's six containers) one
  // Chromium patient's page had not shown the call 30 s after Join.
  await Promise.all([waitForSelector(doctor, '[data-testid=in-call]', 90_000), waitForSelector(patient, '[data-testid=in-call]', 90_000)]);
  const joinToFirstFrameMs = waitFor(
    'the first remote video frame at the patient',
    () =>
      patient.evaluate(() => {
        const t = (window as typeof window & { tmdJoin?: { clicked?: number; firstFrame?: number } }).tmdJoin;
        return t?.clicked !== undefined && t.firstFrame !== undefined ? t.firstFrame - t.clicked : undefined;
      }),
    { timeoutMs: 90_000 },
  );
  // Awaited later by the caller; a failure before that is not an unhandled rejection.
  joinToFirstFrameMs.catch(() => undefined);
  return { joinToFirstFrameMs };
}

/** The patient hangs up; the doctor's page shows the ended call. */
export async function hangUp(doctor: TestPage, patient: TestPage): Promise<void> {
  await patient.click('#leave-call');
  await waitForSelector(doctor, '[data-testid=ended-duration]', 30_000).catch(async (error: Error) => {
    const screen = (page: TestPage): Promise<string> =>
      page
        .evaluate(() => (document.querySelector('main')?.textContent ?? '').replace(/\s+/g, ' ').slice(0, 200))
        .catch((e: Error) => `(unreadable: ${e.message})`);
    throw new Error(`${error.message}; the doctor's screen: "${await screen(doctor)}"; the patient's: "${await screen(patient)}"`);
  });
}
