// `npm run bench` (with --quick) and `npm run bench:all`: every benchmark in turn, each in its own
// process, with the same flags.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from './common/results.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const flags = process.argv.slice(2);
const benchmarks = ['sfu', 'signaling', 'join', 'api'];
// The quick set has 2 minutes in all: bench:join's quick mode runs 3 joins per mode here (5 alone).
const quickFlags: Record<string, string[]> = flags.includes('--quick') ? { join: ['--joins', '3'] } : {};
const started = performance.now();
const failed: string[] = [];
const times: string[] = [];
for (const name of benchmarks) {
  log(`=== bench:${name} ${flags.join(' ')}`);
  const t0 = performance.now();
  const result = spawnSync(process.execPath, [path.join(here, name, 'main.js'), ...flags, ...(quickFlags[name] ?? [])], { stdio: 'inherit' });
  if (result.status !== 0) failed.push(name);
  times.push(`${name} ${Math.round((performance.now() - t0) / 1000)} s`);
}
log(
  `all benchmarks done in ${Math.round((performance.now() - started) / 1000)} s (${times.join(', ')})${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}`,
);
process.exit(failed.length ? 1 : 0);
