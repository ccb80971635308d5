import type { ChildProcess } from 'node:child_process';

export interface PlatformSecrets {
  roomTokenSecret: string;
  serviceSecret: string;
  accessTokenSecret: string;
  mediaWebhookSecret: string;
  encryptionKey: string;
}

export interface PlatformLogLine {
  service: 'media-server' | 'api';
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
  mediaEnv?: Record<string, string>;
  apiEnv?: Record<string, string>;
  onLog?: (line: PlatformLogLine) => void;
}

export interface Platform {
  apiUrl: string;
  mediaHttpUrl: string;
  mediaWsUrl: string;
  secrets: PlatformSecrets;
  health: unknown;
  processes: { media: ChildProcess; api: ChildProcess };
  stop(): Promise<void>;
}

export function generateSecrets(): PlatformSecrets;
/** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves once the process has exited. */
export function stopProcess(child: ChildProcess, graceMs?: number): Promise<void>;
export function loadOrCreateSecrets(dataDir: string): PlatformSecrets;
export function startPlatform(options: PlatformOptions): Promise<Platform>;
