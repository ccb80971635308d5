// Measurement half of `npm run bench:netjoin` (benchmarks/src/netjoin): join → first remote video
// frame at the patient, per network profile and patient browser, in the namespace test bed, with a
// loopback baseline in the same run (the patient's browsers on the clinic host itself). Not part of
// `npm test` (no .test.ts); run by benchmarks/netjoin.vitest.config.ts, which the bench starts.
// Writes the raw joins as JSON to NETJOIN_OUT.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { BrowserName, TestBrowser } from '../../browser.js';
import { hangUp, ringAndJoin, signedInPage } from './app-call.js';
import { BED_START_TIMEOUT_MS, PAIRS, startTestBed, type TestBed } from './bed.js';
import type { ClinicHost, ClinicKind } from './clinic.js';
import { mediaPaths, pathName } from './media-path.js';
import { netnsUnavailable } from '../../network/netns.js';
import type { NetBed } from './netns.js';
import { PROFILES, profileNetwork, profileRules } from './profiles.js';

const RUNS = Number(process.env.NETJOIN_RUNS ?? 10);
const OUT = process.env.NETJOIN_OUT ?? path.join(os.tmpdir(), 'netjoin.json');
/** The clinic's services: native (what the committed results used) or the compose file's containers. */
const CLINIC: ClinicKind = process.env.NETJOIN_CLINIC === 'compose' ? 'compose' : 'native';
export interface NetJoin {
  profile: string;
  browser: BrowserName;
  run: number;
  ms?: number;
  path?: string;
  error?: string;
}

const unavailable = netnsUnavailable();

describe.skipIf(unavailable !== undefined)('bench:netjoin measurement', () => {
  let testBed: TestBed;
  let bed: NetBed;
  let clinic: ClinicHost;
  let browsers: Record<string, TestBrowser>;

  beforeAll(async () => {
    testBed = await startTestBed({ browsersIn: ['doctor', 'patient', 'clinic'], clinic: CLINIC });
    ({ bed, clinic, browsers } = testBed);
  }, BED_START_TIMEOUT_MS);

  afterAll(async () => testBed?.close());

  it(`${RUNS} joins per profile and patient browser`, async () => {
    const joins: NetJoin[] = [];
    for (const profile of ['loopback', ...PROFILES] as const) {
      const patientHost = profile === 'loopback' ? 'clinic' : 'patient';
      bed.setFirewall('patient', profileRules(profile === 'loopback' ? 'open' : profile, profileNetwork(bed)));
      // Run 0 warms up (first page loads, caches) and is not counted.
      for (let run = 0; run <= RUNS; run++) {
        const round = await Promise.all(
          PAIRS.map(async (pair): Promise<NetJoin> => {
            const result: NetJoin = { profile, browser: pair.patientBrowser, run };
            const pages = await Promise.all([
              signedInPage(browsers[`doctor-${pair.doctorBrowser}`]!, clinic.origin, pair.doctor),
              signedInPage(browsers[`${patientHost}-${pair.patientBrowser}`]!, clinic.origin, pair.patient),
            ]);
            try {
              const { joinToFirstFrameMs } = await ringAndJoin(pages[0], pages[1], pair.patient);
              result.ms = Math.round(await joinToFirstFrameMs);
              result.path = pathName((await mediaPaths(pages[1])).find((p) => p.framesDecoded > 0)?.local);
              await hangUp(pages[0], pages[1]);
            } catch (error) {
              result.error = (error as Error).message.slice(0, 300);
            } finally {
              await Promise.all(pages.map((page) => page.close()));
            }
            return result;
          }),
        );
        console.log(`[netjoin] ${profile} run ${run}: ${round.map((r) => `${r.browser} ${r.ms ?? r.error} ms via ${r.path}`).join(', ')}`);
        if (run > 0) joins.push(...round);
      }
    }
    fs.writeFileSync(OUT, JSON.stringify(joins, null, 2));
  }, 3_600_000);
});
