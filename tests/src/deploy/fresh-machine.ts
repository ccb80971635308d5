// The "fresh Debian 12 server" of bench:install's drills (install.measure.ts and
// install-containers.measure.ts): a container from the project's Debian base image (mmdebstrap
// minbase bookworm: what a fresh server has, less the kernel) with Node 20 copied in from this host
// (NodeSource is not reachable here) and this commit's tree in /opt/telemed (what `git clone`
// gives). Each step of the guide runs in it as written, as root, and is timed.
import { spawn } from 'node:child_process';
import type fs from 'node:fs';
import { ensureBaseImage, podmanEnv } from '../../../scripts/containers.mjs';
import { PODMAN_PREFIX } from './compose-stack.js';
import { ROOT } from './production.js';

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

  /** Starts the machine; its making is the first step. The sandbox's CA bundle is at /etc/sandbox-ca.crt (npm's TLS proxy: see the drills). */
  static async start(options: FreshMachineOptions): Promise<FreshMachine> {
    const machine = new FreshMachine(options);
    await ensureBaseImage({ prefix: `${PODMAN_PREFIX}-telemed` });
    machine.#startedAt = Date.now();
    const { name } = options;
    await exec('podman', [
      'run',
      '-d',
      '--name',
      name,
      '--init',
      '-v',
      '/etc/ssl/certs/ca-certificates.crt:/etc/sandbox-ca.crt:ro',
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

  /** Removes the container (its volumes are the caller's). */
  async remove(): Promise<void> {
    await exec('podman', ['rm', '-f', '-t', '1', this.name]).catch(() => undefined);
  }
}
