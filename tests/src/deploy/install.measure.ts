// Measurement half of `npm run bench:install` (benchmarks/src/install): docs/deployment.md followed
// from a fresh Debian 12 to a verified installation, timed step by step. The "machine" is a
// container from the project's Debian base image (mmdebstrap minbase bookworm: what a fresh server
// has, less the kernel); each step runs the guide's commands as written, as root, in
// /opt/telemed. Not part of `npm test` (no .test.ts); run by benchmarks/install.vitest.config.ts.
//
// Where the drill departs from the guide, and why:
// - Node.js 20 is copied from this host (/usr/bin/node and its npm): NodeSource is not reachable.
// - This sandbox reaches the npm registry through a TLS proxy whose CA only the host trusts: the
//   host's CA bundle is mounted and given to npm (NODE_EXTRA_CA_CERTS). A real server needs neither.
// - No systemd in a container: the services are started the way their units would start them.
// - One address: TURN over TLS on 5349 (the guide's single-address variant), not a second IP's 443.
// - The certificate is one the drill's own CA signed (the guide's "certificates you have"); the
//   host's Chromium trusts that CA and maps telemed.test to the container's address.
// Writes the steps as JSON to INSTALL_OUT.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PODMAN_PREFIX } from './compose-stack.js';
import { firstChecks, FreshMachine, SANDBOX_NPM_CA, serverCertificates } from './fresh-machine.js';
import { DOCTORS, STAFF_PASSWORD } from './production.js';

const OUT = process.env.INSTALL_OUT ?? path.join(os.tmpdir(), 'install.json');
const HOST = 'telemed.test';
const ADMIN_PASSWORD = 'a long admin passphrase';

describe('bench:install: the deployment guide on a fresh Debian 12', () => {
  const name = `${PODMAN_PREFIX}-install-${randomBytes(3).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const log = fs.createWriteStream(path.join(dir, 'install.log'));
  let machine: FreshMachine | undefined;

  afterAll(async () => {
    await machine?.remove();
    log.end();
    console.log(`[install] the full log: ${path.join(dir, 'install.log')}`);
  });

  it('installs, configures, starts and verifies Telemed as docs/deployment.md says', async () => {
    const { ca, certs } = serverCertificates(dir, HOST);
    // The fresh machine, with the server's certificate where Caddy and coturn read it.
    machine = await FreshMachine.start({ name, log, runArgs: ['-v', `${certs}:/etc/caddy/certs:ro`] });
    const { ip } = machine;
    const step = machine.step.bind(machine);
    await step(
      'apt-get install caddy coturn curl openssl',
      '1. Install',
      'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q caddy coturn curl openssl',
    );
    await step('node scripts/setup.mjs start', '1. Install', `${SANDBOX_NPM_CA} node scripts/setup.mjs start`);
    await step(
      'the env file, telemed check',
      '2. Configure',
      `install -d -m 700 /etc/telemed
node scripts/telemed.mjs secrets > /etc/telemed/telemed.env
cat >> /etc/telemed/telemed.env <<'EOF'
PUBLIC_URL=https://${HOST}
TELEMED_DATA_DIR=/var/lib/telemed
TRUSTED_PROXIES=127.0.0.1
ANNOUNCED_IP=${ip}
MEDIA_RTC_LISTEN_IP=0.0.0.0
TURN_URLS=turn:${HOST}:3478?transport=udp,turns:${HOST}:5349?transport=tcp
EOF
chmod 600 /etc/telemed/telemed.env
node scripts/telemed.mjs check`,
    );
    await step(
      'first accounts (an admin, two doctors)',
      '2. First accounts',
      [
        `printf '%s\\n' '${ADMIN_PASSWORD}' | node scripts/telemed.mjs add-user --role admin --email it@clinic.test --name "Clinic IT"`,
        ...DOCTORS.map(
          ([email, doctor]) => `printf '%s\\n' '${STAFF_PASSWORD}' | node scripts/telemed.mjs add-user --role doctor --email ${email} --name "${doctor}"`,
        ),
      ].join('\n'),
    );
    await step(
      'telemed serve, until /health answers',
      '3. Run',
      `setsid nohup node scripts/telemed.mjs serve --config /etc/telemed/telemed.env > /var/log/telemed.log 2>&1 < /dev/null &
for i in $(seq 1 600); do curl -fsS http://127.0.0.1:3000/health > /dev/null 2>&1 && exit 0; sleep 0.5; done
tail -n 40 /var/log/telemed.log; exit 1`,
    );
    await step(
      'Caddy with deploy/Caddyfile and the certificate',
      '4. HTTPS: Caddy',
      `cp deploy/Caddyfile /etc/caddy/Caddyfile
TELEMED_DOMAIN=${HOST} TELEMED_TLS="/etc/caddy/certs/cert.pem /etc/caddy/certs/key.pem" caddy start --config /etc/caddy/Caddyfile --adapter caddyfile`,
    );
    await step(
      'coturn from deploy/turnserver.conf (TLS on 5349: one address)',
      '5. TURN: coturn',
      `secret=$(grep '^TURN_SECRET=' /etc/telemed/telemed.env | cut -d= -f2-)
sed -e "s|^static-auth-secret=.*|static-auth-secret=$secret|" -e "s|^realm=.*|realm=${HOST}|" \\
    -e "s|^listening-ip=.*|listening-ip=${ip}|" -e "s|^relay-ip=.*|relay-ip=${ip}|" \\
    -e "s|^tls-listening-port=.*|tls-listening-port=5349|" \\
    -e "s|^cert=.*|cert=/etc/caddy/certs/cert.pem|" -e "s|^pkey=.*|pkey=/etc/caddy/certs/key.pem|" \\
    -e "s|^# allowed-peer-ip=.*|allowed-peer-ip=${ip}|" deploy/turnserver.conf > /etc/turnserver.conf
turnserver -c /etc/turnserver.conf -o`,
    );
    const checks = firstChecks(HOST, `--resolve ${HOST}:443:127.0.0.1 --cacert /etc/caddy/certs/ca.pem`);
    const output = await step(
      'first checks',
      '8. First checks',
      `node scripts/telemed.mjs check
${checks.script}
echo "turn tls: $(openssl s_client -connect ${ip}:5349 -servername ${HOST} -CAfile /etc/caddy/certs/ca.pem < /dev/null 2>/dev/null | grep 'Verify return code')"`,
    );
    console.log(output.trim());
    expect(output).toMatch(/configuration OK/);
    checks.expectPassed(output);
    expect(output).toMatch(/turn tls:\s+Verify return code: 0 \(ok\)/);
    await machine.testCall(ca, HOST);
    machine.writeSteps(OUT);
  });
});
