import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    name: 'media-server',
    level,
    // Room tokens travel in the signaling URL: never log them.
    redact: { paths: ['token', '*.token', 'url', '*.url'], censor: '[redacted]' },
  });
}
