#!/usr/bin/env node
// One idempotent set-up for `npm start` and `npm test`: Debian packages, the mediasoup worker,
// npm dependencies and the build, each skipped when already done. Node built-ins only: this runs
// before node_modules exists.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOCK_STAMP = path.join(ROOT, 'node_modules', '.telemed-lock-hash');
const BUILD_STAMP = path.join(ROOT, 'node_modules', '.telemed-build-stamp');
// Everything the build reads: a change in any of these makes the build stale.
const BUILD_INPUTS = [
  'tsconfig.base.json',
  'tsconfig.json',
  'package-lock.json',
  'sdk',
  'server-kit',
  'server-sdk',
  'media-server',
  'api',
  'demo-app',
  'admin',
  'test-kit',
  'benchmarks',
];

export function step(label) {
  const started = Date.now();
  process.stderr.write(`[setup] ${label}…\n`);
  return (detail = '') => process.stderr.write(`[setup] ${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s${detail ? ` (${detail})` : ''}\n`);
}

function runInherit(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  }
}

export function newestMtime(target) {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(target, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === 'results' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry.name)));
  }
  return newest;
}

function installDependencies(workerBin) {
  const lockHash = createHash('sha256')
    .update(fs.readFileSync(path.join(ROOT, 'package-lock.json')))
    .digest('hex');
  const current = fs.existsSync(LOCK_STAMP) ? fs.readFileSync(LOCK_STAMP, 'utf8') : '';
  if (current === lockHash && fs.existsSync(path.join(ROOT, 'node_modules', '.package-lock.json'))) return false;
  // MEDIASOUP_WORKER_BIN tells mediasoup's own postinstall (if ever allowed) to skip its download/build.
  runInherit('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { env: { ...process.env, MEDIASOUP_WORKER_BIN: workerBin } });
  fs.writeFileSync(LOCK_STAMP, lockHash);
  return true;
}

function build() {
  const stamp = fs.existsSync(BUILD_STAMP) ? Number(fs.readFileSync(BUILD_STAMP, 'utf8')) : 0;
  const newest = Math.max(...BUILD_INPUTS.map((p) => newestMtime(path.join(ROOT, p))));
  if (stamp >= newest && fs.existsSync(path.join(ROOT, 'demo-app', 'dist', 'public', 'dev', 'call.js'))) return false;
  runInherit('npm', ['run', 'build', '--silent']);
  // Measured again: the first build creates dist/ folders, which touches their parents' mtimes.
  fs.writeFileSync(BUILD_STAMP, String(Math.max(...BUILD_INPUTS.map((p) => newestMtime(path.join(ROOT, p))))));
  return true;
}

/**
 * Brings the machine and the checkout to a runnable state.
 * @param {{ profile: 'start' | 'test' }} options
 * @returns {Promise<{ workerBin: string }>}
 */
export async function setup({ profile }) {
  let done = step(`Debian packages for '${profile}'`);
  runInherit('bash', [path.join(ROOT, 'scripts', 'system-packages.sh'), profile]);
  done();

  done = step('mediasoup worker');
  const workerBin = await ensureMediasoupWorker();
  done(workerBin);

  done = step('npm dependencies');
  done(installDependencies(workerBin) ? 'installed with npm ci' : 'up to date');

  done = step('build');
  done(build() ? 'built' : 'up to date');
  return { workerBin };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const profile = process.argv[2] === 'test' ? 'test' : 'start';
  setup({ profile }).catch((error) => {
    process.stderr.write(`[setup] FAILED: ${error.message}\n`);
    process.exit(1);
  });
}
