// A certificate authority of the test's own (openssl), a server certificate it signs, and a
// Chromium HOME whose NSS database trusts it: the browser verifies the chain like any real site,
// no --ignore-certificate-errors.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TestCa {
  dir: string;
  caCert: string;
  cert: string;
  key: string;
  /** A HOME for Chromium with ~/.pki/nssdb trusting the CA. */
  browserHome: string;
}

const run = (cmd: string, args: string[]): void => void execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** A CA and one server certificate for `hostname` (or for each of several names). */
export function createTestCa(dir: string, hostname: string | readonly string[]): TestCa {
  const names = typeof hostname === 'string' ? [hostname] : hostname;
  fs.mkdirSync(dir, { recursive: true });
  const file = (name: string): string => path.join(dir, name);
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=Telemed test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  run('openssl', [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    `/CN=${names[0]}`,
  ]);
  fs.writeFileSync(
    file('server.ext'),
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${names.map((name) => `DNS:${name}`).join(',')}\n`,
  );
  run('openssl', [
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
  ]);
  const browserHome = file('browser-home');
  trustInNssDb(path.join(browserHome, '.pki', 'nssdb'), file('ca.pem'));
  return { dir, caCert: file('ca.pem'), cert: file('server.pem'), key: file('server.key'), browserHome };
}

/** A new NSS database in `dir` trusting `caCert` for web sites (Chromium's ~/.pki/nssdb, a Firefox profile's cert9.db). */
function trustInNssDb(dir: string, caCert: string): void {
  fs.mkdirSync(dir, { recursive: true });
  run('certutil', ['-d', `sql:${dir}`, '-N', '--empty-password']);
  run('certutil', ['-d', `sql:${dir}`, '-A', '-t', 'C,,', '-n', 'telemed-test-ca', '-i', caCert]);
}

/** A fresh Firefox profile directory whose certificate store trusts the test CA (one per running Firefox). */
export function firefoxProfileTrusting(ca: TestCa, name: string): string {
  const dir = path.join(ca.dir, `firefox-${name}`);
  trustInNssDb(dir, ca.caCert);
  return dir;
}

/** A fresh HOME for Chromium whose ~/.pki/nssdb trusts the test CA (one per running Chromium). */
export function chromiumHomeTrusting(ca: TestCa, name: string): string {
  const home = path.join(ca.dir, `chromium-${name}`);
  trustInNssDb(path.join(home, '.pki', 'nssdb'), ca.caCert);
  return home;
}
