// The built `telemed` CLI as an operator runs it, for the tests of its commands.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../pack.js';

export const TELEMED_CLI = path.join(REPO_ROOT, 'scripts/telemed.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `telemed ...args` with `env` and none of the machine's own configuration (TELEMED_*, secrets, URLs, data paths). */
export function telemed(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !/^(TELEMED_|ENCRYPTION_KEY|DATABASE_|ATTACHMENTS_DIR|ROOM_TOKEN_SECRET|MEDIA_PUBLIC_URL|PUBLIC_URL)/.test(key),
    ),
  );
  const child = spawn(process.execPath, [TELEMED_CLI, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
