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
  /** Where the API keeps PGlite's files (`<dataDir>/db`); defaults to ./data. */
  dataDir?: string;
  startTimeoutMs?: number;
  /** After SIGTERM, how long a process may drain before SIGKILL, ms (default 5000); per process or both. */
  stopGraceMs?: number | { api?: number; media?: number };
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
