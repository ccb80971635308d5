// Caddy from Debian with the deployment's own Caddyfile (deploy/Caddyfile), given certificates
// instead of ACME, bound to loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { stopProcess } from '../../../scripts/platform.mjs';
import { ROOT } from './production.js';

export interface Caddy {
  process: ChildProcess;
  port: number;
  output(): string;
  stop(): Promise<void>;
}

export async function startCaddy(options: { dir: string; domain: string; port: number; cert: string; key: string; api: string; media: string }): Promise<Caddy> {
  const state = path.join(options.dir, 'caddy-state');
  fs.mkdirSync(state, { recursive: true });
  const child = spawn('caddy', ['run', '--config', path.join(ROOT, 'deploy', 'Caddyfile'), '--adapter', 'caddyfile'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: state,
      XDG_DATA_HOME: state,
      XDG_CONFIG_HOME: state,
      // Tests: no admin endpoint (parallel test files), no port 80 redirect listener, loopback only.
      CADDY_GLOBAL_OPTIONS: 'admin off\nauto_https disable_redirects\ndefault_bind 127.0.0.1',
      TELEMED_DOMAIN: `${options.domain}:${options.port}`,
      TELEMED_TLS: `${options.cert} ${options.key}`,
      TELEMED_API: options.api,
      TELEMED_MEDIA: options.media,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 30_000;
  while (!(await listening(options.port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`caddy did not start:\n${output.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { process: child, port: options.port, output: () => output, stop: () => stopProcess(child) };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
