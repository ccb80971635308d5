// The `telemed` CLI (scripts/telemed.mjs) as a backend's operator runs its API-key commands.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const TELEMED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'scripts', 'telemed.mjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `telemed ...args` against the API at `apiUrl` (TELEMED_API_URL); resolves with its exit code, never rejects. */
export function runTelemed(apiUrl: string, args: readonly string[]): Promise<CliRun> {
  return promisify(execFile)(process.execPath, [TELEMED, ...args], { env: { ...process.env, TELEMED_API_URL: apiUrl } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}
