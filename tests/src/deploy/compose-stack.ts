// deploy/compose.yaml as a test (or a network test bed) runs it: the images built (cached by input
// hash), an env file with fresh strong secrets, a certificate the caller's CA signed, Caddy's HTTPS
// and the media server's ICE ports published on one address, then `podman-compose up -d` under a
// project name of our own (PODMAN_PREFIX-…) and a wait on /health through Caddy. stop() tears everything
// down: containers (`down -t 1`), volumes and the project's network, also after a failed start.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePortRange, waitFor } from '@telemed/test-kit';
import { compose, ensureImages, podmanEnv } from '../../../scripts/containers.mjs';
import { runAsync } from '../network/netns.js';
import { strongSecrets, writeEnvFile } from './production.js';

/**
 * The prefix of every podman name the container tests make: projects (and so containers, volumes,
 * networks), pods, secrets and images (`<prefix>-telemed-api:<hash>`, apart from an operator's
 * `telemed-*`). TELEMED_TEST_PODMAN_PREFIX gives each engineer on a shared machine their own.
 */
export const PODMAN_PREFIX = process.env.TELEMED_TEST_PODMAN_PREFIX ?? 'tmct';

export const COMPOSE_SERVICES = ['postgres', 'redis', 'api', 'media', 'caddy', 'coturn'] as const;
export type ComposeService = (typeof COMPOSE_SERVICES)[number];

export interface StackOptions {
  /** The host name browsers use; the certificate must name it. Default telemed.test. */
  host?: string;
  /** The CA that signed `cert` (to verify Caddy while waiting for /health). */
  caCert: string;
  cert: string;
  key: string;
  /** Where Caddy, the ICE ports and coturn listen on this machine (default 127.0.0.1). */
  address?: string;
  /** Published ports (default: a free block on this machine). */
  ports?: ContainerStack['ports'];
  /** coturn's own address (its TURN and relay ports, and TURN over TLS); default `address`. */
  turnAddress?: string;
  /** TURN over TLS (deploy/compose.turn-tls.yaml) published on turnAddress:port, with `cert` (which must also name the TURN host). */
  turnTls?: { port: number };
  /** A network namespace (a test bed's host) that podman runs the stack in; requests are then made from inside it too. */
  netns?: string;
  /** Settings added to (and winning over) the generated env file. */
  settings?: Record<string, string>;
  /** Project (compose) or resource-name prefix (kube); must start with PODMAN_PREFIX- (default PODMAN_PREFIX-<random>). */
  project?: string;
  startTimeoutMs?: number;
}

export interface ComposeStackOptions extends StackOptions {
  /** An env file of the caller's instead of a generated one. */
  envFile?: string;
}

export interface StackRequest {
  path: string;
  method?: string;
  /** Sent as JSON; a Buffer is sent as it is (give its content-type in `headers`). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface StackResponse {
  status: number;
  body: string;
}

/** What both container stacks (compose, kube) offer a test. */
export interface ContainerStack {
  project: string;
  origin: string;
  host: string;
  ports: { https: number; http: number; rtc: number; turn: number };
  images: Record<string, string>;
  /** Seconds: image build (a few when cached), `up`/`play`, until /health answered through Caddy. */
  timings: { images: number; up: number; healthy: number };
  exec(service: ComposeService, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  logs(service: ComposeService): Promise<string>;
  /** `podman healthcheck run`: the service's own check from the compose file or manifest, run now (exit 0: healthy). */
  healthcheck(service: ComposeService): Promise<{ code: number; stdout: string; stderr: string }>;
  /** A request through Caddy over HTTPS, verifying its certificate against the CA. */
  request(options: StackRequest): Promise<StackResponse>;
  stop(): Promise<void>;
}

export interface ComposeStack extends ContainerStack {
  envFile: string;
  container(service: ComposeService): string;
  /**
   * `down` (containers and network removed, volumes kept) then `up -d` and the wait for /health:
   * what an upgrade does. Resolves with the seconds until healthy again.
   */
  recreate(): Promise<number>;
  /** `podman stop -t graceSeconds`: SIGTERM, SIGKILL after the grace; the exit code and how long it took. */
  stopService(service: ComposeService, graceSeconds: number): Promise<{ exitCode: number; seconds: number }>;
}

export function podman(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('podman', args, { env: podmanEnv(), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

/**
 * The shared start of both stacks: project name, images, a scratch folder with the certificate
 * (readable by the image's caddy user), a block of free ports and the settings of a generated env
 * file (fresh strong secrets, the public URL, where everything listens).
 */
export async function prepareStack(options: StackOptions): Promise<{
  project: string;
  host: string;
  address: string;
  dir: string;
  certDir: string;
  images: Record<string, string>;
  imagesSeconds: number;
  ports: ContainerStack['ports'];
  settings: Record<string, string>;
}> {
  const project = options.project ?? `${PODMAN_PREFIX}-${randomBytes(3).toString('hex')}`;
  if (!project.startsWith(`${PODMAN_PREFIX}-`)) throw new Error(`container stack ${project}: names must start with ${PODMAN_PREFIX}-`);
  const host = options.host ?? 'telemed.test';
  const address = options.address ?? '127.0.0.1';
  const turnAddress = options.turnAddress ?? address;
  const started = Date.now();
  const { images } = await ensureImages({ prefix: `${PODMAN_PREFIX}-telemed` });
  const imagesSeconds = (Date.now() - started) / 1000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${project}-`));
  const certDir = path.join(dir, 'certs');
  fs.mkdirSync(certDir, { mode: 0o755 });
  fs.copyFileSync(options.cert, path.join(certDir, 'cert.pem'));
  fs.copyFileSync(options.key, path.join(certDir, 'key.pem'));
  for (const file of ['cert.pem', 'key.pem']) fs.chmodSync(path.join(certDir, file), 0o644);
  // One block: HTTPS, HTTP, one ICE port (one worker), TURN, then TURN's 21 relay ports.
  const base = options.ports ? 0 : await freePortRange(25);
  const ports = options.ports ?? { https: base, http: base + 1, rtc: base + 2, turn: base + 3 };
  const origin = stackOrigin(host, ports.https);
  const settings: Record<string, string> = {
    ...strongSecrets(),
    TURN_SECRET: randomBytes(32).toString('base64url'),
    POSTGRES_PASSWORD: randomBytes(24).toString('base64url'),
    REDIS_PASSWORD: randomBytes(24).toString('base64url'),
    PUBLIC_URL: origin,
    ANNOUNCED_IP: address,
    TURN_URLS: `turn:${host}:${ports.turn}?transport=udp`,
    TURN_PORT: String(ports.turn),
    TURN_ADDRESS: turnAddress,
    TURN_EXTERNAL_IP: turnAddress,
    // coturn relays to the media server's published port, on the announced address.
    TURN_ALLOWED_PEER_IP: address,
    // The same certificate as Caddy's (the test CA's names both hosts).
    ...(options.turnTls ? { TURN_TLS_ADDRESS: `${turnAddress}:${options.turnTls.port}`, TURN_CERT_DIR: certDir } : {}),
    TURN_MIN_PORT: String(ports.turn + 1),
    TURN_MAX_PORT: String(ports.turn + 21),
    TELEMED_DOMAIN: host,
    TELEMED_TLS: '/etc/caddy/certs/cert.pem /etc/caddy/certs/key.pem',
    TELEMED_CERT_DIR: certDir,
    TELEMED_HTTPS_ADDRESS: `${address}:${ports.https}`,
    TELEMED_HTTP_ADDRESS: `${address}:${ports.http}`,
    TELEMED_RTC_ADDRESS: address,
    MEDIA_RTC_BASE_PORT: String(ports.rtc),
    MEDIA_NUM_WORKERS: '1',
    CADDY_GLOBAL_OPTIONS: 'admin off',
    ...options.settings,
  };
  return { project, host, address, dir, certDir, images, imagesSeconds, ports, settings };
}

/** The browsers' origin: https://host, with the port unless it is 443. */
export function stackOrigin(host: string, port: number): string {
  return new URL(`https://${host}:${port}`).origin;
}

/**
 * stackRequester's twin for a stack inside a network namespace: each request is a short node
 * process in there, so the test process itself needs no route into the bed.
 */
export function namespaceRequester(options: { netns: string; address: string; port: number; host: string; caCert: string }): ContainerStack['request'] {
  const script = `
    import fs from 'node:fs';
    import https from 'node:https';
    const [o, req] = [JSON.parse(process.argv[1]), JSON.parse(process.argv[2])];
    const payload = req.body === undefined ? undefined : req.raw ? Buffer.from(req.body, 'base64') : JSON.stringify(req.body);
    const r = https.request({ host: o.address, port: o.port, servername: o.host, path: req.path, method: req.method ?? 'GET', ca: fs.readFileSync(o.caCert), timeout: 15000,
      headers: { host: o.port === 443 ? o.host : o.host + ':' + o.port, ...(payload && !req.raw ? { 'content-type': 'application/json' } : {}), ...req.headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, body })));
    });
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', (error) => { process.stderr.write(error.message); process.exit(1); });
    r.end(payload);`;
  return async (req) => {
    const raw = Buffer.isBuffer(req.body);
    const body = raw ? (req.body as Buffer).toString('base64') : req.body;
    const out = await runAsync(options.netns, process.execPath, [
      '--input-type=module',
      '-e',
      script,
      JSON.stringify(options),
      JSON.stringify({ ...req, body, raw }),
    ]);
    return JSON.parse(out) as StackResponse;
  };
}

/** Requests to Caddy at address:port for `host`, trusting only `caCert`. */
export function stackRequester(options: { address: string; port: number; host: string; caCert: string }): ContainerStack['request'] {
  const ca = fs.readFileSync(options.caCert);
  return (req) =>
    new Promise((resolve, reject) => {
      const raw = Buffer.isBuffer(req.body);
      const payload = req.body === undefined ? undefined : raw ? (req.body as Buffer) : JSON.stringify(req.body);
      const r = https.request(
        {
          host: options.address,
          port: options.port,
          servername: options.host,
          path: req.path,
          method: req.method ?? 'GET',
          ca,
          headers: {
            host: options.port === 443 ? options.host : `${options.host}:${options.port}`,
            ...(payload && !raw ? { 'content-type': 'application/json' } : {}),
            ...req.headers,
          },
          timeout: 15_000,
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      r.on('timeout', () => r.destroy(new Error('timeout')));
      r.on('error', reject);
      r.end(payload);
    });
}

/**
 * Polls /health through Caddy until it says ok: the containers' own health checks need systemd
 * to run periodically (their status stays `starting` here).
 */
export async function waitForStackHealth(
  request: ContainerStack['request'],
  timeoutMs: number,
  logs: (service: ComposeService) => Promise<string>,
): Promise<void> {
  const describe = async (): Promise<string> => (await Promise.all(COMPOSE_SERVICES.map(async (s) => `--- ${s}\n${(await logs(s)).slice(-1500)}`))).join('\n');
  let last = 'no answer';
  try {
    await waitFor(
      'the stack healthy through Caddy',
      async () => {
        try {
          const res = await request({ path: '/health' });
          if (res.status === 200 && (JSON.parse(res.body) as { status?: string }).status === 'ok') return true;
          last = `HTTP ${res.status} ${res.body.slice(0, 200)}`;
        } catch (error) {
          last = (error as Error).message;
        }
        return false;
      },
      { timeoutMs, intervalMs: 500, lastSeen: () => last },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}:\n${await describe()}`);
  }
}

export async function startComposeStack(options: ComposeStackOptions): Promise<ComposeStack> {
  const { project, host, address, dir, images, imagesSeconds, ports, settings } = await prepareStack(options);
  const envFile = options.envFile ?? path.join(dir, 'telemed.env');
  if (!options.envFile) writeEnvFile(envFile, settings);

  const run = (args: string[]): Promise<string> =>
    compose({
      project,
      args,
      configFile: envFile,
      images,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      ...(options.netns ? { netns: options.netns } : {}),
    });
  const stop = async (): Promise<void> => {
    await run(['down', '-t', '1', '-v']).catch((error: Error) => process.stderr.write(`[compose-stack] down: ${error.message}\n`));
    await podman(['network', 'rm', '-f', `${project}_default`]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const target = { address, port: ports.https, host, caCert: options.caCert };
  const request = options.netns ? namespaceRequester({ netns: options.netns, ...target }) : stackRequester(target);
  const container = (service: ComposeService): string => `${project}_${service}_1`;
  const logs = async (service: ComposeService): Promise<string> => {
    const out = await podman(['logs', container(service)]);
    return out.stdout + out.stderr;
  };

  const timeoutMs = options.startTimeoutMs ?? 240_000;
  // podman-compose goes on after a service fails to start: its output says why.
  let upOutput = '';
  const up = async (): Promise<void> => {
    upOutput = await run(['up', '-d']);
  };
  const logsAndUp = async (service: ComposeService): Promise<string> => {
    const text = await logs(service);
    return /no such container/.test(text)
      ? `${text}\n(podman-compose up: ${upOutput
          .split('\n')
          .filter((l) => /Error|exit code: [1-9]/.test(l))
          .join(' | ')})`
      : text;
  };

  const upStarted = Date.now();
  let upSeconds = 0;
  try {
    await up();
    upSeconds = (Date.now() - upStarted) / 1000;
    await waitForStackHealth(request, timeoutMs, logsAndUp);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    project,
    origin: stackOrigin(host, ports.https),
    host,
    ports,
    envFile,
    images,
    timings: { images: imagesSeconds, up: upSeconds, healthy: (Date.now() - upStarted) / 1000 },
    container,
    recreate: async () => {
      const t0 = Date.now();
      await run(['down', '-t', '1']);
      await podman(['network', 'rm', '-f', `${project}_default`]);
      await up();
      await waitForStackHealth(request, timeoutMs, logsAndUp);
      return (Date.now() - t0) / 1000;
    },
    exec: (service, args, input) => podman(['exec', ...(input === undefined ? [] : ['-i']), container(service), ...args], input),
    healthcheck: (service) => podman(['healthcheck', 'run', container(service)]),
    logs,
    stopService: async (service, graceSeconds) => {
      const t0 = Date.now();
      await podman(['stop', '-t', String(graceSeconds), container(service)]);
      const seconds = (Date.now() - t0) / 1000;
      const inspected = await podman(['inspect', '--format', '{{.State.ExitCode}}', container(service)]);
      return { exitCode: Number(inspected.stdout.trim()), seconds };
    },
    request,
    stop,
  };
}
