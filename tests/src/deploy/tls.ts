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

export function createTestCa(dir: string, hostname: string): TestCa {
  fs.mkdirSync(dir, { recursive: true });
  const file = (name: string): string => path.join(dir, name);
  run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'),
    '-days', '2', '-subj', '/CN=Telemed test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', `/CN=${hostname}`]);
  fs.writeFileSync(file('server.ext'), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${hostname}\n`);
  run('openssl', ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'), '-days', '2', '-extfile', file('server.ext')]);
  const browserHome = file('browser-home');
  const nssdb = path.join(browserHome, '.pki', 'nssdb');
  fs.mkdirSync(nssdb, { recursive: true });
  run('certutil', ['-d', `sql:${nssdb}`, '-N', '--empty-password']);
  run('certutil', ['-d', `sql:${nssdb}`, '-A', '-t', 'C,,', '-n', 'telemed-test-ca', '-i', file('ca.pem')]);
  return { dir, caCert: file('ca.pem'), cert: file('server.pem'), key: file('server.key'), browserHome };
}
