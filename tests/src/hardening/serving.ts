import { expect } from 'vitest';
import type { Platform } from '../platform.js';

export interface Pids {
  api: number | undefined;
  media: number | undefined;
}

export const pidsOf = (platform: Platform): Pids => ({ api: platform.processes.api.pid, media: platform.processes.media.pid });

/** Both processes are the ones started (none crashed and came back) and both answer /health. */
export async function expectStillServing(platform: Platform, pids: Pids): Promise<void> {
  expect(pidsOf(platform)).toEqual(pids);
  expect(platform.processes.api.exitCode).toBeNull();
  expect(platform.processes.media.exitCode).toBeNull();
  for (const url of [`${platform.apiUrl}/health`, `${platform.mediaHttpUrl}/health`]) expect((await fetch(url)).status).toBe(200);
}

/** host and port of a URL, for raw sockets. */
export function endpoint(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port) };
}
