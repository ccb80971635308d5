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
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parentPid && comm.startsWith(name.slice(0, 15))) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
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
