import { z } from 'zod';

const ConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(3000),
  /** `production` disables demo-only routes (dev room tokens, demo seed). */
  mode: z.enum(['development', 'production', 'test']).default('development'),
  /** HS256 secret shared with the media server. */
  roomTokenSecret: z.string().min(16, 'ROOM_TOKEN_SECRET must be at least 16 characters'),
  roomTokenTtlSeconds: z.coerce.number().int().min(10).max(86_400).default(3600),
  /** The media server's signaling URL as browsers reach it, and its HTTP base as the API does. */
  mediaPublicUrl: z.string().url().default('ws://127.0.0.1:4443/rtc'),
  mediaInternalUrl: z.string().url().default('http://127.0.0.1:4443'),
  /** Folder of static files (the built demo app) served at `/`. */
  staticDir: z.string().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ApiConfig = z.infer<typeof ConfigSchema>;
export type ApiOptions = z.input<typeof ConfigSchema>;

export function parseConfig(options: ApiOptions): ApiConfig {
  return ConfigSchema.parse(options);
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const pick = (key: string): string | undefined => (env[key] === '' ? undefined : env[key]);
  return parseConfig({
    host: pick('API_HOST'),
    port: pick('API_PORT') as unknown as number,
    mode: (pick('TELEMED_MODE') ?? (env.NODE_ENV === 'production' ? 'production' : undefined)) as ApiConfig['mode'] | undefined,
    roomTokenSecret: pick('ROOM_TOKEN_SECRET') as string,
    roomTokenTtlSeconds: pick('ROOM_TOKEN_TTL') as unknown as number,
    mediaPublicUrl: pick('MEDIA_PUBLIC_URL'),
    mediaInternalUrl: pick('MEDIA_INTERNAL_URL'),
    staticDir: pick('STATIC_DIR'),
    logLevel: pick('LOG_LEVEL') as ApiConfig['logLevel'] | undefined,
  });
}
