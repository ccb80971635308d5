// coturn from Debian with the deployment's config (deploy/turnserver.conf) and the few lines a
// loopback test must change. The template denies relaying to loopback (127.0.0.0/8), which is where
// this test's media server listens; the test instance therefore adds allow-loopback-peers and
// allowed-peer-ip=127.0.0.1 (the media server, as the template's allowed-peer-ip line is meant for).
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, type Daemon } from './daemon.js';
import { ROOT } from './production.js';

export type Coturn = Daemon;

/** The template with `overrides` in place of its own lines for those keys; `drop` keys removed. */
export function coturnConfig(template: string, overrides: Array<[string, string | true]>, drop: string[] = []): string {
  const replaced = new Set([...overrides.map(([key]) => key), ...drop]);
  const kept = template.split('\n').filter((line) => !replaced.has(line.trim().split('=')[0]!));
  return [...kept, '# test overrides', ...overrides.map(([key, value]) => (value === true ? key : `${key}=${value}`))].join('\n');
}

export async function startCoturn(options: { dir: string; port: number; relayPorts: [number, number]; secret: string }): Promise<Coturn> {
  fs.mkdirSync(options.dir, { recursive: true });
  const template = fs.readFileSync(path.join(ROOT, 'deploy', 'turnserver.conf'), 'utf8');
  const config = path.join(options.dir, 'turnserver.conf');
  fs.writeFileSync(config, coturnConfig(template, [
    ['static-auth-secret', options.secret],
    ['realm', 'telemed.test'],
    ['listening-ip', '127.0.0.1'],
    ['relay-ip', '127.0.0.1'],
    ['listening-port', String(options.port)],
    ['min-port', String(options.relayPorts[0])],
    ['max-port', String(options.relayPorts[1])],
    ['no-tls', true],
    ['allow-loopback-peers', true],
    ['allowed-peer-ip', '127.0.0.1'],
    ['userdb', path.join(options.dir, 'turndb')],
    ['pidfile', path.join(options.dir, 'turnserver.pid')],
    ['log-file', 'stdout'],
    ['simple-log', true],
    ['verbose', true],
  ], ['tls-listening-port', 'syslog']), { mode: 0o600 });
  return startDaemon({ name: 'coturn', command: 'turnserver', args: ['-c', config], port: options.port });
}
