import type { ChildProcess } from 'node:child_process';
import type { PlatformSecrets } from './platform.d.mts';

export interface MediaNodeOptions {
  /** MEDIA_NODE_ID */
  id: string;
  /** Loopback or host address: signaling and media listen there. */
  ip: string;
  /** Signaling port; media on rtcBasePort (default port + 1) and up, one per worker. */
  port: number;
  rtcBasePort?: number;
  numWorkers?: number;
  workerBin: string;
  secrets: PlatformSecrets;
  redisUrl: string;
  keyPrefix: string;
  /** The API's base URL for media events. */
  apiInternalUrl: string;
  logFile?: string;
  logLevel?: string;
  env?: Record<string, string>;
}

export interface SpawnedMediaNode {
  id: string;
  ip: string;
  /** Its signaling URL, as the registry and RoomAccess.url name it. */
  url: string;
  child: ChildProcess;
}

export function spawnMediaNode(options: MediaNodeOptions): SpawnedMediaNode;
