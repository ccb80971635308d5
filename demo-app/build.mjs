// Builds the static site: rollup bundles, then public/ is copied beside them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist', 'public');
fs.rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [path.join(here, '..', 'node_modules', 'rollup', 'dist', 'bin', 'rollup'), '-c', 'rollup.config.mjs', '--silent'], {
  cwd: here,
  stdio: 'inherit',
});
fs.cpSync(path.join(here, 'public'), out, { recursive: true });
console.log(`[demo-app] built ${path.relative(process.cwd(), out)}`);
