// The "fresh Debian 12 server" of bench:install's drills (install.measure.ts and
// install-containers.measure.ts): a container from the project's Debian base image (mmdebstrap
// minbase bookworm: what a fresh server has, less the kernel) with Node 20 copied in from this host
// (NodeSource is not reachable here) and this commit's tree in /opt/telemed (what `git clone`
// gives). Each step of the guide runs in it as written, as root, and is timed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { ensureBaseImage, podmanEnv } from '../../../scripts/containers.mjs';
import { launchBrowser } from '../browser.js';
import { doctorsVideoCall } from './browser-call.js';
import { PODMAN_PREFIX } from './compose-stack.js';
import { ROOT } from './production.js';
import { createTestCa, type TestCa } from './tls.js';

const SANDBOX_CA = '/etc/sandbox-ca.crt';
/** Put before an npm-using command on the machine: this sandbox's TLS proxy CA, which only the host trusts. A real server needs neither. */
export const SANDBOX_NPM_CA = `NODE_EXTRA_CA_CERTS=${SANDBOX_CA}`;

export interface InstallStep {
  name: string;
  /** The guide's section the step follows. */
  section: string;
  seconds: number;
}

/** Runs `command args` to completion; rejects with the tail of its output. */
export function exec(command: string, args: string[], options: { input?: Buffer | string; log?: fs.WriteStream } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: podmanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const keep = (chunk: Buffer): void => {
      out = (out + chunk.toString()).slice(-20_000);
      options.log?.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} ${args.slice(0, 3).join(' ')}… exited with ${code}:\n${out.slice(-3000)}`)),
    );
    child.stdin.end(options.input ?? '');
  });
}

/**
 * The server's certificate for `host` from a CA of the drill's own, in `<dir>/certs` as the server
 * gets it: cert.pem and key.pem, and ca.pem for the checks' curl (not the CA's key).
 */
export function serverCertificates(dir: string, host: string): { ca: TestCa; certs: string } {
  const ca = createTestCa(path.join(dir, 'tls'), host);
  const certs = path.join(dir, 'certs');
  fs.mkdirSync(certs);
  for (const [from, to] of [
    [ca.cert, 'cert.pem'],
    [ca.key, 'key.pem'],
    [ca.caCert, 'ca.pem'],
  ] as const)
    fs.copyFileSync(from, path.join(certs, to));
  return { ca, certs };
}

/** Section 8's checks through the proxy, as bash lines (`curl` given `curlOptions` to reach and trust it), and their expected output. */
export function firstChecks(host: string, curlOptions: string): { script: string; expectPassed(output: string): void } {
  return {
    script: `resolve="${curlOptions}"
for i in $(seq 1 240); do curl -fsS $resolve https://${host}/health > /dev/null 2>&1 && break; sleep 0.5; done
echo "health: $(curl -fsS $resolve https://${host}/health)"
echo "ready: $(curl -fsS $resolve https://${host}/ready)"
echo "dev route: $(curl -s -o /dev/null -w '%{http_code}' $resolve https://${host}/api/dev/room-token)"
echo "metrics: $(curl -s -o /dev/null -w '%{http_code}' $resolve https://${host}/metrics)"`,
    expectPassed: (output) => {
      expect(output).toMatch(/health: \{"status":"ok"/);
      expect(output).toMatch(/ready: \{"status":"ready"/);
      expect(output).toMatch(/dev route: 404/);
      expect(output).toMatch(/metrics: 404/);
    },
  };
}

export interface FreshMachineOptions {
  /** The container's name. */
  name: string;
  /** Where every step's commands and output go. */
  log: fs.WriteStream;
  /** More `podman run` arguments: volumes, `--privileged`, `--network`. */
  runArgs?: string[];
}

export class FreshMachine {
  readonly steps: InstallStep[] = [];
  readonly #options: FreshMachineOptions;
  #startedAt = 0;
  #ip = '';

  private constructor(options: FreshMachineOptions) {
    this.#options = options;
  }

  /** Starts the machine; its making is the first step. The host's CA bundle is mounted for SANDBOX_NPM_CA. */
  static async start(options: FreshMachineOptions): Promise<FreshMachine> {
    const machine = new FreshMachine(options);
    await ensureBaseImage({ prefix: `${PODMAN_PREFIX}-telemed` });
    machine.#startedAt = Date.now();
    const { name } = options;
    try {
      await exec('podman', [
        'run',
        '-d',
        '--name',
        name,
        '--init',
        '-v',
        `/etc/ssl/certs/ca-certificates.crt:${SANDBOX_CA}:ro`,
        ...(options.runArgs ?? []),
        `localhost/${PODMAN_PREFIX}-telemed-debian:bookworm`,
        'sleep',
        'infinity',
      ]);
      machine.#ip = (await exec('podman', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name])).trim();
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(machine.#ip)) throw new Error(`the machine has no IPv4 address: '${machine.#ip}'`);
      await exec('podman', ['exec', name, 'install', '-d', '/opt/telemed', '/usr/local/lib/node_modules']);
      await exec('podman', ['cp', '/usr/bin/node', `${name}:/usr/local/bin/node`]);
      await exec('podman', ['cp', '/usr/lib/node_modules/npm', `${name}:/usr/local/lib/node_modules/npm`]);
      await exec('podman', ['exec', name, 'ln', '-s', '/usr/local/lib/node_modules/npm/bin/npm-cli.js', '/usr/local/bin/npm']);
      const archive = await new Promise<Buffer>((resolve, reject) => {
        const git = spawn('git', ['-C', ROOT, 'archive', '--format=tar', 'HEAD']);
        const chunks: Buffer[] = [];
        git.stdout.on('data', (c: Buffer) => chunks.push(c));
        git.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`git archive exited with ${code}`))));
      });
      await exec('podman', ['exec', '-i', name, 'tar', '-x', '-C', '/opt/telemed'], { input: archive });
    } catch (error) {
      // Not yet the caller's to remove: it never got the machine.
      await machine.remove();
      throw error;
    }
    machine.steps.push({ name: 'fresh machine: container, Node 20 copied in, checkout', section: '—', seconds: (Date.now() - machine.#startedAt) / 1000 });
    return machine;
  }

  get name(): string {
    return this.#options.name;
  }

  /** Its address on the host's podman network. */
  get ip(): string {
    return this.#ip;
  }

  get totalSeconds(): number {
    return (Date.now() - this.#startedAt) / 1000;
  }

  /** Copies a file or folder of this host into the machine. */
  copyIn(from: string, to: string): Promise<string> {
    return exec('podman', ['cp', from, `${this.name}:${to}`]);
  }

  /** One step of the guide: `script` run by bash as root in /opt/telemed, timed. */
  async step(stepName: string, section: string, script: string, input?: string): Promise<string> {
    const t0 = Date.now();
    const { log } = this.#options;
    console.log(`[install] ${this.steps.length + 1}. ${stepName} (${section}) …`);
    log.write(`\n===== ${stepName} (${section})\n${script}\n-----\n`);
    const out = await exec('podman', ['exec', '-i', '-w', '/opt/telemed', this.name, 'bash', '-euo', 'pipefail', '-c', script], {
      log,
      ...(input !== undefined ? { input } : {}),
    });
    this.record(stepName, section, t0);
    return out;
  }

  /** Records a step done outside the machine (a browser's test call) that began at `startedAt`. */
  record(stepName: string, section: string, startedAt: number): void {
    const seconds = (Date.now() - startedAt) / 1000;
    this.steps.push({ name: stepName, section, seconds });
    console.log(`[install]    done in ${seconds.toFixed(1)} s (${this.totalSeconds.toFixed(0)} s so far)`);
  }

  /**
   * Section 8's "sign in as two staff accounts in two browsers and make a video call": two doctors
   * in this host's Chromium (trusting `ca`, `host` mapped to the machine), timed as a step.
   */
  async testCall(ca: TestCa, host: string): Promise<void> {
    const t0 = Date.now();
    const browser = await launchBrowser('chromium', { home: ca.browserHome, args: [`--host-resolver-rules=MAP ${host} ${this.ip}`] });
    try {
      const { video } = await doctorsVideoCall(browser, `https://${host}`);
      console.log(`[install] test call: ${video[0].frames} and ${video[1].frames} frames decoded`);
    } finally {
      await browser.close();
    }
    this.record('a test call between the two doctors', '8. First checks', t0);
  }

  /** The steps so far as bench:install reads them. */
  writeSteps(file: string): void {
    fs.writeFileSync(file, JSON.stringify({ steps: this.steps, totalSeconds: this.totalSeconds }, null, 2));
  }

  /** Removes the container (its volumes are the caller's). */
  async remove(): Promise<void> {
    await exec('podman', ['rm', '-f', '-t', '1', this.name]).catch(() => undefined);
  }
}
