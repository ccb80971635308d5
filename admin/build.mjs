// Builds the dashboard into dist/public, then places it at demo-app/dist/public/admin/: the API
// serves that folder as its static root, so the dashboard is at /admin/. Run after the demo app's
// build (which recreates its dist/public).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist', 'public');
const served = path.join(here, '..', 'demo-app', 'dist', 'public', 'admin');
fs.rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [path.join(here, '..', 'node_modules', 'rollup', 'dist', 'bin', 'rollup'), '-c', 'rollup.config.mjs', '--silent'], {
  cwd: here,
  stdio: 'inherit',
});
fs.cpSync(path.join(here, 'public'), out, { recursive: true });
fs.copyFileSync(path.join(here, '..', 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), path.join(out, 'uPlot.min.css'));
fs.rmSync(served, { recursive: true, force: true });
fs.cpSync(out, served, { recursive: true });
console.log(`[admin] built ${path.relative(process.cwd(), out)} → ${path.relative(process.cwd(), served)}`);
