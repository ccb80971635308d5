// deploy/kubernetes/telemed.yaml under `podman kube play`, rendered for a test: resource names
// prefixed with the project (PODMAN_PREFIX-…), the images built for this checkout, the host ports and
// address of a free block, the certificate folder; the Secret from a generated env file
// (`podman secret create`, as the guide does). stop() plays it --down and removes the volumes and
// the secret, also after a failed start.
import fs from 'node:fs';
import path from 'node:path';
import { kubeEnv, podmanKubeSecretJson } from '../../../scripts/containers.mjs';
import {
  podman,
  prepareStack,
  stackOrigin,
  stackRequester,
  waitForStackHealth,
  type ComposeService,
  type ContainerStack,
  type StackOptions,
} from './compose-stack.js';
import { ROOT } from './production.js';

export const KUBE_MANIFEST = path.join(ROOT, 'deploy', 'kubernetes', 'telemed.yaml');

export type KubeStack = ContainerStack;

const VOLUMES = ['postgres', 'api', 'media', 'caddy'].map((name) => `telemed-${name}-data`);

/** The manifest with this stack's names, images, ports, address and certificate folder (Caddy's and coturn's: one test certificate serves both). */
export function renderManifest(
  text: string,
  values: { project: string; images: Record<string, string>; address: string; ports: ContainerStack['ports']; certDir: string },
): string {
  return text
    .replace(/localhost\/telemed-(\w+):latest/g, (all, name: string) => values.images[name] ?? all)
    .replace(/telemed-(env|turn|postgres-data|api-data|media-data|caddy-data)\b/g, `${values.project}-$1`)
    .replace(/^(\s+name: )telemed$/gm, `$1${values.project}`)
    .replace(/hostIP: 0\.0\.0\.0/g, `hostIP: ${values.address}`)
    .replace(/hostPort: 443\b/g, `hostPort: ${values.ports.https}`)
    .replace(/hostPort: 80\b/g, `hostPort: ${values.ports.http}`)
    .replace(/\b40000\b/g, String(values.ports.rtc))
    .replace('path: /etc/telemed/certs', `path: ${values.certDir}`)
    .replace('path: /etc/telemed/turn-certs', `path: ${values.certDir}`);
}

export async function startKubeStack(options: StackOptions): Promise<KubeStack> {
  const { project, host, address, dir, certDir, images, imagesSeconds, ports, settings } = await prepareStack(options);
  const manifest = path.join(dir, 'telemed.yaml');
  fs.writeFileSync(manifest, renderManifest(fs.readFileSync(KUBE_MANIFEST, 'utf8'), { project, images, address, ports, certDir }));
  const secretFile = path.join(dir, 'secret.json');
  fs.writeFileSync(secretFile, podmanKubeSecretJson(kubeEnv(settings)), { mode: 0o600 });

  const containers = async (): Promise<string[]> =>
    (await podman(['ps', '-a', '--format', '{{.Names}}', '--filter', `name=^${project}-`])).stdout.split('\n').filter(Boolean);
  const container = async (service: ComposeService): Promise<string> => {
    const name = (await containers()).find((n) => n.endsWith(`-${service}`));
    if (!name) throw new Error(`no ${service} container in ${project}`);
    return name;
  };
  const logs = async (service: ComposeService): Promise<string> => {
    const out = await podman(['logs', await container(service).catch(() => 'none')]);
    return out.stdout + out.stderr;
  };
  const stop = async (): Promise<void> => {
    const down = await podman(['kube', 'play', '--down', manifest]);
    if (down.code !== 0) process.stderr.write(`[kube-stack] play --down: ${down.stderr}\n`);
    // What --down leaves when a play failed half-way (it stops at the first pod it cannot find).
    const pods = (await podman(['pod', 'ps', '--format', '{{.Name}}', '--filter', `name=^${project}-`])).stdout.split('\n').filter(Boolean);
    for (const pod of pods) await podman(['pod', 'rm', '-f', '-t', '1', pod]);
    for (const name of await containers()) await podman(['rm', '-f', '-t', '1', name]);
    for (const volume of VOLUMES) await podman(['volume', 'rm', '-f', volume.replace('telemed-', `${project}-`)]);
    await podman(['secret', 'rm', `${project}-env`]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const request = stackRequester({ address, port: ports.https, host, caCert: options.caCert });
  const started = Date.now();
  let upSeconds = 0;
  try {
    const secret = await podman(['secret', 'create', `${project}-env`, secretFile]);
    if (secret.code !== 0) throw new Error(`podman secret create: ${secret.stderr}`);
    const played = await podman(['kube', 'play', manifest]);
    if (played.code !== 0) throw new Error(`podman kube play: ${played.stderr}\n${played.stdout}`);
    upSeconds = (Date.now() - started) / 1000;
    await waitForStackHealth(request, options.startTimeoutMs ?? 240_000, logs);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    project,
    origin: stackOrigin(host, ports.https),
    host,
    ports,
    images,
    timings: { images: imagesSeconds, up: upSeconds, healthy: (Date.now() - started) / 1000 },
    exec: async (service, args, input) => podman(['exec', ...(input === undefined ? [] : ['-i']), await container(service), ...args], input),
    healthcheck: async (service) => podman(['healthcheck', 'run', await container(service)]),
    logs,
    request,
    stop,
  };
}
