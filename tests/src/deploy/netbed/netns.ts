// A test bed of Linux network namespaces: one LAN namespace holding a bridge, and host namespaces
// wired to it by veth pairs, each with its own addresses, an /etc/hosts and an /etc/resolv.conf of
// its own (the files in /etc/netns/<ns>/, which `ip netns exec` mounts over those in /etc) and an
// nftables table for its network profile. The bed's names are also served by DNS (dnsmasq on a
// `resolver` host of the bed): Chromium resolves TURN server names through DNS only, never
// /etc/hosts. Every name carries the prefix `tmd` (other engineers' beds use their own); the
// addresses are 10.231.<n>.0/24. Teardown kills what runs inside, deletes the namespaces and their
// /etc/netns directories: on destroy(), on process exit, and for leftovers of dead processes when
// the next bed starts (the primitives of network/netns.ts).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { inNamespace, NetnsResources, removeStale, replaceTableScript, run } from '../../network/netns.js';

export const PREFIX = 'tmd';
const NS_PATTERN = new RegExp(`^${PREFIX}-[a-z]+-(?<pid>\\d+)$`);
const BRIDGE = `${PREFIX}br0`;
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
  /** The DNS server every host uses (when the bed has names). */
  resolver?: string;
  /** Runs `command` inside the host's namespace (its /etc/hosts is the bed's). */
  spawn(host: string, command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside the host's namespace to completion; returns its stdout. */
  run(host: string, command: string, args: string[], input?: string): string;
  /** Replaces the host's nftables profile table with `ruleset` (the body of `table inet tmd_profile`); '' removes it. */
  setFirewall(host: string, ruleset: string): void;
  destroy(): void;
}

/** The resolver host's address in the bed's /24. */
const RESOLVER_OCTET = 53;

/**
 * Creates the bed: `hosts` by name (lower-case letters), all on one bridge in `tmd-lan-<pid>`,
 * with `names` (DNS name → [host, index of its address]) in every host's /etc/hosts and served by
 * the bed's resolver (host `resolver`), which every host's resolv.conf names.
 */
export function createNetBed(options: { hosts: Record<string, NetHostSpec>; names?: Record<string, [host: string, index: number]> }): NetBed {
  removeStale({ namespaces: NS_PATTERN });
  const pid = process.pid;
  const subnet = `10.231.${pid % 250}`;
  const lan = `${PREFIX}-lan-${pid}`;
  const resources = new NetnsResources();
  const hosts: Record<string, NetHost> = {};
  if (options.names && ('resolver' in options.hosts || Object.values(options.hosts).some((h) => h.octets.includes(RESOLVER_OCTET))))
    throw new Error(`a bed with names has a resolver host at .${RESOLVER_OCTET}: give no host that name or address`);
  const specs: Record<string, NetHostSpec> = options.names ? { ...options.hosts, resolver: { octets: [RESOLVER_OCTET] } } : options.hosts;
  let resolver: string | undefined;
  try {
    resources.addNamespace(lan);
    resources.addBridge(BRIDGE, { ns: lan });
    const addressOf = ([host, index]: [string, number]): string => {
      const octet = specs[host]?.octets[index];
      if (octet === undefined) throw new Error(`no address ${index} on host ${host}`);
      return `${subnet}.${octet}`;
    };
    const hostsFile = ['127.0.0.1 localhost', ...Object.entries(options.names ?? {}).map(([name, at]) => `${addressOf(at)} ${name}`)].join('\n') + '\n';
    Object.entries(specs).forEach(([name, spec], index) => {
      if (!/^[a-z]+$/.test(name)) throw new Error(`host name ${name}: lower-case letters only`);
      const ns = `${PREFIX}-${name}-${pid}`;
      resources.addNamespace(ns);
      const addresses = spec.octets.map((octet) => `${subnet}.${octet}`);
      // Created straight inside the two namespaces: nothing appears in the machine's own.
      resources.addVeth({
        ns,
        inside: `${PREFIX}${index}`,
        outside: `${PREFIX}p${index}`,
        outsideNs: lan,
        bridge: BRIDGE,
        addresses: addresses.map((address) => `${address}/24`),
      });
      fs.mkdirSync(path.join('/etc/netns', ns), { recursive: true });
      fs.writeFileSync(path.join('/etc/netns', ns, 'hosts'), hostsFile);
      if (options.names) fs.writeFileSync(path.join('/etc/netns', ns, 'resolv.conf'), `nameserver ${subnet}.${RESOLVER_OCTET}\n`);
      hosts[name] = { name, ns, addresses };
    });
    if (options.names) {
      resolver = `${subnet}.${RESOLVER_OCTET}`;
      // Forks once it listens (errors exit non-zero before that); killed with its namespace. No
      // configuration file and no PID file: those would be the machine's own, shared by every bed.
      const answers = Object.entries(options.names).map(([name, at]) => `--address=/${name}/${addressOf(at)}`);
      run(hosts.resolver!.ns, 'dnsmasq', [
        '--conf-file=/dev/null',
        '--no-resolv',
        '--no-hosts',
        '--bind-interfaces',
        `--listen-address=${resolver}`,
        '--pid-file',
        ...answers,
      ]);
    }
  } catch (error) {
    resources.close();
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
    ...(resolver ? { resolver } : {}),
    spawn: (host, command, args, spawnOptions = {}) => spawn(...inNamespace(nsOf(host), command, args), spawnOptions),
    run: (host, command, args, input) => run(nsOf(host), command, args, input),
    // Delete and recreate in one transaction: no moment without the profile.
    setFirewall: (host, ruleset) => void run(nsOf(host), 'nft', ['-f', '-'], replaceTableScript('inet', PROFILE_TABLE, ruleset)),
    destroy: () => resources.close(),
  };
}
