// Measurement half of `npm run bench:install -- --path containers` (benchmarks/src/install):
// docs/deployment.md's containers path (section 1's Node and checkout, then section 10: build the
// images, configure, compose up, first admin, section 8's checks and a test call) followed from a
// fresh Debian 12, timed step by step. The machine is a FreshMachine (fresh-machine.ts) that may run
// containers itself: privileged, its /var/lib/containers a volume (overlay on overlay is refused),
// on a podman network of its own whose subnet is not podman's default (the machine's own podman
// uses that one inside). Not part of `npm test` (no .test.ts); run by
// benchmarks/install.vitest.config.ts.
//
// Where the drill departs from the guide, and why:
// - Node.js 20 is copied from this host: NodeSource is not reachable.
// - The sandbox's TLS proxy: npm on the machine is given the host's CA bundle (NODE_EXTRA_CA_CERTS).
// - No systemd: podman's timers (health checks, restart after a reboot) do not run; the checks run
//   by hand, as the guide says for that case.
// - One address: no TURN over TLS on a second address (the compose file's TURN over UDP/TCP only).
// - The certificate is one the drill's own CA signed, in TELEMED_CERT_DIR (the guide's "your own
//   certificate"); the host's Chromium trusts that CA and maps telemed.test to the machine.
// Writes the steps as JSON to INSTALL_OUT.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PODMAN_PREFIX } from './compose-stack.js';
import { exec, firstChecks, FreshMachine, SANDBOX_NPM_CA, serverCertificates } from './fresh-machine.js';
import { DOCTORS, STAFF_PASSWORD } from './production.js';

const OUT = process.env.INSTALL_OUT ?? path.join(os.tmpdir(), 'install-containers.json');
const HOST = 'telemed.test';
const ADMIN_PASSWORD = 'a long admin passphrase';

describe("bench:install: the deployment guide's containers path on a fresh Debian 12", () => {
  const name = `${PODMAN_PREFIX}-install-ct-${randomBytes(3).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const log = fs.createWriteStream(path.join(dir, 'install.log'));
  let machine: FreshMachine | undefined;
  let network: string | undefined;

  afterAll(async () => {
    await machine?.remove();
    await exec('podman', ['volume', 'rm', '-f', `${name}-storage`]).catch(() => undefined);
    if (network) await exec('podman', ['network', 'rm', '-f', network]).catch(() => undefined);
    log.end();
    console.log(`[install] the full log: ${path.join(dir, 'install.log')}`);
  });

  it('builds the images, starts the compose stack and verifies it as docs/deployment.md section 10 says', async () => {
    const { ca, certs } = serverCertificates(dir, HOST);
    // A subnet unlike podman's default 10.88.0.0/16, which the machine's own podman takes.
    for (let attempt = 0; network === undefined; attempt++) {
      // A subnet another run (or a network left by one) holds fails at once: try another.
      const subnet = `10.177.${100 + Math.floor(Math.random() * 100)}.0/24`;
      try {
        await exec('podman', ['network', 'create', '--subnet', subnet, name]);
        network = name;
      } catch (error) {
        if (attempt === 4) throw error;
      }
    }
    machine = await FreshMachine.start({
      name,
      log,
      runArgs: ['--privileged', '--network', network, '-v', `${name}-storage:/var/lib/containers`, '-v', `${certs}:/tmp/server-certs:ro`],
    });
    const { ip } = machine;
    const step = machine.step.bind(machine);

    await step(
      'apt-get install curl openssl git gnupg ca-certificates',
      '1. Install (no caddy, coturn: the containers have them)',
      'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl openssl git gnupg ca-certificates',
    );
    await step('node scripts/setup.mjs start', '10.1 Build the images', `${SANDBOX_NPM_CA} node scripts/setup.mjs start`);
    await step('node scripts/containers.mjs build --latest', '10.1 Build the images', `${SANDBOX_NPM_CA} node scripts/containers.mjs build --latest`);
    await step(
      'the env file',
      '10.2 Configure',
      `install -d -m 700 /etc/telemed
install -d -m 755 /etc/telemed/certs
install -m 644 /tmp/server-certs/cert.pem /tmp/server-certs/key.pem /etc/telemed/certs/
node scripts/telemed.mjs secrets --containers > /etc/telemed/telemed.env
cat >> /etc/telemed/telemed.env <<'END'
PUBLIC_URL=https://${HOST}
ANNOUNCED_IP=${ip}
TELEMED_DOMAIN=${HOST}
TELEMED_TLS=/etc/caddy/certs/cert.pem /etc/caddy/certs/key.pem
TURN_URLS=turn:${HOST}:3478?transport=udp,turn:${HOST}:3478?transport=tcp
END
chmod 600 /etc/telemed/telemed.env`,
    );
    await step(
      'compose up -d, six containers Up',
      '10.3 Start',
      `node scripts/containers.mjs compose -- up -d
podman ps --filter name=telemed_
test "$(podman ps --filter name=telemed_ --format '{{.Names}}' | wc -l)" -eq 6`,
    );
    await step(
      'first accounts (an admin, two doctors)',
      '10.3 First admin',
      [
        `printf '%s\\n' '${ADMIN_PASSWORD}' > password.txt`,
        'podman exec -i telemed_api_1 telemed add-user --role admin --email it@clinic.test --name "Clinic IT" < password.txt',
        ...DOCTORS.map(
          ([email, doctor]) =>
            `printf '%s\\n' '${STAFF_PASSWORD}' | podman exec -i telemed_api_1 telemed add-user --role doctor --email ${email} --name "${doctor}"`,
        ),
        'rm password.txt',
      ].join('\n'),
    );
    const checks = firstChecks(HOST, `--resolve ${HOST}:443:127.0.0.1 --cacert /tmp/server-certs/ca.pem`);
    const output = await step(
      'first checks',
      '10.3 checks, 8. First checks',
      `${checks.script}
for c in postgres redis api media caddy coturn; do echo "healthcheck $c: $(podman healthcheck run telemed_\${c}_1 > /dev/null 2>&1 && echo healthy || echo unhealthy)"; done`,
    );
    console.log(output.trim());
    checks.expectPassed(output);
    expect(output).not.toMatch(/unhealthy/);
    await machine.testCall(ca, HOST);
    machine.writeSteps(OUT);
  });
});
