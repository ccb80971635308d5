import type { ChildProcess } from 'node:child_process';

export interface SupervisorLogLine {
  service: string;
  level: 'info' | 'warn' | 'error';
  levelValue: number;
  msg: string;
}

export interface SuperviseOptions {
  /** A run of the service started already (e.g. one that passed its health check); else spawnChild() runs first. */
  child?: ChildProcess;
  /** Consecutive fast crashes tolerated; one more and the service is left stopped (default 5). */
  maxFastCrashes?: number;
  /** A run that ends sooner than this after its start is a fast crash (default 30000 ms). */
  fastCrashMs?: number;
  /** Delay before a restart, doubled for each consecutive fast crash (default 500 ms)… */
  backoffMs?: number;
  /** …up to this (default 10000 ms). */
  maxBackoffMs?: number;
  /** One line per crash, restart and give-up. */
  onLog?: (line: SupervisorLogLine) => void;
  onRestart?: (child: ChildProcess) => void;
  /** The service crashed more than maxFastCrashes times in a row and is not restarted again. */
  onGiveUp?: (exit: { code: number | null; signal: NodeJS.Signals | null }) => void;
}

export interface SupervisedService {
  readonly name: string;
  /** The current run (a new ChildProcess after each restart). */
  readonly child: ChildProcess;
  readonly restarts: number;
  readonly state: 'running' | 'restarting' | 'given-up' | 'stopped';
  /** Stops supervising and the current run (SIGTERM, SIGKILL after graceMs). */
  stop(graceMs?: number): Promise<void>;
}

/** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves once the process has exited. */
export function stopProcess(child: ChildProcess, graceMs?: number): Promise<void>;
export function superviseService(name: string, spawnChild: () => ChildProcess, options?: SuperviseOptions): SupervisedService;
