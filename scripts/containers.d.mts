/** The image name prefix: `prefix`, else TELEMED_IMAGE_PREFIX, else `telemed` (localhost/telemed-api:…). */
export function imagePrefix(prefix?: string): string;
/** localhost/<prefix>-debian:bookworm */
export function baseImage(prefix?: string): string;
export const IMAGE_NAMES: readonly string[];
export const COMPOSE_FILE: string;
/** The containers.conf settings this machine needs (runtime, cgroups, event log, ulimits). */
export function containersConf(): string;
export function ensureContainersConf(): string;
/** `env` plus CONTAINERS_CONF for podman and podman-compose. */
export function podmanEnv(env?: Record<string, string | undefined>): Record<string, string>;
export function ensureBaseImage(options?: { rebuild?: boolean; prefix?: string }): Promise<void>;
/** This checkout's image names (input-hash tags), without building. */
export function imageNames(options?: { prefix?: string }): Promise<Record<string, string>>;
/** Builds what changed (and drops that image's older tags); `built` names the images that were not cached. */
export function ensureImages(options?: { latest?: boolean; prefix?: string }): Promise<{ images: Record<string, string>; built: string[]; seconds: number }>;
export function imagesEnv(images: Record<string, string>): Record<string, string>;
export function composeEnv(options: { configFile: string; images?: Record<string, string>; env?: Record<string, string | undefined> }): Record<string, string>;
/** `-f` arguments: deploy/compose.yaml, and deploy/compose.turn-tls.yaml when `env` names TURN_TLS_ADDRESS. */
export function composeFileArgs(env: Record<string, string | undefined>): string[];
export function compose(options: {
  project: string;
  args: string[];
  configFile: string;
  /** A network namespace to run podman-compose in (`ip netns exec`). */
  netns?: string;
  images?: Record<string, string>;
  env?: Record<string, string | undefined>;
}): Promise<string>;
export function kubeEnv(settings: Record<string, string>): Record<string, string>;
export function kubeSecretYaml(name: string, env: Record<string, string>): string;
export function podmanKubeSecretJson(env: Record<string, string>): string;
export function ensureNodeModules(service: 'api' | 'media'): Promise<string>;
