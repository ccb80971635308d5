import type { ChildProcess } from 'node:child_process';
import type { SuperviseOptions } from './supervise.d.mts';

export type { SupervisedService, SuperviseOptions, SupervisorLogLine } from './supervise.d.mts';
export { stopProcess, superviseService } from './supervise.d.mts';

export type PlatformService = 'media-server' | 'api';

/** Restart policy for startPlatform's services (see SuperviseOptions for the defaults). */
export interface PlatformSupervision extends Pick<SuperviseOptions, 'maxFastCrashes' | 'fastCrashMs' | 'backoffMs' | 'maxBackoffMs'> {
  /** A service crashed too often in a row and stays down; the other keeps running. */
  onGiveUp?: (service: PlatformService, exit: { code: number | null; signal: NodeJS.Signals | null }) => void;
}

export interface PlatformSecrets {
  roomTokenSecret: string;
  serviceSecret: string;
  accessTokenSecret: string;
  mediaWebhookSecret: string;
  encryptionKey: string;
}

export interface PlatformLogLine {
  service: PlatformService;
  level: string;
  levelValue: number;
  msg: string;
  line: string;
}

export interface PlatformOptions {
  host?: string;
  apiPort?: number;
  mediaPort?: number;
  rtcBasePort?: number;
  numWorkers?: number;
  mode?: 'development' | 'production' | 'test';
  secrets?: PlatformSecrets;
  workerBin?: string;
  logLevel?: string;
  logDir?: string;
  /** `<logDir>/<service>.log` rotates past this size (default LOG_MAX_BYTES or 10 MiB)... */
  logMaxBytes?: number;
  /** ...keeping this many rotated files, `.1` the newest (default LOG_FILES or 5). */
  logKeep?: number;
  /** Where the API keeps PGlite's files (`<dataDir>/db`); defaults to ./data. */
  dataDir?: string;
  startTimeoutMs?: number;
  /** After SIGTERM, how long a process may drain before SIGKILL, ms (default 5000); per process or both. */
  stopGraceMs?: number | { api?: number; media?: number };
  mediaEnv?: Record<string, string>;
  apiEnv?: Record<string, string>;
  onLog?: (line: PlatformLogLine) => void;
  /**
   * Once the platform is healthy, restart a service that exits unexpectedly (with backoff, a log
   * line each time) instead of leaving it down. Off by default: a test wants to see a crash.
   */
  supervise?: boolean | PlatformSupervision;
}

export interface Platform {
  apiUrl: string;
  mediaHttpUrl: string;
  mediaWsUrl: string;
  secrets: PlatformSecrets;
  health: unknown;
  /** The current processes (after a supervised restart, the new ones). */
  processes: { media: ChildProcess; api: ChildProcess };
  /** Supervised restarts so far, per service (empty without `supervise`). */
  restarts(): Partial<Record<PlatformService, number>>;
  stop(): Promise<void>;
}

/** An API instance started beside a platform's (startApiInstance). */
export interface ApiInstance {
  apiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function generateSecrets(): PlatformSecrets;
export function loadOrCreateSecrets(dataDir: string): PlatformSecrets;
export function startPlatform(options: PlatformOptions): Promise<Platform>;
export function startApiInstance(options: PlatformOptions & { secrets: PlatformSecrets; name?: string }): Promise<ApiInstance>;
/** Each service's environment for these options (`baseEnv` defaults to process.env). */
export function serviceEnvironments(
  options: PlatformOptions,
  baseEnv?: Record<string, string | undefined>,
): { media: Record<string, string>; api: Record<string, string> };
