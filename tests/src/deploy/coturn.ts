// coturn from Debian with the deployment's config (deploy/turnserver.conf) and the lines a test
// sets (its addresses, ports, certificate). On loopback: The template denies relaying to loopback (127.0.0.0/8), which is where
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

export interface CoturnOptions {
  dir: string;
  /** TURN over UDP and TCP. */
  port: number;
  relayPorts: [number, number];
  secret: string;
  /** The address coturn listens and relays on (default 127.0.0.1, then loopback peers are allowed). */
  listenIp?: string;
  /** The media server's address: the one private address coturn may relay to (default 127.0.0.1). */
  mediaIp?: string;
  /** TURN over TLS on this port with this certificate (default: no TLS). */
  tls?: { port: number; cert: string; key: string };
  /** A test-bed namespace to run in (netbed/netns.ts). */
  netns?: string;
}

export async function startCoturn(options: CoturnOptions): Promise<Coturn> {
  fs.mkdirSync(options.dir, { recursive: true });
  const template = fs.readFileSync(path.join(ROOT, 'deploy', 'turnserver.conf'), 'utf8');
  const config = path.join(options.dir, 'turnserver.conf');
  const listenIp = options.listenIp ?? '127.0.0.1';
  const loopback = listenIp.startsWith('127.');
  fs.writeFileSync(
    config,
    coturnConfig(
      template,
      [
        ['static-auth-secret', options.secret],
        ['realm', 'telemed.test'],
        ['listening-ip', listenIp],
        ['relay-ip', listenIp],
        ['listening-port', String(options.port)],
        ['min-port', String(options.relayPorts[0])],
        ['max-port', String(options.relayPorts[1])],
        ...(options.tls
          ? ([
              ['tls-listening-port', String(options.tls.port)],
              ['cert', options.tls.cert],
              ['pkey', options.tls.key],
            ] as Array<[string, string]>)
          : ([['no-tls', true]] as Array<[string, true]>)),
        ...(loopback ? ([['allow-loopback-peers', true]] as Array<[string, true]>) : []),
        ['allowed-peer-ip', options.mediaIp ?? '127.0.0.1'],
        ['userdb', path.join(options.dir, 'turndb')],
        ['pidfile', path.join(options.dir, 'turnserver.pid')],
        ['log-file', 'stdout'],
        ['simple-log', true],
        ['verbose', true],
      ],
      options.tls ? ['syslog'] : ['tls-listening-port', 'cert', 'pkey', 'syslog'],
    ),
    { mode: 0o600 },
  );
  return startDaemon({
    name: 'coturn',
    command: 'turnserver',
    args: ['-c', config],
    port: options.tls?.port ?? options.port,
    ...(options.netns ? { netns: options.netns } : {}),
  });
}
