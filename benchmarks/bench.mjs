#!/usr/bin/env node
// `npm run bench*`: builds what the benchmarks run (skipped when nothing it reads changed since the
// last build, like the stamps of scripts/setup.mjs), then runs one benchmark or all of them, and
// prints the total time. Usage: node benchmarks/bench.mjs <build|all|sfu|signaling|join|api|failover|placement|soak|load|recording|netjoin|install> [flags]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureMediasoupWorker } from '../scripts/mediasoup-worker.mjs';
import { newestMtime } from '../scripts/setup.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = path.join(ROOT, 'node_modules', '.telemed-bench-build-stamp');
// Everything bench:build reads, and what it must leave behind.
const INPUTS = ['tsconfig.base.json', 'package-lock.json', 'sdk', 'media-server', 'api', 'test-kit', 'benchmarks'];
const OUTPUTS = ['sdk/dist/telemed-sdk.browser.mjs', 'media-server/dist/main.js', 'api/dist/main.js', 'benchmarks/dist/run-all.js'];
// Serialised with other builds of the same tree (the lock file the project's build uses), when flock exists.
function run(cmd, args) {
  const locked = fs.existsSync('/usr/bin/flock') ? ['/usr/bin/flock', ['/tmp/telemed-build.lock', cmd, ...args]] : [cmd, args];
  const result = spawnSync(locked[0], locked[1], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
const [what = 'all', ...flags] = process.argv.slice(2);

const newest = Math.max(...INPUTS.map((p) => newestMtime(path.join(ROOT, p))));
const stamp = fs.existsSync(STAMP) ? Number(fs.readFileSync(STAMP, 'utf8')) : 0;
if (stamp >= newest && OUTPUTS.every((p) => fs.existsSync(path.join(ROOT, p)))) {
  console.log('[bench] build up to date (no source changed since the last bench build)');
} else {
  console.log('[bench] building: tsc -b sdk media-server api benchmarks (and test-kit, which benchmarks reference), then the SDK bundles');
  run('npx', ['tsc', '-b', 'sdk', 'media-server', 'api', 'benchmarks']);
  run('npm', ['run', 'build', '--silent', '--workspace', '@telemed/sdk']);
  // Read again after the build: building bumps the mtime of folders it writes into (sdk/ gets a new dist/).
  fs.writeFileSync(STAMP, String(Math.max(...INPUTS.map((p) => newestMtime(path.join(ROOT, p))))));
  console.log(`[bench] built in ${seconds()} s`);
}
if (what !== 'build') {
  // mediasoup reads MEDIASOUP_WORKER_BIN when it is imported: it must be set before the benchmark starts.
  if (what !== 'api') process.env.MEDIASOUP_WORKER_BIN = await ensureMediasoupWorker();
  const script = what === 'all' ? 'run-all.js' : path.join(what, 'main.js');
  const result = spawnSync(process.execPath, [path.join(ROOT, 'benchmarks', 'dist', script), ...flags], { cwd: ROOT, stdio: 'inherit' });
  console.log(
    `[bench] ${what === 'all' ? 'the set' : `bench:${what}`}${flags.length ? ` ${flags.join(' ')}` : ''}: ${result.status === 0 ? 'done' : 'FAILED'}, total ${seconds()} s including the build check`,
  );
  process.exit(result.status ?? 1);
}
