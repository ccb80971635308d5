// bench:install — the time from a fresh Debian 12 to a verified installation by following
// docs/deployment.md (sections 1-5 and 8): install, setup (which builds the mediasoup worker and
// runs its suite), configure, first accounts, start, Caddy, coturn, the first checks and a test
// call. `--path containers`: the guide's containers path instead (section 10: the images, the
// compose stack, the first admin, the checks and a test call). The drill runs in a container from
// the project's Debian base image (tests/src/deploy/install.measure.ts or
// install-containers.measure.ts, under vitest like the tests; needs root and podman); this writes
// the results. Its departures from the guide are listed in that file and in the summary.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from '../common/args.js';
import { ROOT } from '../common/machine.js';
import { log, startRun, table, writeResults } from '../common/results.js';
import { round } from '../common/stats.js';
import { lineChart } from '../common/svg-chart.js';

interface InstallStep {
  name: string;
  section: string;
  seconds: number;
}

// `--path containers`: section 10 (the images and the compose stack), written as install-containers.*.
const installPath = parseArgs().get('path') ?? 'packages';
if (installPath !== 'packages' && installPath !== 'containers') throw new Error(`--path is packages or containers, not ${installPath}`);
const containers = installPath === 'containers';
const run = startRun('install', containers ? { variant: 'containers' } : {});
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'install-')), 'install.json');
log(
  `following docs/deployment.md${containers ? "'s containers path (section 10)" : ''} on a fresh Debian 12 (a container from the project base image); progress below`,
);
const measured = spawnSync(
  process.execPath,
  [path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', path.join(ROOT, 'benchmarks', 'install.vitest.config.ts')],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, INSTALL_OUT: out, INSTALL_PATH: installPath } },
);
if (measured.status !== 0 || !fs.existsSync(out)) {
  console.error('bench:install: the drill failed (root and podman are needed; its log path is printed above)');
  process.exit(1);
}
const { steps, totalSeconds } = JSON.parse(fs.readFileSync(out, 'utf8')) as { steps: InstallStep[]; totalSeconds: number };

let elapsed = 0;
const rows = steps.map((s, i) => {
  elapsed += s.seconds;
  return [i + 1, s.name, s.section, round(s.seconds, 1), round(elapsed / 60, 1)];
});
const machineAndDepartures = containers
  ? "The machine is a privileged container from the project's Debian base image (mmdebstrap minbase bookworm, as `scripts/containers.mjs` makes it) that runs podman itself (its `/var/lib/containers` a volume, on a network of its own); each step runs the guide's commands as root in `/opt/telemed`. Departures from the guide: Node.js 20 is copied from the host (NodeSource is not reachable here); the sandbox's TLS-proxy CA is given to npm; no systemd, so podman's health-check timers do not run (the checks are run by hand, as the guide says); one address, so no TURN over TLS; the certificate comes from a CA the drill makes, in `TELEMED_CERT_DIR`, which the host's Chromium trusts for the test call."
  : "The machine is a container from the project's Debian base image (mmdebstrap minbase bookworm, as `scripts/containers.mjs` makes it); each step runs the guide's commands as root in `/opt/telemed`. Departures from the guide: Node.js 20 is copied from the host (NodeSource is not reachable here); the sandbox's TLS-proxy CA is given to npm; no systemd, so services start the way their units would; one address, so TURN over TLS listens on 5349 (the guide's single-address variant); the certificate comes from a CA the drill makes, which the host's Chromium trusts for the test call.";
const summary = [
  `From a fresh Debian 12 to a verified installation by following [docs/deployment.md](../../docs/deployment.md)${containers ? "'s containers path (sections 1 and 10, then 8)" : ''}: **${round(totalSeconds / 60, 1)} minutes** of machine time (the commands as the guide gives them, run one after another with no pause for reading; DNS, a domain and a certificate from an ACME CA are not part of it).`,
  '',
  machineAndDepartures,
  '',
  table(
    ['#', 'step', 'guide section', 'seconds', 'minutes so far'],
    rows.map((r) => r.map(String)),
  ),
].join('\n');

let cumulative = 0;
writeResults(run, {
  raw: { steps, totalSeconds },
  summary,
  plots: {
    steps: lineChart({
      title: 'Fresh Debian 12 → verified installation (docs/deployment.md)',
      xLabel: 'step',
      yLabel: 'minutes since the fresh machine',
      yMin: 0,
      series: [{ name: 'elapsed', points: steps.map((s, i) => [i + 1, round((cumulative += s.seconds) / 60, 2)] as [number, number]) }],
    }),
  },
});
