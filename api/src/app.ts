import http from 'node:http';
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import serve from 'koa-static';
import { parseConfig, type ApiConfig, type ApiOptions } from './config.js';
import { healthRouter } from './health/health.controller.js';
import { errorMiddleware } from './http/errors.js';
import { createLogger, type Logger } from './logger.js';
import { devRoomTokenRouter } from './room-token/dev-room-token.controller.js';

/** The API process: a Koa app with start()/stop(). */
export class App {
  readonly config: ApiConfig;
  readonly logger: Logger;
  readonly koa: Koa;
  #server: http.Server | undefined;

  constructor(options: ApiOptions, logger?: Logger) {
    this.config = parseConfig(options);
    this.logger = logger ?? createLogger(this.config.logLevel);
    this.koa = this.#build();
  }

  #build(): Koa {
    const { config, logger } = this;
    const app = new Koa({ proxy: false });
    app.use(async (ctx, next) => {
      const started = performance.now();
      const requestId = ctx.get('x-request-id') || randomUUID();
      ctx.set('x-request-id', requestId);
      ctx.set('x-content-type-options', 'nosniff');
      ctx.set('referrer-policy', 'no-referrer');
      ctx.set('x-frame-options', 'DENY');
      await next();
      logger.info({ requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, 'request');
    });
    app.use(errorMiddleware(logger));
    const routers = [healthRouter({ mediaInternalUrl: config.mediaInternalUrl, startedAt: new Date() })];
    if (config.mode !== 'production') {
      routers.push(devRoomTokenRouter({ secret: config.roomTokenSecret, ttlSeconds: config.roomTokenTtlSeconds, mediaPublicUrl: config.mediaPublicUrl }));
    }
    for (const router of routers) app.use(router.routes()).use(router.allowedMethods());
    if (config.staticDir) app.use(serve(config.staticDir, { maxage: 0 }));
    return app;
  }

  get port(): number {
    const address = this.#server?.address();
    if (!address || typeof address !== 'object') throw new Error('the API is not listening');
    return address.port;
  }

  async start(): Promise<void> {
    const server = http.createServer(this.koa.callback());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => resolve());
    });
    this.#server = server;
    this.logger.info({ host: this.config.host, port: this.port, mode: this.config.mode }, 'api listening');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
