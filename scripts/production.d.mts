export const DEFAULT_CONFIG_FILE: string;
export const SECRETS: Record<string, string>;
/** Fresh secrets in env-file form (`KEY=value` lines). */
export function freshSecrets(options?: { containers?: boolean }): string;
export function parseEnvFile(text: string, file?: string): Record<string, string>;
export function loadSettings(options?: { file?: string; env?: Record<string, string | undefined> }): {
  settings: Record<string, string>;
  file: string | undefined;
};
/** Why `value` is not an acceptable secret, or undefined when it is. */
export function secretWeakness(value: string): string | undefined;
/** Where an installation keeps its data (TELEMED_DATA_DIR, DATABASE_DIR, ATTACHMENTS_DIR). */
export function dataPaths(settings: Record<string, string>): { dataDir: string; databaseDir: string; attachmentsDir: string };
export class ProductionConfigError extends Error {
  readonly problems: string[];
}
export function productionPlan(settings: Record<string, string>): {
  publicUrl: string;
  dataDir: string;
  drainMs: number;
  options: import('./platform.d.mts').PlatformOptions & { apiEnv: Record<string, string>; mediaEnv: Record<string, string> };
};
