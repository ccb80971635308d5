// Account management end to end: an admin invites a patient in the dashboard, she sets her
// password through the link and signs in, the admin puts her in Dr. Grey's care and she calls him;
// then the admin disables her account: her app is signed out, her media session ends, and the
// audit log shows what happened.
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestPage } from '../browser.js';
import { DEMO, DESKTOP, fill, remoteVideoFrames, screenshots, signIn, unlabelledControls, waitForSelector, waitForText } from './app-page.js';
import { patientAndDoctor, signInAdmin } from './fixture.js';
import { waitFor } from '@telemed/test-kit';

const EMAIL = 'paula.invited@patients.test';
const PASSWORD = 'paulas-own-password-1';

/** The value of the option whose label contains `text` (the care screen's selects list "Name (email)"). */
function optionValue(page: TestPage, select: string, text: string): Promise<string | undefined> {
  return page.evaluate(
    ({ select, text }) => [...document.querySelectorAll<HTMLOptionElement>(`${select} option`)].find((o) => o.textContent?.includes(text))?.value,
    { select, text },
  );
}

describe('accounts in the admin dashboard (chromium): invite, set a password, sign in, disable', () => {
  const f = patientAndDoctor();
  let admin: TestPage;

  beforeAll(async () => {
    admin = await signInAdmin(f);
  });

  it('invite → set password → sign in → care link and a call → disable ends her sessions and her media', async () => {
    const { apiUrl } = f.platform;
    // The platform has no SMTP: the dashboard hands the link to the admin.
    await admin.goto(`${apiUrl}/admin/#/accounts`);
    await waitForSelector(admin, '#new-account');
    await fill(admin, '#new-email', EMAIL);
    await fill(admin, '#new-name', 'Paula Invited');
    await fill(admin, '#new-role', 'patient');
    await admin.click('#new-account button[type=submit]');
    const link = await waitFor('the set-password link', () =>
      admin.evaluate(() => document.querySelector<HTMLInputElement>('[data-testid=invite-url]')?.value || undefined),
    );
    const token = /#\/set-password\?token=([\w-]+)$/.exec(link)?.[1];
    expect(token).toBeDefined();
    const paulaId = await waitFor('her row in the accounts table', () =>
      admin.evaluate(
        (email) => [...document.querySelectorAll<HTMLElement>('#accounts-table [data-row]')].find((r) => r.textContent?.includes(email))?.dataset.row,
        EMAIL,
      ),
    );
    expect(await admin.text(`#accounts-table [data-row="${paulaId}"] [data-status]`)).toBe('invited');
    expect(await unlabelledControls(admin)).toEqual([]);
    await screenshots(admin, 'admin-accounts');

    // She opens the link (on this platform's address) and chooses her password.
    const paula = await f.browser.newPage();
    await paula.setViewport(DESKTOP.width, DESKTOP.height);
    await paula.goto(`${apiUrl}/#/set-password?token=${token}`);
    await waitForText(paula, '[data-testid=set-password] .hint', /Paula Invited \(paula\.invited@patients\.test\)/);
    expect(await unlabelledControls(paula)).toEqual([]);
    await screenshots(paula, 'set-password');
    await fill(paula, '#new-password', PASSWORD);
    await fill(paula, '#repeat-password', PASSWORD);
    await paula.click('[data-testid=set-password] button[type=submit]');
    await waitForText(paula, '[data-testid=current-user]', /Paula Invited/);
    // Signing out and in again works with the password she chose.
    await paula.click('header button.ghost');
    await waitForSelector(paula, '#login-email');
    await signIn(paula, apiUrl, EMAIL, /Paula Invited/, PASSWORD);

    // The admin puts her in Dr. Grey's care and makes a care team.
    await admin.goto(`${apiUrl}/admin/#/care`);
    const greyId = await waitFor('Dr. Grey in the doctor list', () => optionValue(admin, '#link-doctor', DEMO.grey));
    const paulaOption = await waitFor('Paula in the patient list', () => optionValue(admin, '#link-patient', EMAIL));
    expect(paulaOption).toBe(paulaId);
    await fill(admin, '#link-doctor', greyId);
    await fill(admin, '#link-patient', paulaId);
    await admin.click('#new-link button[type=submit]');
    await waitForText(admin, '#care-links', /Paula Invited/);
    await fill(admin, '#team-name', 'Cardiology');
    await admin.click('#new-team button[type=submit]');
    await waitForSelector(admin, '[data-team="Cardiology"]');
    expect(await unlabelledControls(admin)).toEqual([]);
    await screenshots(admin, 'admin-care');

    // Dr. Grey is now her contact: she calls him and they see each other.
    await paula.goto(`${apiUrl}/`);
    await waitForSelector(paula, '[data-contact="grey@doctors.demo"] button[aria-label^="Video call"]', 30_000);
    await paula.click('[data-contact="grey@doctors.demo"] button[aria-label^="Video call"]');
    await waitForSelector(f.grey, '[data-testid=incoming-call]');
    await f.grey.click('[data-testid=incoming-call] button.success');
    await waitForSelector(f.grey, '#join-call');
    const callId = await f.grey.evaluate(() => /\/call\/([0-9a-f-]{36})/.exec(location.hash)?.[1] ?? '');
    await f.grey.click('#join-call');
    await Promise.all([paula, f.grey].map((page) => waitFor('remote video', async () => (await remoteVideoFrames(page)).frames > 0, { timeoutMs: 60_000 })));
    const participants = async (): Promise<number> => {
      const res = await fetch(`${f.platform.mediaHttpUrl}/rooms`, { headers: { authorization: `Bearer ${f.platform.secrets.serviceSecret}` } });
      const { rooms } = (await res.json()) as { rooms: Array<{ roomId: string; participants: number }> };
      return rooms.find((r) => r.roomId === callId)?.participants ?? 0;
    };
    expect(await participants()).toBe(2);

    // Disabled: her app is signed out, the media server drops her from the room at once.
    await admin.goto(`${apiUrl}/admin/#/accounts`);
    await waitForSelector(admin, `#accounts-table [data-row="${paulaId}"] [data-action=disable]`);
    await admin.click(`#accounts-table [data-row="${paulaId}"] [data-action=disable]`);
    await waitForSelector(admin, `#accounts-table [data-row="${paulaId}"] [data-status=disabled]`);
    await waitFor('her media session to end', async () => (await participants()) === 1 || undefined);
    await waitForSelector(paula, '#login-email', 30_000);
    await fill(paula, '#login-email', EMAIL);
    await fill(paula, '#login-password', PASSWORD);
    await paula.click('form button[type=submit]');
    await waitForText(paula, '.login [role=alert]', /wrong e-mail or password/);

    // The audit log: who touched her account.
    await admin.goto(`${apiUrl}/admin/#/audit?entityId=${paulaId}`);
    await waitForSelector(admin, '#audit-table [data-action=disable]');
    const actions = await admin.evaluate(() => [...document.querySelectorAll<HTMLElement>('#audit-table [data-action]')].map((r) => r.dataset.action));
    expect(actions).toEqual(expect.arrayContaining(['create', 'invite', 'password_set', 'login', 'link', 'disable']));
    expect(await unlabelledControls(admin)).toEqual([]);
    await screenshots(admin, 'admin-audit');
    console.log(`[apps] accounts: audit trail of the invited patient: ${actions.join(', ')}`);
    await paula.close();
  });
});
