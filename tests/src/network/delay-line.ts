// Latency and jitter on one namespace's link, both directions, through delay-line.py (the kernel
// here has no sch_netem, see that file for the path packets take). start() creates the two TUN
// devices and wires them; stop() unwires them first, so the link never points at a device that is
// gone, then ends the process (its devices and their routes go with it).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inNamespace, runAsync } from './netns.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'delay-line.py');

/** One direction's delay: each packet waits delayMs ± jitterMs (uniform), in order. */
export interface Delay {
  delayMs: number;
  jitterMs: number;
}

export interface DelayLineOptions {
  ns: string;
  /** The namespace's end of its link. */
  veth: string;
  /** The namespace's own address, and the address whose traffic is delayed (the SFU's host). */
  localIp: string;
  peerIp: string;
  /** Names of the two TUN devices (at most 15 characters). */
  devices: { up: string; down: string };
  /** The mark and routing table of delayed uplink packets on their way out. */
  mark: number;
  table: number;
}

export class DelayLine {
  readonly #options: DelayLineOptions;
  readonly #child: ChildProcess;
  #stderr = '';

  private constructor(options: DelayLineOptions, child: ChildProcess) {
    this.#options = options;
    this.#child = child;
    child.stderr!.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-2000)));
  }

  static async start(options: DelayLineOptions): Promise<DelayLine> {
    const child = spawn(
      ...inNamespace(options.ns, 'python3', [SCRIPT, '--up', options.devices.up, '--down', options.devices.down, '--mark', String(options.mark)]),
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const line = new DelayLine(options, child);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`delay-line.py exited with ${code} before it was ready: ${line.#stderr}`)));
      child.once('error', reject);
    });
    try {
      await line.#wire();
    } catch (error) {
      await line.stop();
      throw error;
    }
    return line;
  }

  /** New delays for packets from now on. */
  set(up: Delay, down: Delay): void {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
      throw new Error(`delay-line.py in ${this.#options.ns} has exited (${this.#child.exitCode ?? this.#child.signalCode}): ${this.#stderr}`);
    }
    this.#child.stdin!.write(`${up.delayMs} ${up.jitterMs} ${down.delayMs} ${down.jitterMs}\n`);
  }

  async stop(): Promise<void> {
    const { ns, veth, peerIp, devices, mark, table } = this.#options;
    const quiet = (command: string, args: string[]): Promise<unknown> => runAsync(ns, command, args).catch(() => undefined);
    await quiet('tc', ['qdisc', 'del', 'dev', veth, 'clsact']);
    await quiet('ip', ['route', 'del', `${peerIp}/32`, 'dev', devices.up]);
    await quiet('ip', ['rule', 'del', 'fwmark', String(mark), 'lookup', String(table)]);
    await quiet('ip', ['route', 'flush', 'table', String(table)]);
    if (this.#child.exitCode === null) {
      const exited = new Promise((resolve) => this.#child.once('exit', resolve));
      this.#child.stdin!.end();
      await exited;
    }
  }

  async #wire(): Promise<void> {
    const { ns, veth, localIp, peerIp, devices, mark, table } = this.#options;
    const exec = (command: string, args: string[]): Promise<string> => runAsync(ns, command, args);
    for (const device of [devices.up, devices.down]) await exec('ip', ['link', 'set', device, 'up']);
    // Packets written into DOWN come from the peer, whose route is the veth: no reverse-path check.
    await exec('sysctl', ['-qw', 'net.ipv4.conf.all.rp_filter=0', `net.ipv4.conf.${devices.down}.rp_filter=0`]);
    // Delayed uplink packets (marked) leave through the veth as usual...
    await exec('ip', ['route', 'replace', `${peerIp}/32`, 'dev', veth, 'table', String(table)]);
    await exec('ip', ['rule', 'add', 'fwmark', String(mark), 'lookup', String(table)]);
    // ...every other packet to the peer goes into UP first,
    await exec('ip', ['route', 'add', `${peerIp}/32`, 'dev', devices.up, 'src', localIp]);
    // and every IPv4 packet arriving on the veth into DOWN (ARP stays on the veth).
    await exec('tc', ['qdisc', 'add', 'dev', veth, 'clsact']);
    await exec('tc', [
      'filter',
      'add',
      'dev',
      veth,
      'ingress',
      'protocol',
      'ip',
      'prio',
      '1',
      'u32',
      'match',
      'u32',
      '0',
      '0',
      'action',
      'mirred',
      'egress',
      'redirect',
      'dev',
      devices.down,
    ]);
  }
}
