// Network-namespace primitives the two test beds build on: network/testbed.ts (browsers behind
// shaped links to a bridge in the machine's own namespace) and deploy/netbed/netns.ts (a LAN of
// hosts with their own names and firewalls). A bed names everything it creates with its own prefix
// and its process id, so parallel runs never touch each other's; at start it removes what dead
// processes left (removeStale), and what it created goes on its close and, as a last resort, when
// the process exits (NetnsResources). Needs root, iproute2 and nft.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Does process `pid` exist (EPERM: it does, under another user)? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The command line running `command` inside namespace `ns` (`ip netns exec`, which also mounts
 * the files in /etc/netns/<ns>/ (hosts, resolv.conf) over those in /etc), or in the machine's own namespace when `ns` is undefined.
 */
export function inNamespace(ns: string | undefined, command: string, args: readonly string[]): [string, string[]] {
  return ns === undefined ? [command, [...args]] : ['ip', ['netns', 'exec', ns, command, ...args]];
}

function failure(file: string, args: readonly string[], error: unknown): Error {
  const e = error as { stderr?: string | Buffer; message: string };
  return new Error(`${file} ${args.join(' ')} failed: ${e.stderr?.toString().trim() || e.message}`, { cause: error });
}

/** Runs `command` to completion inside `ns` (see inNamespace), `input` on its stdin; returns its stdout. */
export function run(ns: string | undefined, command: string, args: readonly string[], input?: string): string {
  const [file, argv] = inNamespace(ns, command, args);
  try {
    return execFileSync(file, argv, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });
  } catch (error) {
    throw failure(file, argv, error);
  }
}

/** run() without blocking the event loop: for changes made while a call is going on. */
export function runAsync(ns: string | undefined, command: string, args: readonly string[], input?: string): Promise<string> {
  const [file, argv] = inNamespace(ns, command, args);
  return new Promise((resolve, reject) => {
    const child = execFile(file, argv, { encoding: 'utf8' }, (error, stdout) => (error ? reject(failure(file, argv, error)) : resolve(stdout)));
    child.stdin!.end(input);
  });
}

/**
 * The nft script that replaces table `family name` with `body` in one transaction, so there is no
 * moment without it: declaring the table first lets the delete succeed when it did not exist yet.
 * An empty body leaves the table deleted.
 */
export function replaceTableScript(family: 'inet' | 'bridge', name: string, body: string): string {
  return `table ${family} ${name}\ndelete table ${family} ${name}\n${body ? `table ${family} ${name} {\n${body}\n}\n` : ''}`;
}

/** Can this process build a bed (root with `ip netns` and `nft`)? The reason when it cannot. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    run(undefined, 'nft', ['--version']);
    run(undefined, 'ip', ['netns', 'list']);
  } catch (error) {
    return `ip netns / nft unusable: ${(error as Error).message}`;
  }
  return undefined;
}

/** Kills every process inside `ns`, deletes it and its /etc/netns directory. Never throws. */
function removeNamespace(ns: string): void {
  try {
    for (const pid of run(undefined, 'ip', ['netns', 'pids', ns]).split('\n').filter(Boolean)) {
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
    run(undefined, 'ip', ['netns', 'del', ns]);
  } catch {
    /* no such namespace */
  }
  fs.rmSync(path.join('/etc/netns', ns), { recursive: true, force: true });
}

/** Names a bed gives its things; each pattern's group `pid` is the owning process. */
export interface StalePatterns {
  /** Namespaces (and their /etc/netns directories). */
  namespaces: RegExp;
  /** Links in the machine's own namespace. */
  links?: RegExp;
  /** nftables tables in the machine's own namespace. */
  tables?: { family: 'inet' | 'bridge'; pattern: RegExp };
}

/** Removes the namespaces, links and tables matching `patterns` whose owning process is gone (a crashed or killed run). */
export function removeStale(patterns: StalePatterns): void {
  const dead = (pattern: RegExp, name: string): boolean => {
    const pid = pattern.exec(name)?.groups?.pid;
    return pid !== undefined && !alive(Number(pid));
  };
  for (const line of run(undefined, 'ip', ['netns', 'list']).split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    if (dead(patterns.namespaces, ns)) removeNamespace(ns);
  }
  for (const dir of fs.existsSync('/etc/netns') ? fs.readdirSync('/etc/netns') : []) {
    if (dead(patterns.namespaces, dir)) fs.rmSync(path.join('/etc/netns', dir), { recursive: true, force: true });
  }
  if (patterns.tables) {
    const { family, pattern } = patterns.tables;
    for (const line of run(undefined, 'nft', ['list', 'tables', family]).split('\n')) {
      const table = new RegExp(`^table ${family} (\\S+)`).exec(line)?.[1] ?? '';
      if (dead(pattern, table)) run(undefined, 'nft', ['delete', 'table', family, table]);
    }
  }
  if (patterns.links) {
    for (const line of run(undefined, 'ip', ['-o', 'link', 'show']).split('\n')) {
      const link = /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '';
      if (!dead(patterns.links, link)) continue;
      try {
        run(undefined, 'ip', ['link', 'delete', link]);
      } catch {
        // a veth end goes with its peer's deletion
      }
    }
  }
}

/** One end of a veth pair inside a namespace, the other a port of a bridge. */
export interface VethSpec {
  /** The namespace of the inside end. */
  ns: string;
  /** The inside end's name (created straight in `ns`). */
  inside: string;
  /** The bridge-side end's name. */
  outside: string;
  /** The namespace of the bridge-side end and the bridge; the machine's own when left out. */
  outsideNs?: string;
  bridge: string;
  /** The inside end's addresses with prefix length (`10.0.0.2/24`). */
  addresses: readonly string[];
  /** A default route via this address, as on any real host. */
  gateway?: string;
}

/**
 * What one bed created, removed newest first by close(): on the bed's own close and, as a last
 * resort, when the process exits (so every step is synchronous). close() is idempotent.
 */
export class NetnsResources {
  readonly #undo: (() => void)[] = [];
  readonly #onExit = (): void => this.close();

  constructor() {
    process.on('exit', this.#onExit);
  }

  /** Creates namespace `name`; at close, what runs in it is killed and it goes with its /etc/netns directory. */
  addNamespace(name: string): void {
    run(undefined, 'ip', ['netns', 'add', name]);
    this.#undo.push(() => removeNamespace(name));
  }

  /** Creates bridge `name` (in `ns`, or the machine's own namespace) with `address`, and sets it up. */
  addBridge(name: string, options: { ns?: string; address?: string } = {}): void {
    const ip = (args: string[]): string => run(undefined, 'ip', options.ns ? ['-n', options.ns, ...args] : args);
    ip(['link', 'add', name, 'type', 'bridge']);
    // A link inside a namespace goes with it.
    if (!options.ns) this.#undo.push(() => ip(['link', 'delete', name]));
    if (options.address) ip(['addr', 'add', options.address, 'dev', name]);
    ip(['link', 'set', name, 'up']);
  }

  /** Creates a veth pair straight in its two namespaces and wires it (see VethSpec); both ends and the inside loopback up. */
  addVeth(spec: VethSpec): void {
    const inside = (args: string[]): string => run(undefined, 'ip', ['-n', spec.ns, ...args]);
    const outside = (args: string[]): string => run(undefined, 'ip', spec.outsideNs ? ['-n', spec.outsideNs, ...args] : args);
    const peerNs = spec.outsideNs ? ['netns', spec.outsideNs] : [];
    run(undefined, 'ip', ['link', 'add', spec.inside, 'netns', spec.ns, 'type', 'veth', 'peer', 'name', spec.outside, ...peerNs]);
    if (!spec.outsideNs) this.#undo.push(() => outside(['link', 'delete', spec.outside]));
    outside(['link', 'set', spec.outside, 'master', spec.bridge, 'up']);
    for (const address of spec.addresses) inside(['addr', 'add', address, 'dev', spec.inside]);
    inside(['link', 'set', 'lo', 'up']);
    inside(['link', 'set', spec.inside, 'up']);
    if (spec.gateway) inside(['route', 'add', 'default', 'via', spec.gateway]);
  }

  /** Runs `step` at close (before what was created earlier is removed). */
  defer(step: () => void): void {
    this.#undo.push(step);
  }

  close(): void {
    process.off('exit', this.#onExit);
    for (const step of this.#undo.splice(0).reverse()) {
      try {
        step();
      } catch {
        // never created (a table written on first use) or gone already (a veth end goes with its peer)
      }
    }
  }
}
