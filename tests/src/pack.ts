// Packs a workspace package the way `npm publish` would, for tests that use it from outside the repo.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface PackedPackage {
  /** The .tgz file. */
  tarball: string;
  /** Paths inside the package, as npm lists them (`dist/telemed-sdk.mjs`, `package.json`, ...). */
  files: string[];
}

/** `npm pack` of the workspace folder `name` (e.g. `sdk`) into `destination`. */
export async function packWorkspace(name: string, destination: string): Promise<PackedPackage> {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: path.join(REPO_ROOT, name),
    maxBuffer: 16 * 1024 * 1024,
  });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!info) throw new Error(`npm pack of ${name} listed nothing`);
  return { tarball: path.join(destination, info.filename), files: info.files.map((f) => f.path) };
}

/**
 * `npm install <tarball>` of the packed workspace `name` (e.g. `sdk`) into `project`, as a user
 * outside the repo would: its dependencies come from the registry (npm's cache first), so a
 * missing or wrong dependency shows. The tarball goes to `destination`.
 */
export async function installPacked(name: string, project: string, destination: string): Promise<PackedPackage & { dir: string }> {
  const packed = await packWorkspace(name, destination);
  fs.mkdirSync(project, { recursive: true });
  const manifest = path.join(project, 'package.json');
  if (!fs.existsSync(manifest)) fs.writeFileSync(manifest, JSON.stringify({ name: 'outside-project', private: true, type: 'module' }));
  // Not the repo's npm settings: `npm test` passes npm_config_* (its prefix, workspaces) to children.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
  await promisify(execFile)('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', packed.tarball], {
    cwd: project,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { ...packed, dir: path.join(project, 'node_modules', '@telemed', name) };
}

/**
 * An unpacked package's problems as publint (strict, down to suggestions) lists them, and
 * arethetypeswrong's table for its tarball (ESM-only profile); attw's problems throw, with its report.
 */
export async function packageLint(packed: PackedPackage & { dir: string }): Promise<{ publint: string[]; attw: string }> {
  const { messages, pkg } = await publint({ pkgDir: packed.dir, level: 'suggestion', strict: true, pack: false });
  const attw = path.join(path.dirname(createRequire(import.meta.url).resolve('@arethetypeswrong/cli/package.json')), 'dist', 'index.js');
  const result = await promisify(execFile)(process.execPath, [attw, packed.tarball, '--profile', 'esm-only', '--format', 'table-flipped'], {
    cwd: path.dirname(packed.tarball),
  }).catch((error: { stdout: string; stderr: string }) => {
    throw new Error(`attw found problems:\n${error.stdout}${error.stderr}`);
  });
  return { publint: messages.map((m) => formatMessage(m, pkg) ?? m.code), attw: result.stdout };
}
