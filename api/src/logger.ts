import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    name: 'api',
    level,
    redact: {
      paths: ['token', '*.token', 'password', '*.password', 'req.headers.authorization', 'headers.authorization', 'body'],
      censor: '[redacted]',
    },
  });
}
