import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** The request being served: every line logged while serving it carries its `requestId`. */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();

/** JSON logs to stdout (or `destination`), with credentials and bodies redacted wherever they appear. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name: 'api',
    level,
    redact: {
      paths: ['token', '*.token', 'password', '*.password', 'req.headers.authorization', 'headers.authorization', 'body'],
      censor: '[redacted]',
    },
    mixin: () => {
      const context = requestContext.getStore();
      return context ? { requestId: context.requestId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
