import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  mediasoup: string;
  /** The commit measured, and the files that differed from it when the run started. */
  commit: string;
  dirtyFiles: string[];
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trimEnd();
  } catch {
    return '';
  }
}

export function machineInfo(): MachineInfo {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'mediasoup', 'package.json'), 'utf8')) as { version: string };
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    mediasoup: pkg.version,
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    // Porcelain lines are `XY path` (X may be a space: git() trims only the end).
    dirtyFiles: git(['status', '--porcelain', '-z', '--untracked-files=no'])
      .split('\0')
      .filter(Boolean)
      .map((l) => l.slice(3)),
  };
}

/** 1-, 5- and 15-minute load averages: the machine is shared, so every result records them. */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = os.loadavg();
  return [a, b, c].map((v) => Math.round(v * 100) / 100) as [number, number, number];
}

/** The mediasoup worker binary: MEDIASOUP_WORKER_BIN, else the verified one `npm start` cached. */
export function resolveWorkerBin(): string {
  const fromEnv = process.env.MEDIASOUP_WORKER_BIN;
  if (fromEnv) return fromEnv;
  const cache = path.join(os.homedir(), '.cache', 'telemed', 'mediasoup-worker');
  const builds = fs.existsSync(cache) ? fs.readdirSync(cache).filter((d) => d.includes(machineInfoVersion())) : [];
  for (const build of builds) {
    const bin = path.join(cache, build, 'mediasoup-worker');
    if (fs.existsSync(bin)) {
      process.env.MEDIASOUP_WORKER_BIN = bin;
      return bin;
    }
  }
  throw new Error('no mediasoup worker binary: run `npm run setup` (or set MEDIASOUP_WORKER_BIN)');
}

function machineInfoVersion(): string {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'mediasoup', 'package.json'), 'utf8')).version as string;
}
