#!/usr/bin/env node
// The container images of deploy/compose.yaml and deploy/kubernetes/, built with podman from a
// Debian base image this script makes from Debian's archive (mmdebstrap; no registry needed).
// The Node parts are built on the host (npm ci --omit=dev from the lockfile, the repo's dist/
// output, the host's Node 20 binary, the verified mediasoup worker) and copied in: nothing is
// fetched from npm inside a build.
//
//   node scripts/containers.mjs build [--latest]   podman & co (idempotent), base image, the images;
//                                                  --latest also tags them :latest (compose's default)
//   node scripts/containers.mjs images             this checkout's image names (KEY=value), no build
//   node scripts/containers.mjs conf               where this machine's containers.conf is (see below)
//   node scripts/containers.mjs compose [--config FILE] [--project NAME] [--images latest|built] -- ARGS…
//                                                  podman-compose ARGS on deploy/compose.yaml with the
//                                                  env file's values (default /etc/telemed/telemed.env)
//   node scripts/containers.mjs kube-env|kube-secret [--config FILE] [--name NAME] [--podman]
//                                                  the env file for deploy/kubernetes/ (with DATABASE_URL
//                                                  and REDIS_URL on the pod's localhost), as KEY=value
//                                                  lines, as a Secret manifest (kubectl apply), or with
//                                                  --podman as what `podman secret create` needs for
//                                                  `podman kube play`
//
// Each image is tagged with the hash of everything it is built from (its Containerfile and
// context, the base image's id): when nothing changed the build is a few `podman image exists`.
// Node built-ins only.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';
import { DEFAULT_CONFIG_FILE, parseEnvFile } from './production.mjs';
import { ROOT, step } from './setup.mjs';

/**
 * Images are named localhost/<prefix>-<name>, the base localhost/<prefix>-debian:bookworm. The
 * prefix is `telemed` (what compose.yaml and the manifests name) unless TELEMED_IMAGE_PREFIX or the
 * caller says otherwise: tests build under a prefix of their own, so they never replace or remove
 * an operator's images.
 */
export const imagePrefix = (prefix) => prefix ?? process.env.TELEMED_IMAGE_PREFIX ?? 'telemed';
export const baseImage = (prefix) => `localhost/${imagePrefix(prefix)}-debian:bookworm`;
export const IMAGE_NAMES = ['postgres', 'redis', 'caddy', 'coturn', 'api', 'media'];
const RECIPE = path.join(ROOT, 'deploy', 'containers');
const WORK = path.join(ROOT, 'build', 'containers');
// The scripts a container runs (`telemed run`, `telemed add-user`, …) and what they import.
const SCRIPTS = ['telemed.mjs', 'production.mjs', 'platform.mjs', 'supervise.mjs', 'rotating-log.mjs', 'mediasoup-worker.mjs', 'ops-commands.mjs', 'setup.mjs'];
// Per Node image: the workspace it runs and extra built folders; the image holds that workspace and
// every @telemed workspace it depends on (workspacesOf), with their package.json and dist/.
const NODE_IMAGES = {
  api: { workspace: '@telemed/api', extra: ['demo-app/dist/public'] },
  media: { workspace: '@telemed/media-server', extra: [] },
};

/** The folders of `workspace` and of the @telemed workspaces it depends on at run time, transitively. */
export function workspacesOf(workspace) {
  const folders = new Map();
  for (const folder of JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).workspaces) {
    folders.set(JSON.parse(fs.readFileSync(path.join(ROOT, folder, 'package.json'), 'utf8')).name, folder);
  }
  const found = new Set();
  const visit = (name) => {
    const folder = folders.get(name);
    if (!folder) throw new Error(`${name} is not a workspace of this repository`);
    if (found.has(folder)) return;
    found.add(folder);
    const { dependencies = {} } = JSON.parse(fs.readFileSync(path.join(ROOT, folder, 'package.json'), 'utf8'));
    for (const dep of Object.keys(dependencies)) if (folders.has(dep)) visit(dep);
  };
  visit(workspace);
  return [...found].sort();
}

const log = (msg) => process.stderr.write(`[containers] ${msg}\n`);
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/**
 * The settings podman needs on this machine, or undefined when its defaults work. Machines
 * without systemd need cgroupfs and the file event log; root that cannot raise resource limits
 * (no CAP_SYS_RESOURCE) needs the current hard limits as the containers' defaults; runc works on
 * cgroup v1 hybrid layouts, where crun refuses.
 */
export function containersConf() {
  const limits = fs.readFileSync('/proc/self/limits', 'utf8');
  const hard = (name) => new RegExp(`^${name}\\s+\\S+\\s+(\\S+)`, 'm').exec(limits)?.[1];
  // At most the hard limits (raising needs CAP_SYS_RESOURCE) and at most podman's usual values
  // (runc refused nproc=96367, this machine's own hard limit, but takes 32768).
  const cap = (value, most) => String(value === undefined || value === 'unlimited' ? most : Math.min(Number(value), most));
  const ulimits = [
    ['nofile', cap(hard('Max open files'), 1048576)],
    ['nproc', cap(hard('Max processes'), 32768)],
  ].map(([name, value]) => `"${name}=${value}:${value}"`);
  const systemd = fs.existsSync('/run/systemd/system');
  return [
    '# Written by scripts/containers.mjs for this machine (see docs/deployment.md, "Containers").',
    '[containers]',
    ...(ulimits.length > 0 ? [`default_ulimits = [${ulimits.join(', ')}]`] : []),
    // Debian's catatonit (compose's `init: true`) is not where podman looks by default.
    ...(!fs.existsSync('/usr/libexec/podman/catatonit') && fs.existsSync('/usr/bin/catatonit') ? ['init_path = "/usr/bin/catatonit"'] : []),
    '[engine]',
    'runtime = "runc"',
    ...(systemd ? [] : ['cgroup_manager = "cgroupfs"', 'events_logger = "file"']),
    '',
  ].join('\n');
}

/** The containers.conf file podman is given (CONTAINERS_CONF) for every command run here. */
export function ensureContainersConf() {
  const file = path.join(WORK, 'containers.conf');
  const text = containersConf();
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
    fs.mkdirSync(WORK, { recursive: true });
    fs.writeFileSync(file, text);
  }
  return file;
}

/** The environment for podman and podman-compose: this machine's containers.conf. */
export function podmanEnv(env = process.env) {
  return { ...env, CONTAINERS_CONF: env.CONTAINERS_CONF ?? ensureContainersConf() };
}

function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: podmanEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${out.slice(-4000)}`))));
  });
}

const podman = (args, options) => run('podman', args, options);

async function imageExists(image) {
  try {
    await podman(['image', 'exists', image]);
    return true;
  } catch {
    return false;
  }
}

/** Files under `dir` (relative, sorted), skipping what the images leave out. */
function listFiles(dir, skip = () => false, prefix = '') {
  const out = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = path.posix.join(prefix, entry.name);
    if (skip(rel, entry)) continue;
    if (entry.isDirectory()) out.push(...listFiles(dir, skip, rel));
    else out.push(rel);
  }
  return out;
}

/** What the images leave out of the built output: type declarations, source maps, build info. */
const notRuntime = (rel) => /\.(d\.ts|d\.mts|map|tsbuildinfo)$/.test(rel);

// Content hashes of files by path, size and mtime, kept between runs: re-reading the 100 MB
// Node binary and the worker for every image made an unchanged build take minutes under load.
// Saved with only the entries this process used, so it does not grow with every rebuild.
const HASH_CACHE = path.join(WORK, 'file-hashes.json');
let hashCache;
const usedKeys = new Set();

/** The cached value under `key`, computed by `make` when missing. */
function cached(key, make) {
  hashCache ??= fs.existsSync(HASH_CACHE) ? JSON.parse(fs.readFileSync(HASH_CACHE, 'utf8')) : {};
  usedKeys.add(key);
  hashCache[key] ??= make();
  return hashCache[key];
}

function contentHash(file, stat) {
  return cached(`${file}\0${stat.size}\0${stat.mtimeMs}`, () => sha256(fs.readFileSync(file)));
}

function saveHashCache() {
  if (!hashCache) return;
  fs.mkdirSync(WORK, { recursive: true });
  fs.writeFileSync(HASH_CACHE, JSON.stringify(Object.fromEntries([...usedKeys].map((key) => [key, hashCache[key]]))));
}

/** Hash of a set of files (path, executable bit, content, or a symlink's target). */
function hashFiles(entries) {
  const hash = createHash('sha256');
  for (const [name, file] of entries) {
    const stat = fs.lstatSync(file);
    hash.update(`${name}\0${stat.mode & 0o111 ? 'x' : '-'}\0`);
    hash.update(stat.isSymbolicLink() ? `-> ${fs.readlinkSync(file)}` : contentHash(file, stat));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * The Debian packages that own the shared libraries `binary` links to (for the media image). One
 * `dpkg-query -S` for every spelling of every path (usrmerge: /lib vs /usr/lib, symlinks), kept in
 * the hash cache by the binary's content: a dpkg-query per path took seconds under load.
 */
function runtimePackages(binary) {
  return cached(`runtime-packages\0${contentHash(binary, fs.statSync(binary))}`, () => {
    const libs = execFileSync('ldd', [binary], { encoding: 'utf8' })
      .split('\n')
      .map((line) => /=>\s+(\/\S+)/.exec(line)?.[1])
      .filter(Boolean);
    const spellings = libs.map((lib) => {
      const real = fs.realpathSync(lib);
      return [...new Set([lib, real, real.replace(/^\/usr/, ''), lib.replace(/^\/lib/, '/usr/lib')])];
    });
    let out;
    try {
      out = execFileSync('dpkg-query', ['-S', ...spellings.flat()], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch (error) {
      // Exit 1 when some spelling is not dpkg's (expected: only one per library is); the rest is on stdout.
      out = String(error.stdout ?? '');
    }
    const owner = new Map(
      out
        .split('\n')
        .map((line) => /^([^:]+)(?::[^:]+)?: (\/.*)$/.exec(line))
        .filter(Boolean)
        .map((m) => [m[2], m[1]]),
    );
    const packages = new Set(spellings.map((names) => names.map((n) => owner.get(n)).find(Boolean)).filter(Boolean));
    // libc6, libstdc++6 and libgcc-s1 are in the base already.
    return [...packages].filter((p) => !['libc6', 'libstdc++6', 'libgcc-s1'].includes(p)).sort();
  });
}

/** The base image: Debian bookworm minbase from the archive, without docs, man pages or locales. */
export async function ensureBaseImage({ rebuild = false, prefix } = {}) {
  const base = baseImage(prefix);
  if (!rebuild && (await imageExists(base))) return;
  const done = step(`base image ${base} from Debian's archive (mmdebstrap; ~30 s idle, minutes under load)`);
  fs.mkdirSync(WORK, { recursive: true });
  const tar = path.join(WORK, 'debian-bookworm.tar');
  const sources = fs.existsSync('/etc/apt/sources.list.d/debian.sources') ? ['/etc/apt/sources.list.d/debian.sources'] : ['http://deb.debian.org/debian'];
  try {
    await run('mmdebstrap', [
      '--variant=minbase',
      '--quiet',
      '--aptopt=APT::Install-Recommends "false"',
      // Kept for every later apt-get in the images too (mmdebstrap writes them to dpkg.cfg.d).
      '--dpkgopt=path-exclude=/usr/share/man/*',
      '--dpkgopt=path-exclude=/usr/share/doc/*',
      '--dpkgopt=path-include=/usr/share/doc/*/copyright',
      '--dpkgopt=path-exclude=/usr/share/info/*',
      '--dpkgopt=path-exclude=/usr/share/locale/*',
      'bookworm',
      tar,
      ...sources,
    ]);
    await podman(['import', '--change', 'CMD ["/bin/bash"]', tar, base]);
  } finally {
    fs.rmSync(tar, { force: true });
  }
  done();
}

function nodeModulesKey(service) {
  const files = [
    ['package-lock.json', path.join(ROOT, 'package-lock.json')],
    ['package.json', path.join(ROOT, 'package.json')],
  ];
  for (const ws of JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).workspaces)
    files.push([`${ws}/package.json`, path.join(ROOT, ws, 'package.json')]);
  // The workspaces kept (their links) are part of what the folder holds.
  return `${service}-${sha256(`${hashFiles(files)}\n${workspacesOf(NODE_IMAGES[service].workspace).join(',')}`).slice(0, 16)}`;
}

/**
 * The production node_modules of one service: `npm ci --omit=dev` for its workspace, from the
 * lockfile, on the host (npm inside a build cannot verify the registry's TLS here), kept per
 * lockfile hash under build/containers/deps/.
 */
export async function ensureNodeModules(service) {
  const key = nodeModulesKey(service);
  const dir = path.join(WORK, 'deps', key);
  if (fs.existsSync(path.join(dir, 'node_modules', '.package-lock.json'))) return path.join(dir, 'node_modules');
  const done = step(`production node_modules for ${service} (npm ci --omit=dev from the lockfile)`);
  const scratch = `${dir}.tmp`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  for (const file of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, file), path.join(scratch, file));
  for (const ws of rootPackage.workspaces) {
    fs.mkdirSync(path.join(scratch, ws), { recursive: true });
    fs.copyFileSync(path.join(ROOT, ws, 'package.json'), path.join(scratch, ws, 'package.json'));
  }
  // --ignore-scripts: no install script is needed at run time (mediasoup's would build a worker;
  // the image gets the verified one).
  await run(
    'npm',
    [
      'ci',
      '--omit=dev',
      '--ignore-scripts',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `--workspace=${NODE_IMAGES[service].workspace}`,
    ],
    { cwd: scratch, env: { ...process.env } },
  );
  // Workspace links to packages the image does not hold (dev-only ones) would dangle.
  const links = path.join(scratch, 'node_modules', '@telemed');
  const kept = workspacesOf(NODE_IMAGES[service].workspace);
  for (const name of fs.readdirSync(links)) if (!kept.includes(path.basename(fs.readlinkSync(path.join(links, name))))) fs.rmSync(path.join(links, name));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.renameSync(path.join(scratch, 'node_modules'), path.join(dir, 'node_modules'));
  fs.rmSync(scratch, { recursive: true, force: true });
  done();
  return path.join(dir, 'node_modules');
}

/**
 * One image's build context as a list of [name in context, host file], and how to fill the rest
 * (node_modules, generated files) once the hash says a build is needed.
 */
async function contextOf(name) {
  const files = [[`${name}.Containerfile`, path.join(RECIPE, `${name}.Containerfile`)]];
  const add = (rel, host) => files.push([rel, host]);
  const generated = {};
  if (name === 'caddy') add('Caddyfile', path.join(ROOT, 'deploy', 'Caddyfile'));
  if (name === 'coturn') {
    add('turnserver.conf', path.join(ROOT, 'deploy', 'turnserver.conf'));
    add('coturn-entrypoint.sh', path.join(RECIPE, 'coturn-entrypoint.sh'));
  }
  if (name === 'postgres' || name === 'redis') add(`${name}-entrypoint.sh`, path.join(RECIPE, `${name}-entrypoint.sh`));
  if (name !== 'postgres') add('telemed-healthcheck', path.join(RECIPE, 'telemed-healthcheck'));
  const spec = NODE_IMAGES[name];
  if (spec) {
    add('node', process.execPath);
    add('telemed', path.join(RECIPE, 'telemed'));
    for (const script of SCRIPTS) add(`app/scripts/${script}`, path.join(ROOT, 'scripts', script));
    for (const pkg of workspacesOf(spec.workspace)) {
      add(`app/${pkg}/package.json`, path.join(ROOT, pkg, 'package.json'));
      const dist = path.join(ROOT, pkg, 'dist');
      if (!fs.existsSync(dist)) throw new Error(`${pkg}/dist is missing: run \`node scripts/setup.mjs start\` (or npm run build) first`);
      for (const rel of listFiles(dist, notRuntime)) add(`app/${pkg}/dist/${rel}`, path.join(dist, rel));
    }
    for (const folder of spec.extra) {
      const dir = path.join(ROOT, folder);
      if (!fs.existsSync(dir)) throw new Error(`${folder} is missing: run \`npm run build\` first`);
      for (const rel of listFiles(dir, notRuntime)) add(`app/${folder}/${rel}`, path.join(dir, rel));
    }
    // node_modules is a function of the lockfile and the workspace: its key stands for it.
    generated.nodeModulesKey = nodeModulesKey(name);
    if (name === 'media') {
      const worker = await ensureMediasoupWorker();
      add('mediasoup-worker', worker);
      generated.packages = `${runtimePackages(worker).join('\n')}\n`;
    }
  }
  return { files, generated };
}

async function stage(name, files, generated) {
  const dir = path.join(WORK, 'context', name);
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [rel, host] of files) {
    const target = path.join(dir, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(host, target);
    fs.chmodSync(target, fs.statSync(host).mode & 0o777);
  }
  if (generated.packages) fs.writeFileSync(path.join(dir, 'packages.txt'), generated.packages);
  if (generated.nodeModulesKey) fs.cpSync(await ensureNodeModules(name), path.join(dir, 'app', 'node_modules'), { recursive: true, verbatimSymlinks: true });
  return dir;
}

/** Each image's name (with its input-hash tag) and build context for this checkout, without building. */
async function plan(prefix) {
  const baseId = (await podman(['image', 'inspect', '--format', '{{.Id}}', baseImage(prefix)])).trim();
  const names = {};
  const contexts = {};
  for (const name of IMAGE_NAMES) {
    contexts[name] = await contextOf(name);
    const { files, generated } = contexts[name];
    const tag = sha256(`${baseId}\n${hashFiles(files)}\n${JSON.stringify(generated)}`).slice(0, 16);
    names[name] = `localhost/${imagePrefix(prefix)}-${name}:${tag}`;
  }
  saveHashCache();
  return { names, contexts };
}

/** The image name (with its input-hash tag) of each image for this checkout, without building. */
export async function imageNames({ prefix } = {}) {
  return (await plan(prefix)).names;
}

/**
 * Installs what is missing (podman, mmdebstrap, runc, podman-compose), makes the base image once,
 * then builds each image whose inputs changed, and removes that image's older tags (earlier
 * inputs) that no container uses, so repeated builds do not fill the disk. Resolves with the image
 * names and timings.
 * @param {{ latest?: boolean, prefix?: string }} [options]
 */
export async function ensureImages({ latest = false, prefix } = {}) {
  const started = Date.now();
  const installed = spawnSyncOk('bash', [path.join(ROOT, 'scripts', 'system-packages.sh'), 'containers']);
  if (!installed) throw new Error('could not install podman, mmdebstrap, runc and podman-compose (scripts/system-packages.sh containers)');
  // The production node_modules (npm, network) while mmdebstrap makes the base (disk, dpkg).
  await Promise.all([ensureBaseImage({ prefix }), ...Object.keys(NODE_IMAGES).map((service) => ensureNodeModules(service))]);
  const { names, contexts } = await plan(prefix);
  const built = [];
  // One build at a time: on 2 cores parallel apt/COPY steps only fight over the disk.
  for (const name of IMAGE_NAMES) {
    const image = names[name];
    if (await imageExists(image)) continue;
    const done = step(`image ${image}`);
    const { files, generated } = contexts[name];
    const dir = await stage(name, files, generated);
    await podman([
      'build',
      '--layers',
      '--quiet',
      '--label',
      `org.opencontainers.image.source=telemed/deploy/containers/${name}.Containerfile`,
      '--build-arg',
      `BASE=${baseImage(prefix)}`,
      '-f',
      path.join(dir, `${name}.Containerfile`),
      '-t',
      image,
      dir,
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
    built.push(name);
    await removeOlderTags(image);
    done();
  }
  if (latest) for (const name of IMAGE_NAMES) await podman(['tag', names[name], `localhost/${imagePrefix(prefix)}-${name}:latest`]);
  return { images: names, built, seconds: (Date.now() - started) / 1000 };
}

/** Untags the other input-hash tags of `image`'s repository (not :latest); podman keeps those a container uses. */
async function removeOlderTags(image) {
  const repository = image.slice(0, image.lastIndexOf(':'));
  const tags = (await podman(['images', '--noheading', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${repository}`]))
    .split('\n')
    .map((line) => line.trim());
  for (const tag of tags) {
    if (!tag.startsWith(`${repository}:`) || tag === image || tag.endsWith(':latest')) continue;
    await podman(['rmi', tag]).catch(() => log(`kept ${tag} (a container uses it)`));
  }
}

function spawnSyncOk(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    return true;
  } catch {
    return false;
  }
}

/** KEY=value lines for compose: TELEMED_API_IMAGE=localhost/telemed-api:<tag>, … */
export function imagesEnv(images) {
  return Object.fromEntries(Object.entries(images).map(([name, image]) => [`TELEMED_${name.toUpperCase()}_IMAGE`, image]));
}

export const COMPOSE_FILE = path.join(ROOT, 'deploy', 'compose.yaml');
/** coturn's TURN over TLS listener, added when the settings name TURN_TLS_ADDRESS. */
export const COMPOSE_TURN_TLS_FILE = path.join(ROOT, 'deploy', 'compose.turn-tls.yaml');

/** The `-f` arguments for these settings (composeEnv's result): the stack, and TURN over TLS when configured. */
export function composeFileArgs(env) {
  return ['-f', COMPOSE_FILE, ...(env.TURN_TLS_ADDRESS ? ['-f', COMPOSE_TURN_TLS_FILE] : [])];
}

/**
 * The environment podman-compose interpolates deploy/compose.yaml with: the config file's values
 * (each service picks its own), the file itself for the API and media server (env_file), the
 * image names, and the published ICE ports TELEMED_RTC_PORTS (MEDIA_RTC_BASE_PORT, or the range up to
 * MEDIA_RTC_BASE_PORT + MEDIA_NUM_WORKERS - 1).
 * @param {{ configFile: string, images?: Record<string, string>, env?: Record<string, string | undefined> }} options
 */
export function composeEnv({ configFile, images, env = process.env }) {
  const settings = parseEnvFile(fs.readFileSync(configFile, 'utf8'), configFile);
  const merged = { ...settings, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
  const base = Number(merged.MEDIA_RTC_BASE_PORT ?? 40000);
  const workers = Number(merged.MEDIA_NUM_WORKERS ?? 2);
  return podmanEnv({
    ...merged,
    TELEMED_CONFIG_FILE: path.resolve(configFile),
    TELEMED_RTC_PORTS: merged.TELEMED_RTC_PORTS ?? (workers > 1 ? `${base}-${base + workers - 1}` : String(base)),
    ...(images ? imagesEnv(images) : {}),
  });
}

/**
 * `podman-compose -p PROJECT -f deploy/compose.yaml ARGS` with composeEnv(); resolves with its output.
 * `netns`: run it inside that named network namespace, where podman then makes the stack's bridge
 * and publishes its ports. Entered with nsenter, network only: `ip netns exec` also mounts a new
 * /sys, which hides the cgroup mounts runc needs ("no cgroup mount found in mountinfo").
 */
export function compose({ project, args, netns, ...options }) {
  const env = composeEnv(options);
  const command = ['podman-compose', '--no-ansi', '-p', project, ...composeFileArgs(env), ...args];
  return netns ? run('nsenter', [`--net=/run/netns/${netns}`, ...command], { env }) : run(command[0], command.slice(1), { env });
}

/** The settings the Kubernetes pod gets (Secret telemed-env): the file's, plus the URLs of PostgreSQL and Redis beside it. */
export function kubeEnv(settings) {
  const need = ['POSTGRES_PASSWORD', 'REDIS_PASSWORD'].filter((key) => !settings[key]);
  if (need.length > 0) throw new Error(`${need.join(' and ')} missing: the containers' database and Redis passwords (\`telemed secrets\` prints them)`);
  return {
    ...settings,
    DATABASE_URL: settings.DATABASE_URL ?? `postgres://telemed:${encodeURIComponent(settings.POSTGRES_PASSWORD)}@127.0.0.1:5432/telemed`,
    REDIS_URL: settings.REDIS_URL ?? `redis://:${encodeURIComponent(settings.REDIS_PASSWORD)}@127.0.0.1:6379`,
  };
}

/** `env` with base64 values: a Kubernetes Secret's `data`. */
function secretData(env) {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, Buffer.from(value).toString('base64')]));
}

/** A Kubernetes Secret manifest holding `env` (for `kubectl apply`), written as JSON, which YAML readers take. */
export function kubeSecretYaml(name, env) {
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', data: secretData(env) }, null, 2)}\n`;
}

/**
 * `env` as podman 4.3's `kube play` reads a secret named by `secretRef`/`secretKeyRef`: only the
 * Secret's `data`, a JSON map of base64 values (`podman secret create NAME FILE`). Given a whole
 * Secret manifest it fails with "secret … is not valid JSON: illegal base64 data at input byte 0".
 */
export function podmanKubeSecretJson(env) {
  return `${JSON.stringify(secretData(env))}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [command, ...rest] = process.argv.slice(2);
  try {
    if (command === 'build') {
      const { images, built, seconds } = await ensureImages({ latest: rest.includes('--latest') });
      log(`${built.length > 0 ? `built ${built.join(', ')}` : 'every image up to date'} in ${seconds.toFixed(1)} s`);
      process.stdout.write(
        `${Object.entries(imagesEnv(images))
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')}\n`,
      );
    } else if (command === 'images') {
      process.stdout.write(
        `${Object.entries(imagesEnv(await imageNames()))
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')}\n`,
      );
    } else if (command === 'compose') {
      const split = rest.indexOf('--');
      const own = split >= 0 ? rest.slice(0, split) : rest;
      const args = split >= 0 ? rest.slice(split + 1) : [];
      const option = (name, fallback) => (own.includes(name) ? own[own.indexOf(name) + 1] : fallback);
      const images = option('--images', 'latest') === 'built' ? await imageNames() : undefined;
      const env = composeEnv({ configFile: option('--config', process.env.TELEMED_CONFIG ?? DEFAULT_CONFIG_FILE), images });
      const child = spawn('podman-compose', ['-p', option('--project', 'telemed'), ...composeFileArgs(env), ...args], { stdio: 'inherit', env });
      child.on('exit', (code) => process.exit(code ?? 1));
    } else if (command === 'kube-env' || command === 'kube-secret') {
      const option = (name, fallback) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : fallback);
      const file = option('--config', process.env.TELEMED_CONFIG ?? DEFAULT_CONFIG_FILE);
      const env = kubeEnv(parseEnvFile(fs.readFileSync(file, 'utf8'), file));
      process.stdout.write(
        command === 'kube-secret'
          ? rest.includes('--podman')
            ? podmanKubeSecretJson(env)
            : kubeSecretYaml(option('--name', 'telemed-env'), env)
          : `${Object.entries(env)
              .map(([k, v]) => `${k}=${v}`)
              .join('\n')}\n`,
      );
    } else if (command === 'conf') {
      process.stdout.write(`${ensureContainersConf()}\n`);
    } else {
      process.stderr.write('usage: node scripts/containers.mjs build [--latest] | images | conf | compose … | kube-env | kube-secret [--podman]\n');
      process.exit(64);
    }
  } catch (error) {
    log(`FAILED: ${error.message}`);
    process.exit(1);
  }
}
