// The whole test bed as the network-path test and bench:netjoin use it: namespaces (clinic with a
// web and a TURN address, doctor, patient), a test CA for telemed.test and turn.telemed.test, the
// clinic host with its accounts, and a Chromium and a Firefox in each host named in `browsersIn`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserName, TestBrowser } from '../../browser.js';
import { START_TIMEOUT_MS } from '../production.js';
import { createTestCa } from '../tls.js';
import { launchInHost } from './browsers.js';
import { startClinicHost, TURN_HOST, WEB_HOST, type Account, type ClinicHost, type ClinicKind } from './clinic.js';
import { createNetBed, type NetBed } from './netns.js';

/**
 * A deadline for a hung set-up, not a speed check: the clinic's production start alone took 240 s at
 * load 24 on 2 cores, and the whole bed 319 s at load 40 (past the 300 s of START_TIMEOUT_MS).
 */
export const BED_START_TIMEOUT_MS = 2 * START_TIMEOUT_MS;

export const ACCOUNTS: readonly Account[] = [
  { role: 'admin', email: 'it@clinic.test', name: 'Clinic IT' },
  { role: 'doctor', email: 'house@clinic.test', name: 'Dr. House' },
  { role: 'doctor', email: 'wilson@clinic.test', name: 'Dr. Wilson' },
  { role: 'patient', email: 'alice@patients.test', name: 'Alice Patient' },
  { role: 'patient', email: 'bob@patients.test', name: 'Bob Patient' },
];

export interface CallPair {
  doctor: Account;
  doctorBrowser: BrowserName;
  patient: Account;
  patientBrowser: BrowserName;
}
/** Who calls whom: the doctor in one browser, the patient in the other. */
export const PAIRS: readonly CallPair[] = [
  { doctor: ACCOUNTS[1]!, doctorBrowser: 'firefox', patient: ACCOUNTS[3]!, patientBrowser: 'chromium' },
  { doctor: ACCOUNTS[2]!, doctorBrowser: 'chromium', patient: ACCOUNTS[4]!, patientBrowser: 'firefox' },
];

export interface TestBed {
  bed: NetBed;
  clinic: ClinicHost;
  /** By `<host>-<engine>`, e.g. `patient-firefox`. */
  browsers: Record<string, TestBrowser>;
  close(): Promise<void>;
}

/** `clinic`: the compose file's containers (default, as the guide's section 10 installs them) or the native services. */
export async function startTestBed(options: { browsersIn: readonly string[]; clinic?: ClinicKind }): Promise<TestBed> {
  const bed = createNetBed({
    hosts: { clinic: { octets: [1, 2] }, doctor: { octets: [20] }, patient: { octets: [10] } },
    names: { [WEB_HOST]: ['clinic', 0], [TURN_HOST]: ['clinic', 1] },
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tmd-netbed-'));
  const browsers: Record<string, TestBrowser> = {};
  let clinic: ClinicHost | undefined;
  const close = async (): Promise<void> => {
    await Promise.all(Object.values(browsers).map((b) => b.close().catch(() => undefined)));
    await clinic?.stop();
    bed.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ca = createTestCa(path.join(dir, 'tls'), [WEB_HOST, TURN_HOST]);
    const launched = Promise.all(
      options.browsersIn.flatMap((where) =>
        (['chromium', 'firefox'] as const).map(async (engine) => {
          browsers[`${where}-${engine}`] = await launchInHost(bed, where, engine, ca);
        }),
      ),
    );
    const [host] = await Promise.all([startClinicHost(bed, options.clinic ?? 'compose', { ca, dir, accounts: ACCOUNTS }), launched]);
    clinic = host;
    return { bed, clinic, browsers, close };
  } catch (error) {
    await close();
    throw error;
  }
}
