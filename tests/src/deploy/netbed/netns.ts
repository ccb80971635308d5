// A test bed of Linux network namespaces: one LAN namespace holding a bridge, and host namespaces
// wired to it by veth pairs, each with its own addresses, an /etc/hosts of its own
// (/etc/netns/<ns>/hosts, which `ip netns exec` mounts over /etc/hosts) and an nftables table for
// its network profile. Every name carries the prefix `tmd` (other engineers' beds use their own);
// the addresses are 10.231.<n>.0/24. Teardown kills what runs inside, deletes the namespaces and
// their /etc/netns directories: on destroy(), on process exit, and for leftovers of dead processes
// when the next bed starts.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const PREFIX = 'tmd';
const NS_PATTERN = new RegExp(`^${PREFIX}-([a-z]+)-(\\d+)$`);
/** The nftables table each host's profile lives in (inside that host's namespace). */
export const PROFILE_TABLE = `${PREFIX}_profile`;

export interface NetHostSpec {
  /** Addresses in the bed's /24, last octet(s): the first is the host's main address. */
  octets: number[];
}

export interface NetHost {
  name: string;
  /** The network namespace, `tmd-<name>-<pid>`. */
  ns: string;
  /** The host's addresses, main one first. */
  addresses: string[];
}

export interface NetBed {
  subnet: string;
  hosts: Record<string, NetHost>;
  /** Runs `command` inside the host's namespace (its /etc/hosts is the bed's). */
  spawn(host: string, command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside the host's namespace to completion; returns its stdout. */
  run(host: string, command: string, args: string[], input?: string): string;
  /** Replaces the host's nftables profile table with `ruleset` (the body of `table inet tmd_profile`); '' removes it. */
  setFirewall(host: string, ruleset: string): void;
  destroy(): void;
}

const ip = (args: string[], input?: string): string =>
  execFileSync('ip', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills every process inside `ns`, deletes it and its /etc/netns directory. Never throws. */
function removeNamespace(ns: string): void {
  try {
    for (const pid of ip(['netns', 'pids', ns]).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
  } catch {
    /* no such namespace */
  }
  try {
    ip(['netns', 'del', ns]);
  } catch {
    /* no such namespace */
  }
  fs.rmSync(path.join('/etc/netns', ns), { recursive: true, force: true });
}

/** Our namespaces (prefix `tmd-`) left by processes that are gone. */
export function removeStaleNamespaces(): string[] {
  const stale = ip(['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((ns) => {
      const match = NS_PATTERN.exec(ns);
      return match !== null && !alive(Number(match[2]));
    });
  for (const ns of stale) removeNamespace(ns);
  for (const dir of fs.existsSync('/etc/netns') ? fs.readdirSync('/etc/netns') : []) {
    const match = NS_PATTERN.exec(dir);
    if (match && !alive(Number(match[2]))) fs.rmSync(path.join('/etc/netns', dir), { recursive: true, force: true });
  }
  return stale;
}

/** Can this process build a bed (root with `ip netns` and `nft`)? The reason when it cannot. */
export function netBedUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    ip(['netns', 'list']);
  } catch (error) {
    return `ip netns / nft unusable: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * Creates the bed: `hosts` by name (lower-case letters), all on one bridge in `tmd-lan-<pid>`,
 * with `names` (DNS name → [host, index of its address]) in every host's /etc/hosts.
 */
export function createNetBed(options: { hosts: Record<string, NetHostSpec>; names?: Record<string, [host: string, index: number]> }): NetBed {
  removeStaleNamespaces();
  const pid = process.pid;
  const subnet = `10.231.${pid % 250}`;
  const lan = `${PREFIX}-lan-${pid}`;
  const created: string[] = [];
  const hosts: Record<string, NetHost> = {};
  const destroy = (): void => {
    for (const ns of created.splice(0).reverse()) removeNamespace(ns);
    process.off('exit', destroy);
  };
  process.on('exit', destroy);
  try {
    ip(['netns', 'add', lan]);
    created.push(lan);
    ip(['-n', lan, 'link', 'add', 'tmdbr0', 'type', 'bridge']);
    ip(['-n', lan, 'link', 'set', 'tmdbr0', 'up']);
    const addressOf = ([host, index]: [string, number]): string => {
      const octet = options.hosts[host]?.octets[index];
      if (octet === undefined) throw new Error(`no address ${index} on host ${host}`);
      return `${subnet}.${octet}`;
    };
    const hostsFile = ['127.0.0.1 localhost', ...Object.entries(options.names ?? {}).map(([name, at]) => `${addressOf(at)} ${name}`)].join('\n') + '\n';
    Object.entries(options.hosts).forEach(([name, spec], index) => {
      if (!/^[a-z]+$/.test(name)) throw new Error(`host name ${name}: lower-case letters only`);
      const ns = `${PREFIX}-${name}-${pid}`;
      ip(['netns', 'add', ns]);
      created.push(ns);
      // Created straight inside the two namespaces: nothing appears in the machine's own.
      const [inside, outside] = [`tmd${index}`, `tmdp${index}`];
      ip(['link', 'add', inside, 'netns', ns, 'type', 'veth', 'peer', 'name', outside, 'netns', lan]);
      ip(['-n', lan, 'link', 'set', outside, 'master', 'tmdbr0', 'up']);
      const addresses = spec.octets.map((octet) => `${subnet}.${octet}`);
      for (const address of addresses) ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', inside]);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'link', 'set', inside, 'up']);
      fs.mkdirSync(path.join('/etc/netns', ns), { recursive: true });
      fs.writeFileSync(path.join('/etc/netns', ns, 'hosts'), hostsFile);
      hosts[name] = { name, ns, addresses };
    });
  } catch (error) {
    destroy();
    throw error;
  }
  const nsOf = (host: string): string => {
    const found = hosts[host];
    if (!found) throw new Error(`no host ${host} in the bed`);
    return found.ns;
  };
  return {
    subnet: `${subnet}.0/24`,
    hosts,
    spawn: (host, command, args, spawnOptions = {}) => spawn('ip', ['netns', 'exec', nsOf(host), command, ...args], spawnOptions),
    run: (host, command, args, input) => ip(['netns', 'exec', nsOf(host), command, ...args], input),
    setFirewall(host, ruleset) {
      const ns = nsOf(host);
      // Delete and recreate in one transaction: no moment without the profile.
      const script = `table inet ${PROFILE_TABLE}\ndelete table inet ${PROFILE_TABLE}\n${ruleset ? `table inet ${PROFILE_TABLE} {\n${ruleset}\n}\n` : ''}`;
      ip(['netns', 'exec', ns, 'nft', '-f', '-'], script);
    },
    destroy,
  };
}
