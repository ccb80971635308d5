#!/usr/bin/env node
// Provides a verified mediasoup-worker binary and prints its path on the last line of stdout.
//
// Order (shared/docs/mediasoup-worker-offline.md, "Order a setup script should try"):
//   1. MEDIASOUP_WORKER_BIN already set and executable
//   2. a cached binary that passed mediasoup's own Node suite
//   3. mediasoup's own prebuilt download (works wherever GitHub is reachable)
//   4. the offline build from Debian's libraries, with the WebRtcServer destructor fix
// Every binary this script produces (3 or 4) must pass mediasoup's Node test suite before it is
// cached; a binary that fails is deleted, never used.
//
// Uses only Node built-ins: it runs before the project's node_modules exist.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const MEDIASOUP_VERSION = '3.12.16';

const CACHE_ROOT = process.env.TELEMED_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'telemed');
const VERIFY_DIR = path.join(CACHE_ROOT, `mediasoup-verify-${MEDIASOUP_VERSION}`);
const PREBUILT_TAR = `mediasoup-worker-${MEDIASOUP_VERSION}-${os.platform()}-${os.arch()}.tgz`;
const SYSTEM_LIBS = ['libuv1-dev', 'libssl-dev', 'libsrtp2-dev', 'libusrsctp-dev', 'libabsl-dev', 'nlohmann-json3-dev'];
const EXPECTED_NODE_TESTS = 157;

const log = (msg) => process.stderr.write(`[mediasoup-worker] ${msg}\n`);

class WorkerSetupError extends Error {}

// The fix from shared/docs/mediasoup-worker-offline.md: iterate over a copy of the transports,
// because ListenServerClosed() erases each transport from the member set being iterated.
const PATCH_FILE = 'src/RTC/WebRtcServer.cpp';
const PATCH_FROM = `\t\tfor (auto* webRtcTransport : this->webRtcTransports)\n\t\t{\n\t\t\twebRtcTransport->ListenServerClosed();\n\t\t}`;
const PATCH_TO = `\t\t// Iterate a copy: ListenServerClosed() erases the transport from this->webRtcTransports.\n\t\tconst auto webRtcTransports = this->webRtcTransports;\n\n\t\tfor (auto* webRtcTransport : webRtcTransports)\n\t\t{\n\t\t\twebRtcTransport->ListenServerClosed();\n\t\t}`;

// meson uses subprojects/<directory> as-is when it exists: one shim per wrap re-exports the
// system library under the variable names mediasoup's meson.build reads.
const EMPTY_LIB = (name) => `${name} = static_library('${name}_shim', 'empty.c')\n`;
const SHIMS = {
  'openssl-3.0.8': {
    build: `project('openssl', 'c')\nopenssl_dep = dependency('openssl')\n${EMPTY_LIB('libcrypto_lib')}${EMPTY_LIB('libssl_lib')}`,
    empty: true,
  },
  'libuv-v1.44.2': {
    build: `project('libuv', 'c')\nlibuv_dep = dependency('libuv')\n${EMPTY_LIB('libuv')}`,
    options: `option('build_tests', type: 'boolean', value: false)\noption('build_benchmarks', type: 'boolean', value: false)\n`,
    empty: true,
  },
  'libsrtp-2.5.0': {
    build: `project('libsrtp2', 'c')\nlibsrtp2_dep = declare_dependency(dependencies: dependency('libsrtp2'), compile_args: ['-I/usr/include/srtp2'])\n${EMPTY_LIB('libsrtp2')}`,
    options: `option('crypto-library', type: 'string', value: 'openssl')\noption('crypto-library-kdf', type: 'string', value: 'disabled')\noption('tests', type: 'string', value: 'disabled')\n`,
    empty: true,
  },
  'usrsctp-4e06feb01cadcd127d119486b98a4bd3d64aa1e7': {
    build: `project('usrsctp', 'c')\nusrsctp_dep = dependency('usrsctp')\n${EMPTY_LIB('usrsctp')}`,
    options: `option('sctp_build_programs', type: 'boolean', value: false)\n`,
    empty: true,
  },
  'nlohmann_json-3.10.5': {
    build: `project('nlohmann_json')\nnlohmann_json_dep = dependency('nlohmann_json')\n`,
  },
  'abseil-cpp-20220623.0': {
    build:
      `project('abseil-cpp', 'c', 'cpp')\n` +
      `absl_container_dep = dependency('absl_flat_hash_map')\n` +
      `absl_strings_dep = declare_dependency(dependencies: [dependency('absl_strings'), dependency('absl_str_format')])\n` +
      `absl_types_dep = declare_dependency(dependencies: [dependency('absl_optional'), dependency('absl_variant'), dependency('absl_span')])\n` +
      EMPTY_LIB('absl_container_lib'),
    empty: true,
  },
  'Catch2-2.13.7': { build: `project('catch2')\ncatch2_dep = declare_dependency()\n` },
};

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function dpkgVersion(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).trim();
  } catch {
    return 'none';
  }
}

/** The build cache key: mediasoup version, the patch, the shims and the system libraries. */
function buildKey() {
  const hash = createHash('sha256');
  hash.update(MEDIASOUP_VERSION).update(PATCH_TO).update(JSON.stringify(SHIMS)).update(os.arch());
  for (const lib of SYSTEM_LIBS) hash.update(`${lib}=${dpkgVersion(lib)}`);
  return `build-${MEDIASOUP_VERSION}-${hash.digest('hex').slice(0, 12)}`;
}

const prebuiltKey = () => `prebuilt-${MEDIASOUP_VERSION}-${os.platform()}-${os.arch()}`;
const cachedBinary = (key) => path.join(CACHE_ROOT, 'mediasoup-worker', key, 'mediasoup-worker');
const verifiedMarker = (bin) => path.join(path.dirname(bin), 'verified.json');

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    const onData = (chunk) => {
      const text = chunk.toString();
      out += text;
      opts.onOutput?.(text);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(Object.assign(new WorkerSetupError(`${cmd} ${args.join(' ')} exited with ${code}`), { output: out })),
    );
  });
}

/** Installs mediasoup (for its sources and compiled tests) and jest beside it, once. */
async function ensureVerifyDir() {
  const pkgDir = path.join(VERIFY_DIR, 'node_modules', 'mediasoup');
  if (fs.existsSync(path.join(VERIFY_DIR, 'node_modules', 'jest', 'package.json')) && fs.existsSync(path.join(pkgDir, 'package.json'))) {
    return pkgDir;
  }
  log(`installing mediasoup@${MEDIASOUP_VERSION} and its test tools into ${VERIFY_DIR}`);
  fs.mkdirSync(VERIFY_DIR, { recursive: true });
  fs.writeFileSync(path.join(VERIFY_DIR, 'package.json'), JSON.stringify({ name: 'telemed-mediasoup-verify', private: true }, null, 2));
  // MEDIASOUP_WORKER_BIN makes mediasoup skip its own worker postinstall (npm 11 skips it anyway).
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `mediasoup@${MEDIASOUP_VERSION}`, 'jest@29', 'pick-port@1', 'sctp@1'], {
    cwd: VERIFY_DIR,
    env: { ...process.env, MEDIASOUP_WORKER_BIN: '/nonexistent' },
  });
  return pkgDir;
}

/** Runs mediasoup's own Node suite against `bin`; resolves with the pass count or throws. */
export async function verifyBinary(bin) {
  const pkgDir = await ensureVerifyDir();
  const testsDir = path.join(pkgDir, 'node', 'lib', 'tests');
  const dataDir = path.join(testsDir, 'data');
  if (!fs.existsSync(path.join(dataDir, 'dtls-cert.pem'))) {
    // The npm tarball lacks the DTLS pair test-Worker uses.
    fs.mkdirSync(dataDir, { recursive: true });
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=test',
      '-keyout',
      path.join(dataDir, 'dtls-key.pem'),
      '-out',
      path.join(dataDir, 'dtls-cert.pem'),
    ]);
  }
  const config = path.join(VERIFY_DIR, 'jest.config.json');
  fs.writeFileSync(
    config,
    JSON.stringify(
      {
        rootDir: VERIFY_DIR,
        roots: [testsDir],
        testRegex: 'test-.*\\.js$',
        testPathIgnorePatterns: [],
        haste: { retainAllFiles: true },
        testEnvironment: 'node',
      },
      null,
      2,
    ),
  );
  log(`verifying ${bin} with mediasoup's own Node test suite (~10 s)`);
  let output;
  try {
    output = await run(process.execPath, [path.join(VERIFY_DIR, 'node_modules', 'jest', 'bin', 'jest.js'), '--config', config, '--ci', '--runInBand'], {
      cwd: VERIFY_DIR,
      env: { ...process.env, MEDIASOUP_WORKER_BIN: bin },
    });
  } catch (error) {
    const tail = String(error.output ?? '')
      .split('\n')
      .filter((l) => /Tests:|✕|●/.test(l))
      .slice(0, 12)
      .join('\n');
    throw new WorkerSetupError(`mediasoup's Node suite failed against ${bin}:\n${tail}`);
  }
  const match = /Tests:\s+(\d+) passed, (\d+) total/.exec(output);
  if (!match || match[1] !== match[2] || Number(match[1]) < EXPECTED_NODE_TESTS) {
    throw new WorkerSetupError(`mediasoup's Node suite did not pass cleanly: ${match ? match[0] : 'no summary line'}`);
  }
  log(`mediasoup's Node suite: ${match[1]}/${match[2]} passed`);
  return Number(match[1]);
}

async function cacheVerified(candidate, key, source) {
  const target = cachedBinary(key);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (path.resolve(candidate) !== target) fs.copyFileSync(candidate, target);
  fs.chmodSync(target, 0o755);
  try {
    const passed = await verifyBinary(target);
    fs.writeFileSync(
      verifiedMarker(target),
      JSON.stringify({ source, mediasoup: MEDIASOUP_VERSION, nodeTestsPassed: passed, at: new Date().toISOString() }, null, 2),
    );
    return target;
  } catch (error) {
    fs.rmSync(path.dirname(target), { recursive: true, force: true });
    throw error;
  }
}

async function tryPrebuiltDownload() {
  const base = process.env.MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL ?? 'https://github.com/versatica/mediasoup/releases/download';
  const url = `${base}/${MEDIASOUP_VERSION}/${PREBUILT_TAR}`;
  log(`trying mediasoup's prebuilt download: ${url}`);
  let res;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    log(`prebuilt download unavailable (${error.cause?.code ?? error.message})`);
    return null;
  }
  if (!res.ok) {
    log(`prebuilt download unavailable (HTTP ${res.status})`);
    return null;
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mediasoup-prebuilt-'));
  try {
    const tgz = path.join(scratch, PREBUILT_TAR);
    fs.writeFileSync(tgz, Buffer.from(await res.arrayBuffer()));
    await run('tar', ['xzf', tgz, '-C', scratch]);
    const bin = path.join(scratch, 'mediasoup-worker');
    // mediasoup's own check: run without MEDIASOUP_VERSION and expect exit code 41.
    try {
      execFileSync(bin, [], { stdio: 'ignore', env: {} });
    } catch (error) {
      if (error.status !== 41) {
        log(`the prebuilt binary does not run on this host (exit ${error.status})`);
        return null;
      }
    }
    return await cacheVerified(bin, prebuiltKey(), 'prebuilt download');
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function writeShims(workerDir) {
  for (const [dir, shim] of Object.entries(SHIMS)) {
    const target = path.join(workerDir, 'subprojects', dir);
    fs.mkdirSync(target, { recursive: true });
    fs.writeFileSync(path.join(target, 'meson.build'), shim.build);
    if (shim.options) fs.writeFileSync(path.join(target, 'meson_options.txt'), shim.options);
    if (shim.empty) fs.writeFileSync(path.join(target, 'empty.c'), '');
  }
}

function applyPatch(workerDir) {
  const file = path.join(workerDir, PATCH_FILE);
  const source = fs.readFileSync(file, 'utf8');
  if (!source.includes(PATCH_FROM)) {
    throw new WorkerSetupError(`${PATCH_FILE} does not contain the loop the WebRtcServer fix targets; refusing to build unpatched`);
  }
  fs.writeFileSync(file, source.replace(PATCH_FROM, PATCH_TO));
  log(`applied the WebRtcServer destructor fix to ${PATCH_FILE}`);
}

async function buildOffline() {
  const missing = ['meson', 'ninja', 'pkg-config', 'g++'].filter((tool) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new WorkerSetupError(`cannot build offline: ${missing.join(', ')} not found (run: bash scripts/system-packages.sh start)`);
  }
  const key = buildKey();
  const pkgDir = await ensureVerifyDir();
  const scratch = path.join(CACHE_ROOT, 'mediasoup-build', key);
  const workerDir = path.join(scratch, 'worker');
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  fs.cpSync(path.join(pkgDir, 'worker'), workerDir, { recursive: true });
  applyPatch(workerDir);
  writeShims(workerDir);

  log('meson setup (system libraries, no downloads)');
  await run('meson', ['setup', 'out/Release', '--buildtype=release', '-Db_ndebug=true', '--wrap-mode=nodownload', '-Db_pie=true', '-Db_staticpic=true'], {
    cwd: workerDir,
  });

  log(`compiling mediasoup-worker with ninja on ${os.cpus().length} cores (about 4-5 minutes on 2 cores)`);
  const started = Date.now();
  let lastShown = 0;
  await run('ninja', ['-C', 'out/Release', 'mediasoup-worker'], {
    cwd: workerDir,
    onOutput: (text) => {
      for (const m of text.matchAll(/\[(\d+)\/(\d+)\]/g)) {
        const [done, total] = [Number(m[1]), Number(m[2])];
        const pct = Math.floor((done / total) * 100);
        if (pct >= lastShown + 10 || done === total) {
          lastShown = pct;
          log(`  compiled ${done}/${total} (${pct}%, ${Math.round((Date.now() - started) / 1000)} s)`);
        }
      }
    },
  });
  const bin = path.join(workerDir, 'out', 'Release', 'mediasoup-worker');
  const cached = await cacheVerified(bin, key, 'offline build (Debian libraries, WebRtcServer fix)');
  fs.rmSync(scratch, { recursive: true, force: true });
  return cached;
}

/** Returns the path of a verified mediasoup-worker binary, building one if needed. */
export async function ensureMediasoupWorker() {
  const fromEnv = process.env.MEDIASOUP_WORKER_BIN;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new WorkerSetupError(`MEDIASOUP_WORKER_BIN=${fromEnv} is not an executable file`);
    log(`using MEDIASOUP_WORKER_BIN=${fromEnv}`);
    return fromEnv;
  }
  for (const key of [buildKey(), prebuiltKey()]) {
    const bin = cachedBinary(key);
    if (isExecutable(bin) && fs.existsSync(verifiedMarker(bin))) {
      const { source } = JSON.parse(fs.readFileSync(verifiedMarker(bin), 'utf8'));
      log(`using the cached, verified binary (${source}): ${bin}`);
      return bin;
    }
  }
  if (process.env.TELEMED_SKIP_PREBUILT_DOWNLOAD !== '1') {
    try {
      const bin = await tryPrebuiltDownload();
      if (bin) {
        log(`using mediasoup's prebuilt binary: ${bin}`);
        return bin;
      }
    } catch (error) {
      log(`prebuilt binary rejected: ${error.message}`);
    }
  }
  log('building the worker offline from Debian libraries (shared/docs/mediasoup-worker-offline.md)');
  const bin = await buildOffline();
  log(`using the offline-built binary: ${bin}`);
  return bin;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureMediasoupWorker().then(
    (bin) => console.log(bin),
    (error) => {
      log(`FAILED: ${error.message}`);
      log('Fix the cause above, or point MEDIASOUP_WORKER_BIN at a working mediasoup-worker 3.12.16 binary.');
      process.exit(1);
    },
  );
}
