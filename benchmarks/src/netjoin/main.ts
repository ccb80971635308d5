// bench:netjoin — join → first remote video frame through the deployed stack on real (namespace)
// networks: per patient network profile (loopback baseline, open, UDP blocked, only TCP 443) and
// patient browser (Chromium, Firefox), N joins each through the demo app's ring-and-join flow.
// The measurement runs in the namespace test bed (tests/src/deploy/netbed/netjoin.measure.ts, under
// vitest like the tests; needs root for network namespaces); this writes the results.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../common/machine.js';
import { log, startRun, table, writeResults } from '../common/results.js';
import { percentile, round } from '../common/stats.js';
import { lineChart } from '../common/svg-chart.js';

interface NetJoin {
  profile: string;
  browser: string;
  run: number;
  ms?: number;
  path?: string;
  error?: string;
}

const quick = process.argv.includes('--quick');
const runs = quick ? 3 : 10;
const run = startRun('netjoin');
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netjoin-')), 'joins.json');
log(`measuring ${runs} joins per profile and browser in the namespace test bed`);
const measured = spawnSync(
  process.execPath,
  [path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', path.join(ROOT, 'benchmarks', 'netjoin.vitest.config.ts')],
  {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NETJOIN_RUNS: String(runs), NETJOIN_OUT: out },
  },
);
if (measured.status !== 0 || !fs.existsSync(out)) {
  console.error('bench:netjoin: the measurement failed (root and `ip netns` are needed)');
  process.exit(1);
}
const joins = JSON.parse(fs.readFileSync(out, 'utf8')) as NetJoin[];

const groups = new Map<string, NetJoin[]>();
for (const join of joins) groups.set(`${join.profile}|${join.browser}`, [...(groups.get(`${join.profile}|${join.browser}`) ?? []), join]);
const baseline = (browser: string): number =>
  percentile(
    (groups.get(`loopback|${browser}`) ?? []).flatMap((j) => (j.ms === undefined ? [] : [j.ms])),
    50,
  );
const rows = [...groups].map(([key, list]) => {
  const [profile, browser] = key.split('|') as [string, string];
  const ms = list.flatMap((j) => (j.ms === undefined ? [] : [j.ms]));
  const paths = [...new Set(list.map((j) => j.path ?? '?'))].join(', ');
  const p50 = percentile(ms, 50);
  return {
    profile,
    browser,
    joins: list.length,
    failed: list.length - ms.length,
    p50,
    p95: percentile(ms, 95),
    ratio: round(p50 / baseline(browser), 2),
    paths,
    ms,
  };
});

const summary = [
  `${runs} measured joins per network profile and patient browser, after one warm-up join each. Each join is the demo app's flow on the deployed stack (telemed serve behind Caddy with TLS, coturn with TURN/UDP 3478 and TURN/TLS 443 on its own address) in the namespace test bed of tests/src/deploy/netbed: a doctor in a namespace of its own rings the patient, the patient accepts and presses Join in the waiting room; the time is measured inside the patient's page from that click (performance.now()) to the first frame the remote video tile presents (requestVideoFrameCallback). The two calls of a round run at the same time (Chromium patient with a Firefox doctor, Firefox patient with a Chromium doctor), as in the test.`,
  '',
  "Profiles: **loopback** = the patient's browsers on the clinic host itself (the baseline, same run); **open** = patient namespace with no filter; **udp-blocked** = every UDP packet but DNS dropped in the patient's namespace; **turn-udp-only** = DNS, HTTPS to the clinic's web address and UDP to coturn's port 3478; **tcp443-only** = DNS and only TCP to port 443 of the clinic's two addresses. The veth links add no delay or loss: the differences are the ICE path (host UDP, ICE-TCP, TURN over UDP, TURN over TLS) and what it costs to find it. The path column is the selected candidate pair at the patient.",
  '',
  table(
    ['profile', 'patient browser', 'joins', 'failed', 'join → first remote frame p50 / p95 ms', 'p50 ÷ loopback p50', 'path'],
    rows.map((r) => [r.profile, r.browser, r.joins, r.failed, `${r.p50} / ${r.p95}`, r.ratio, r.paths]),
  ),
].join('\n');

const cdf = (ms: number[]): [number, number][] => [...ms].sort((a, b) => a - b).map((v, i) => [v, (i + 1) / ms.length]);
writeResults(run, {
  raw: { runs, joins, summary: rows.map(({ ms, ...r }) => (void ms, r)) },
  summary,
  plots: {
    cdf: lineChart({
      title: 'Join → first remote frame by network profile (patient side)',
      xLabel: 'ms after Join',
      yLabel: 'fraction of joins',
      yMin: 0,
      yMax: 1,
      series: rows.map((r) => ({ name: `${r.profile} ${r.browser}`, points: cdf(r.ms), ...(r.profile === 'loopback' ? { dashed: true } : {}) })),
    }),
  },
});
