// The namespace test bed (issue 13): a clinic host running the production stack as
// docs/deployment.md installs it (telemed serve, Caddy with TLS on 443, coturn with TURN/UDP 3478
// and TURN/TLS 443 on an address of its own), a doctor's and a patient's machine in namespaces of
// their own, each browser reaching the clinic only as https://telemed.test with a chain it verifies.
// For each network profile of the patient (open; UDP blocked; only TCP 443 to the clinic) a
// Chromium and a Firefox patient each take a video call from a doctor in the other browser through
// the demo app's sign-in and ringing; both sides decode video and audio, and the patient's
// selected ICE candidate pair shows how media went. Expired TURN credentials are refused over TLS.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserName, TestBrowser, TestPage } from '../../browser.js';
import { signIn, waitForSelector } from '../../apps/app-page.js';
import { START_TIMEOUT_MS, STAFF_PASSWORD } from '../production.js';
import { createTestCa, type TestCa } from '../tls.js';
import { gatherRelay } from '../turn-probe.js';
import { launchInHost } from './browsers.js';
import { MEDIA_RTC_PORT, startClinicHost, TURN_HOST, WEB_HOST, type Account, type ClinicHost } from './clinic.js';
import { mediaPaths, pathName, recordPeerConnections, type PcPath } from './media-path.js';
import { createNetBed, netBedUnavailable, type NetBed } from './netns.js';
import { EXPECTED_PATH, PROFILES, profileRules, type ProfileName } from './profiles.js';
import { waitFor } from '@telemed/test-kit';

const ACCOUNTS: Account[] = [
  { role: 'admin', email: 'it@clinic.test', name: 'Clinic IT' },
  { role: 'doctor', email: 'house@clinic.test', name: 'Dr. House' },
  { role: 'doctor', email: 'wilson@clinic.test', name: 'Dr. Wilson' },
  { role: 'patient', email: 'alice@patients.test', name: 'Alice Patient' },
  { role: 'patient', email: 'bob@patients.test', name: 'Bob Patient' },
];
/** Who calls whom: the doctor in one browser, the patient in the other. */
const PAIRS: Array<{ doctor: Account; doctorBrowser: BrowserName; patient: Account; patientBrowser: BrowserName }> = [
  { doctor: ACCOUNTS[1]!, doctorBrowser: 'firefox', patient: ACCOUNTS[3]!, patientBrowser: 'chromium' },
  { doctor: ACCOUNTS[2]!, doctorBrowser: 'chromium', patient: ACCOUNTS[4]!, patientBrowser: 'firefox' },
];

const unavailable = netBedUnavailable();
if (unavailable) console.warn(`[netbed] skipped: ${unavailable}`);

/** The media flowing into a page: every open peer connection's totals. */
function received(paths: PcPath[]): { frames: number; audioPackets: number; audioSamples: number } {
  return paths.reduce((sum, p) => ({ frames: sum.frames + p.framesDecoded, audioPackets: sum.audioPackets + p.audioPackets, audioSamples: sum.audioSamples + p.audioSamples }), { frames: 0, audioPackets: 0, audioSamples: 0 });
}

/** The path of the peer connection that carries the received media. */
function receivingPath(paths: PcPath[]): PcPath | undefined {
  return paths.find((p) => p.framesDecoded > 0) ?? paths.find((p) => p.state === 'connected');
}

describe.skipIf(unavailable !== undefined)('network paths: a patient on three networks calls the clinic over https (namespace test bed)', () => {
  let bed: NetBed;
  let ca: TestCa;
  let clinic: ClinicHost;
  let dir: string;
  const browsers: Record<string, TestBrowser> = {};
  const started = Date.now();

  beforeAll(async () => {
    bed = createNetBed({
      hosts: { clinic: { octets: [1, 2] }, doctor: { octets: [20] }, patient: { octets: [10] } },
      names: { [WEB_HOST]: ['clinic', 0], [TURN_HOST]: ['clinic', 1] },
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tmd-netbed-'));
    ca = createTestCa(path.join(dir, 'tls'), [WEB_HOST, TURN_HOST]);
    const [host] = await Promise.all([
      startClinicHost(bed, { ca, dir, accounts: ACCOUNTS }),
      ...(['doctor', 'patient'] as const).flatMap((where) => (['chromium', 'firefox'] as const).map(async (engine) => {
        browsers[`${where}-${engine}`] = await launchInHost(bed, where, engine, ca);
      })),
    ]);
    clinic = host;
    console.log(`[netbed] bed ${bed.subnet}, clinic up and four browsers launched in ${Date.now() - started} ms`);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(Object.values(browsers).map((b) => b.close().catch(() => undefined)));
    await clinic?.stop();
    bed?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    console.log(`[netbed] file wall time ${Math.round((Date.now() - started) / 1000)} s`);
  });

  async function signedIn(where: 'doctor' | 'patient', engine: BrowserName, account: Account): Promise<TestPage> {
    const page = await browsers[`${where}-${engine}`]!.newPage();
    await page.setViewport(1280, 800);
    await signIn(page, clinic.origin, account.email, new RegExp(account.name.replace('.', '\\.')), STAFF_PASSWORD);
    expect(await page.evaluate(() => location.href)).toMatch(/^https:\/\/telemed\.test\//);
    await recordPeerConnections(page);
    return page;
  }

  /** The doctor rings the patient, who accepts and joins from the waiting room; both decode video and audio. */
  async function call(pair: typeof PAIRS[number], profile: ProfileName): Promise<{ patient: string; doctor: string }> {
    const [doctor, patient] = await Promise.all([signedIn('doctor', pair.doctorBrowser, pair.doctor), signedIn('patient', pair.patientBrowser, pair.patient)]);
    try {
      const contact = `[data-contact="${pair.patient.email}"]`;
      await waitFor(`${pair.patient.name} online for the doctor`, () => doctor.evaluate((sel) => document.querySelector(`${sel} .dot`)?.getAttribute('aria-label') === 'Online' || undefined, contact), { timeoutMs: 30_000 });
      await doctor.click(`${contact} button[aria-label^="Video call"]`);
      await waitForSelector(patient, '[data-testid=incoming-call]', 30_000);
      await patient.click('[data-testid=incoming-call] button.success');
      await waitForSelector(patient, '#join-call', 30_000);
      await patient.click('#join-call');
      await Promise.all([waitForSelector(doctor, '[data-testid=in-call]', 30_000), waitForSelector(patient, '[data-testid=in-call]', 30_000)]);
      const label = `${profile}, ${pair.patientBrowser} patient`;
      const media = await Promise.all([patient, doctor].map((page) => waitFor(`${label}: ${page.browser} decoding video and audio`, async () => {
        const got = received(await mediaPaths(page));
        return got.frames > 10 && got.audioPackets > 25 && got.audioSamples > 0 ? got : undefined;
      }, { timeoutMs: 90_000 })));
      // ICE may move to a better pair after the first one works: wait for the expected one.
      const patientPath = await waitFor(`${label}: media path ${EXPECTED_PATH[profile]}`, async () => {
        const p = receivingPath(await mediaPaths(patient));
        return p && pathName(p.local) === EXPECTED_PATH[profile] ? p : undefined;
      }, { timeoutMs: 30_000 }).catch(async (error: Error) => {
        throw new Error(`${error.message}; the patient's peer connections: ${JSON.stringify(await mediaPaths(patient))}`);
      });
      const doctorPath = receivingPath(await mediaPaths(doctor));
      console.log(`[netbed] ${label}: patient via ${pathName(patientPath.local)} → ${patientPath.remote?.address}:${patientPath.remote?.port}/${patientPath.remote?.protocol}, decodes ${media[0].frames} frames ${media[0].audioSamples} audio samples; ${pair.doctorBrowser} doctor via ${pathName(doctorPath?.local)}, ${media[1].frames} frames`);
      // Where the patient's media went: the media server directly, or coturn's TLS port.
      if (profile === 'tcp443-only') {
        expect(patientPath.remote?.address).toBe(clinic.webIp);
      } else {
        expect(patientPath.remote).toMatchObject({ address: clinic.webIp, port: MEDIA_RTC_PORT, protocol: profile === 'open' ? 'udp' : 'tcp' });
      }
      expect(pathName(doctorPath?.local)).toBe('host/udp');
      expect([...patient.errors, ...doctor.errors].filter((e) => /certificate|ERR_CERT|CSP violation|mixed content/i.test(e))).toEqual([]);
      await patient.click('#leave-call');
      await waitForSelector(doctor, '[data-testid=ended-duration]', 30_000);
      return { patient: pathName(patientPath.local), doctor: pathName(doctorPath?.local) };
    } finally {
      await Promise.all([patient.close(), doctor.close()]);
    }
  }

  for (const profile of PROFILES) {
    it(`${profile}: Chromium and Firefox patients call, media ${EXPECTED_PATH[profile]}`, async () => {
      bed.setFirewall('patient', profileRules(profile, bed.hosts.clinic!.addresses));
      const t0 = Date.now();
      const paths = await Promise.all(PAIRS.map((pair) => call(pair, profile)));
      console.log(`[netbed] ${profile}: both calls in ${Date.now() - t0} ms`);
      expect(paths.map((p) => p.patient)).toEqual([EXPECTED_PATH[profile], EXPECTED_PATH[profile]]);
      if (profile === 'tcp443-only') for (const pair of PAIRS) expect(clinic.coturnOutput()).toContain(clinic.users[pair.patient.email]!);
    });
  }

  it('coturn over TLS on 443 relays with fresh credentials and refuses expired ones', async () => {
    bed.setFirewall('patient', profileRules('tcp443-only', bed.hosts.clinic!.addresses));
    const page = await browsers['patient-chromium']!.newPage(`${clinic.origin}/`);
    try {
      const urls = [`turns:${TURN_HOST}:443?transport=tcp`];
      const credentials = (expiry: number): { urls: string[]; username: string; credential: string } => {
        const username = `${expiry}:${clinic.users[ACCOUNTS[3]!.email]}`;
        return { urls, username, credential: createHmac('sha1', clinic.turnSecret).update(username).digest('base64') };
      };
      const now = Math.floor(Date.now() / 1000);
      const fresh = await gatherRelay(page, [credentials(now + 600)]);
      expect(fresh.candidates).toContain('relay');
      const expired = await gatherRelay(page, [credentials(now - 60)]);
      expect(expired.candidates).toEqual([]);
      expect(expired.errors).toContain(401);
    } finally {
      await page.close();
    }
  });
});
