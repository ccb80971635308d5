// Caddy from Debian with the deployment's own Caddyfile (deploy/Caddyfile), given certificates
// instead of ACME (or plain HTTP without them), bound to loopback.
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, type Daemon } from './daemon.js';
import { ROOT } from './production.js';

export type Caddy = Daemon;

/**
 * `bind` (default 127.0.0.1) is the address Caddy listens on; `netns` a test-bed namespace to run in.
 * Without `cert` and `key` the site is plain HTTP (`http://<domain>:<port>`). `api` may name several
 * API instances, separated by spaces (round robin).
 */
export async function startCaddy(options: {
  dir: string;
  domain: string;
  port: number;
  cert?: string;
  key?: string;
  api: string;
  media: string;
  bind?: string;
  netns?: string;
}): Promise<Caddy> {
  const state = path.join(options.dir, 'caddy-state');
  fs.mkdirSync(state, { recursive: true });
  return startDaemon({
    name: 'caddy',
    command: 'caddy',
    args: ['run', '--config', path.join(ROOT, 'deploy', 'Caddyfile'), '--adapter', 'caddyfile'],
    port: options.port,
    ...(options.netns ? { netns: options.netns } : {}),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: state,
      XDG_DATA_HOME: state,
      XDG_CONFIG_HOME: state,
      // Tests: no admin endpoint (parallel test files), no port 80 redirect listener, one address.
      CADDY_GLOBAL_OPTIONS: `admin off\nauto_https disable_redirects\ndefault_bind ${options.bind ?? '127.0.0.1'}`,
      TELEMED_DOMAIN: `${options.cert ? '' : 'http://'}${options.domain}${options.port === 443 ? '' : `:${options.port}`}`,
      // Unused on a plain HTTP site, but the Caddyfile's `tls` line needs a value.
      TELEMED_TLS: options.cert && options.key ? `${options.cert} ${options.key}` : 'internal',
      TELEMED_API: options.api,
      TELEMED_MEDIA: options.media,
    },
  });
}
