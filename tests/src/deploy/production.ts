// The production launcher (`node scripts/telemed.mjs serve`) as the deployment tests run it: a
// config file the test writes, free loopback ports, a data directory of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshSecrets, parseEnvFile } from '../../../scripts/production.mjs';
import { inNamespace } from '../network/netns.js';
import { freePortRange } from '@telemed/test-kit';

/** A production start with its first accounts: ~40 s on a quiet machine, minutes at load 40+. */
export const START_TIMEOUT_MS = 300_000;

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TELEMED = path.join(ROOT, 'scripts', 'telemed.mjs');

/** Fresh strong secrets, as `telemed secrets` prints them (without the optional TURN and metrics ones). */
export function strongSecrets(): Record<string, string> {
  const { TURN_SECRET, METRICS_TOKEN, ...secrets } = parseEnvFile(freshSecrets());
  void TURN_SECRET;
  void METRICS_TOKEN;
  return secrets;
}

export function writeEnvFile(file: string, settings: Record<string, string>): void {
  fs.writeFileSync(
    file,
    `# written by a deployment test\n${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
    { mode: 0o600 },
  );
}

/** Runs `telemed <args>` to completion. */
export function runTelemed(
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TELEMED, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export interface ProductionStack {
  process: ChildProcess;
  dir: string;
  configFile: string;
  settings: Record<string, string>;
  apiUrl: string;
  mediaUrl: string;
  ports: { api: number; media: number; rtc: number };
  /** Everything the launcher printed so far (its banner, then the services' JSON log lines). */
  output(): string;
  /** Resolves with the launcher's exit code. */
  exited: Promise<number | null>;
  /** SIGTERM, and waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Starts the production stack with a config file holding strong secrets, PUBLIC_URL and the
 * given settings (they win); resolves once the launcher says it is up.
 */
export async function startProduction(
  settings: Record<string, string> = {},
  options: {
    beforeStart?: (stack: { dir: string; configFile: string; settings: Record<string, string> }) => Promise<void>;
    /** A test-bed namespace to run the launcher in (netbed/netns.ts); its URLs then hold inside it only. */
    netns?: string;
  } = {},
): Promise<ProductionStack> {
  const workerBin = process.env.MEDIASOUP_WORKER_BIN;
  if (!workerBin) throw new Error('MEDIASOUP_WORKER_BIN is not set: run the tests with `npm test`');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemed-prod-'));
  const base = await freePortRange(3);
  const all: Record<string, string> = {
    PUBLIC_URL: 'https://telemed.test',
    TELEMED_DATA_DIR: path.join(dir, 'data'),
    API_PORT: String(base),
    MEDIA_PORT: String(base + 1),
    MEDIA_RTC_BASE_PORT: String(base + 2),
    MEDIA_NUM_WORKERS: '1',
    MEDIASOUP_WORKER_BIN: workerBin,
    START_TIMEOUT: '180',
    ...strongSecrets(),
    ...settings,
  };
  const configFile = path.join(dir, 'telemed.env');
  writeEnvFile(configFile, all);
  await options.beforeStart?.({ dir, configFile, settings: all });
  const child = spawn(...inNamespace(options.netns, process.execPath, [TELEMED, 'serve', '--config', configFile]), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const up = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (output.includes('production stack up')) resolve(true);
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
    }),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 240_000)),
  ]);
  const stop = async (graceMs = 60_000): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(killer);
      return code;
    }
    return exited;
  };
  if (!up) {
    await stop(5000);
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`the production stack did not start:\n${output.slice(-4000)}`);
  }
  return {
    process: child,
    dir,
    configFile,
    settings: all,
    apiUrl: `http://127.0.0.1:${all.API_PORT}`,
    mediaUrl: `http://127.0.0.1:${all.MEDIA_PORT}`,
    ports: { api: Number(all.API_PORT), media: Number(all.MEDIA_PORT), rtc: Number(all.MEDIA_RTC_BASE_PORT) },
    output: () => output,
    exited,
    stop,
  };
}

export const STAFF_PASSWORD = 'correct horse battery staple';
export const DOCTORS = [
  ['house@clinic.test', 'Dr. House'],
  ['wilson@clinic.test', 'Dr. Wilson'],
] as const;

/** The first accounts, as the guide creates them: two doctors (colleagues may call each other). */
export async function addDoctors({ configFile }: { configFile: string }): Promise<void> {
  for (const [email, name] of DOCTORS) {
    const added = await runTelemed(['add-user', '--config', configFile, '--role', 'doctor', '--email', email, '--name', name], {
      input: `${STAFF_PASSWORD}\n`,
    });
    if (!added.stdout.includes(`created doctor ${email}`)) throw new Error(`add-user ${email} failed: ${added.stderr}`);
  }
}

export interface RoomAccessJson {
  url: string;
  token: string;
  expiresIn: number;
  iceServers: Array<{ urls: string[]; username: string; credential: string }>;
}

/** Signs both doctors in over `apiUrl`; House calls Wilson, who accepts: both rooms accesses. */
export async function doctorsCall(
  apiUrl: string,
  headers: Record<string, string> = {},
): Promise<{ callId: string; house: RoomAccessJson; wilson: RoomAccessJson }> {
  const post = async <T>(path: string, body: unknown, token?: string): Promise<T> => {
    const res = await fetch(`${apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  type Session = { accessToken: string; user: { id: string } };
  const house = await post<Session>('/api/auth/login', { email: DOCTORS[0][0], password: STAFF_PASSWORD });
  const wilson = await post<Session>('/api/auth/login', { email: DOCTORS[1][0], password: STAFF_PASSWORD });
  const call = await post<{ id: string }>('/api/calls', { type: 'video', inviteeIds: [wilson.user.id] }, house.accessToken);
  const accepted = await post<{ access: RoomAccessJson }>(`/api/calls/${call.id}/accept`, {}, wilson.accessToken);
  const houseAccess = await post<RoomAccessJson>(`/api/calls/${call.id}/token`, {}, house.accessToken);
  return { callId: call.id, house: houseAccess, wilson: accepted.access };
}
