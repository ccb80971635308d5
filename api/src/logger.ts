import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** JSON logs to stdout (or `destination`), with credentials and bodies redacted wherever they appear. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name: 'api',
    level,
    redact: {
      paths: ['token', '*.token', 'password', '*.password', 'req.headers.authorization', 'headers.authorization', 'body'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
