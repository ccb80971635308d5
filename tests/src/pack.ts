// Packs a workspace package the way `npm publish` would, for tests that use it from outside the repo.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface PackedPackage {
  /** The .tgz file. */
  tarball: string;
  /** Paths inside the package, as npm lists them (`dist/telemed-sdk.mjs`, `package.json`, ...). */
  files: string[];
}

/** `npm pack` of the workspace folder `name` (e.g. `sdk`) into `destination`. */
export async function packWorkspace(name: string, destination: string): Promise<PackedPackage> {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--json', '--pack-destination', destination], { cwd: path.join(REPO_ROOT, name), maxBuffer: 16 * 1024 * 1024 });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!info) throw new Error(`npm pack of ${name} listed nothing`);
  return { tarball: path.join(destination, info.filename), files: info.files.map((f) => f.path) };
}
