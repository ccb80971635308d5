// Per-process CPU and memory from /proc (Linux), for mediasoup workers and Node processes.
import fs from 'node:fs';

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/** User + system CPU seconds the process has used so far (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Resident set size in bytes (0 when the process is gone). */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Direct children of a process whose command name matches `name`. */
export function childPids(parentPid: number, name: string): number[] {
  return processTable()
    .filter((p) => p.ppid === parentPid && p.comm.startsWith(name.slice(0, 15)))
    .map((p) => p.pid);
}

/** Measures the CPU (in cores) a set of processes used between start() and stop(). */
export class CpuMeter {
  readonly #pids: number[];
  #start: number[] = [];
  #startedAt = 0;

  constructor(pids: number[]) {
    this.#pids = pids;
  }

  start(): void {
    this.#start = this.#pids.map(cpuSeconds);
    this.#startedAt = performance.now();
  }

  /** Cores used per process over the interval (1.0 = one core fully busy). */
  stop(): number[] {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    return this.#pids.map((pid, i) => (cpuSeconds(pid) - (this.#start[i] ?? 0)) / seconds);
  }
}

/**
 * The kernel's count of UDP datagrams dropped because a socket's receive buffer was full (all
 * processes: /proc/net/snmp RcvbufErrors). Loss that matches it happened in the kernel, while the
 * receiving process (an SFU or bot worker) was waiting for a CPU.
 */
export function udpReceiveBufferErrors(): number {
  try {
    const lines = fs
      .readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    return Number(values[names.indexOf('RcvbufErrors')] ?? 0);
  } catch {
    return 0;
  }
}

/** UDP datagrams dropped at the sockets each of `pids` holds (/proc/net/udp `drops`, by socket inode). */
export function udpSocketDrops(pids: number[]): number[] {
  const dropsByInode = new Map<string, number>();
  try {
    for (const line of fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length >= 13) dropsByInode.set(cols[9] ?? '', Number(cols[12]));
    }
  } catch {
    return pids.map(() => 0);
  }
  return pids.map((pid) => {
    let drops = 0;
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        const match = /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`));
        if (match) drops += dropsByInode.get(match[1] ?? '') ?? 0;
      }
    } catch {
      // the process is gone
    }
    return drops;
  });
}

function safeReadlink(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return '';
  }
}

export interface ProcessEntry {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
}

/** Every process of the machine now (pid, parent, name, command line). */
export function processTable(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      entries.push({ pid: Number(entry), ppid, comm, cmdline });
    } catch {
      // the process ended while we looked
    }
  }
  return entries;
}

/** The descendants of `rootPid` (children, their children, …) in `table`. */
export function descendants(rootPid: number, table: ProcessEntry[] = processTable()): ProcessEntry[] {
  const found: ProcessEntry[] = [];
  const parents = new Set([rootPid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of table) {
      if (!parents.has(p.pid) && parents.has(p.ppid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
    }
  }
  return found;
}

/** A process's resident memory by what holds it (from /proc/<pid>/smaps), MiB. */
export interface ResidentRegions {
  /** WebAssembly memories (PGlite's database is one): V8 maps each as its read-write pages followed by a guard reservation of GiBs. */
  wasmMiB: number;
  /** The size those memories have grown to: their resident pages can grow to it and no further. */
  wasmMappedMiB: number;
  /** glibc malloc's heaps: the main arena's [heap] and the other threads' arenas (64 MiB reservations on 64 MiB boundaries). */
  mallocMiB: number;
  /** The rest: V8's JavaScript heap, code, thread stacks, libraries, large allocations mapped on their own. */
  otherMiB: number;
}

const MALLOC_HEAP_BYTES = 64 * 2 ** 20; // glibc's HEAP_MAX_SIZE on 64-bit
const WASM_GUARD_MIN_BYTES = 4 * 2 ** 30;

interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rssKiB: number;
}

/** Sorts `smaps` text into the regions of {@link ResidentRegions}. */
export function classifySmaps(smaps: string): ResidentRegions {
  const mappings: Mapping[] = [];
  for (const line of smaps.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) mappings.push({ start: parseInt(header[1]!, 16), end: parseInt(header[2]!, 16), perms: header[3]!, path: header[4]!, rssKiB: 0 });
    else if (line.startsWith('Rss:') && mappings.length) mappings.at(-1)!.rssKiB = Number(line.split(/\s+/)[1]);
  }
  const kiB = { wasm: 0, wasmMapped: 0, malloc: 0, other: 0 };
  mappings.forEach((m, i) => {
    const next = mappings[i + 1];
    const reservedAfter = next && next.start === m.end && next.perms === '---p' ? next.end - next.start : 0;
    const anonymousWritable = m.perms === 'rw-p' && m.path === '';
    if (anonymousWritable && reservedAfter >= WASM_GUARD_MIN_BYTES) {
      kiB.wasm += m.rssKiB;
      kiB.wasmMapped += (m.end - m.start) / 1024;
    } else if (m.path === '[heap]' || (anonymousWritable && m.start % MALLOC_HEAP_BYTES === 0 && m.end - m.start + reservedAfter === MALLOC_HEAP_BYTES))
      kiB.malloc += m.rssKiB;
    else kiB.other += m.rssKiB;
  });
  const mib = (k: number): number => Math.round((k / 1024) * 10) / 10;
  return { wasmMiB: mib(kiB.wasm), wasmMappedMiB: mib(kiB.wasmMapped), mallocMiB: mib(kiB.malloc), otherMiB: mib(kiB.other) };
}

/** {@link ResidentRegions} of a running process; undefined when it is gone. */
export function residentRegions(pid: number): ResidentRegions | undefined {
  try {
    return classifySmaps(fs.readFileSync(`/proc/${pid}/smaps`, 'utf8'));
  } catch {
    return undefined;
  }
}
